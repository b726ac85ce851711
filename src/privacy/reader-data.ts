import type { Database_ } from '../db/client.js';
import { emailHash } from '../bounces/suppression.js';
import { consentLog, deleteSubscriber, findByEmail, findById, type Subscriber } from '../subscribers/subscriber-repo.js';

// Readers' data rights (issue 16): everything Paperboy holds about a reader,
// as JSON, and its deletion. A deletion leaves one thing behind, and only for
// a suppressed address (a bounce or a complaint): the SHA-256 of the address
// in `suppressions`, with the reason and date, so the suppression list still
// knows the address must not be mailed. Nothing else survives: the consent
// log, ledger, sent papers, queued mail and provider events go with the row.

const INTERNAL = new Set(['id', 'linkKey', 'tokenVersion', 'legacyLinks']);
const COVERED = new Set(['subscribers', 'consent_events', 'deliveries', 'sent_papers', 'outbound_mail', 'suppressions', 'provider_events', 'webhook_queue']);

/** Rows of any other table that names the reader (tables added after this file, e.g. feedback), so the export stays complete. */
function otherRows({ sqlite }: Database_, id: number): Record<string, unknown[]> {
  const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
  const out: Record<string, unknown[]> = {};
  for (const t of tables.filter((t) => !COVERED.has(t))) {
    const cols = (sqlite.prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).map((c) => c.name);
    if (!cols.includes('subscriber_id')) continue;
    const rows = sqlite.prepare(`SELECT * FROM "${t}" WHERE subscriber_id = ?`).all(id) as Record<string, unknown>[];
    if (rows.length) out[t] = rows.map(({ subscriber_id: _, ...r }) => r);
  }
  return out;
}

/** The "download my data" document. */
export function exportReaderData(database: Database_, s: Subscriber, now: Date) {
  const { sqlite } = database;
  const deliveries = (
    sqlite
      .prepare('SELECT id, period_key AS period, status, message_id AS messageId, items, created_at AS createdAt, finished_at AS finishedAt FROM deliveries WHERE subscriber_id = ? ORDER BY period_key')
      .all(s.id) as { id: number; period: string; status: string; messageId: string; items: string; createdAt: string; finishedAt: string | null }[]
  ).map(({ id, items, ...d }) => {
    const pks = (JSON.parse(items) as { pk: number; why: string }[]).map((i) => i.pk);
    const papers = pks.length
      ? (sqlite.prepare(`SELECT pk, id, title FROM papers WHERE pk IN (${pks.map(() => '?').join(',')})`).all(...pks) as { pk: number; id: string; title: string }[])
      : [];
    void id;
    return { ...d, papers: papers.map((p) => ({ id: p.id, title: p.title })) };
  });
  return {
    exportedAt: now.toISOString(),
    about: 'Everything this Paperboy holds about one reader.',
    // The whole row but the internals that only sign links (the link key, the token version).
    subscriber: Object.fromEntries(Object.entries(s).filter(([k]) => !INTERNAL.has(k))),
    consentLog: consentLog(database, s.id).map((e) => ({ event: e.event, method: e.method, ip: e.ip, userAgent: e.userAgent, at: e.at })),
    deliveries,
    transactionalMail: sqlite.prepare('SELECT kind, status, attempts, created_at AS createdAt, sent_at AS sentAt FROM outbound_mail WHERE subscriber_id = ? ORDER BY id').all(s.id),
    suppression: sqlite.prepare('SELECT reason, source, detail, created_at AS createdAt FROM suppressions WHERE subscriber_id = ?').get(s.id) ?? null,
    bounceReports: sqlite.prepare('SELECT provider, kind, received_at AS receivedAt FROM provider_events WHERE subscriber_id = ? ORDER BY received_at').all(s.id),
    other: otherRows(database, s.id),
  };
}

/** The export for an address, or undefined when nobody has it. */
export function exportByEmail(database: Database_, email: string, now: Date) {
  const s = findByEmail(database, email.trim());
  return s ? exportReaderData(database, s, now) : undefined;
}

/**
 * Deletes a reader and all their data, in one transaction. A bounced reader's
 * address stays on the suppression list as a hash only (a relay refusal that
 * has no entry yet gets one, reason hard_bounce, source smtp).
 */
export function eraseReader(database: Database_, subscriberId: number, now: Date): { erased: boolean; keptSuppressionHash: boolean } {
  const { sqlite } = database;
  return sqlite
    .transaction(() => {
      const s = findById(database, subscriberId);
      if (!s) return { erased: false, keptSuppressionHash: false };
      if (s.status === 'bounced') {
        sqlite
          .prepare("INSERT INTO suppressions (email_hash, subscriber_id, reason, source, created_at) VALUES (?, ?, 'hard_bounce', 'smtp', ?) ON CONFLICT DO NOTHING")
          .run(emailHash(s.email), s.id, now.toISOString());
      }
      // Outgoing webhooks not yet delivered name the address; they go too (the table exists from migration 0008).
      if (sqlite.prepare("SELECT 1 FROM sqlite_master WHERE name = 'webhook_queue'").get()) sqlite.prepare('DELETE FROM webhook_queue WHERE subscriber_id = ?').run(s.id);
      const kept = Boolean(sqlite.prepare('SELECT 1 FROM suppressions WHERE subscriber_id = ?').get(s.id));
      // suppressions.subscriber_id is ON DELETE SET NULL: the hash stays, the link to the row goes.
      deleteSubscriber(database, s.id);
      return { erased: true, keptSuppressionHash: kept };
    })
    .immediate();
}

/** Deletes by address; false when nobody has it. */
export function eraseByEmail(database: Database_, email: string, now: Date): boolean {
  const s = findByEmail(database, email.trim());
  return s ? eraseReader(database, s.id, now).erased : false;
}
