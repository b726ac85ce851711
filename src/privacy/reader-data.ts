import type { Sql } from '../db/sql.js';
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

/** Tables with a subscriber_id column (sqlite_master / information_schema; the only dialect branch here). */
async function tablesNamingReaders(sql: Sql): Promise<string[]> {
  const rows =
    sql.dialect === 'sqlite'
      ? await sql.all<{ name: string }>(
          "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c ON c.name = 'subscriber_id' WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name",
        )
      : await sql.all<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'subscriber_id' ORDER BY table_name",
        );
  return rows.map((r) => r.name);
}

/**
 * Rows of any other table that names the reader (tables added after this file, e.g. feedback), so the export stays complete.
 * A row's `paper_pk` (an internal key) is shown as `paper: { id, title }`, the paper's public id and title; rows are
 * sorted by their JSON text, so the same data always downloads as the same document on both engines.
 */
async function otherRows(sql: Sql, id: number): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of (await tablesNamingReaders(sql)).filter((t) => !COVERED.has(t))) {
    const rows = await sql.all<Record<string, unknown>>(`SELECT * FROM "${t}" WHERE subscriber_id = ?`, [id]);
    const shown = [];
    for (const { subscriber_id: _, paper_pk: pk, ...r } of rows) {
      if (pk === undefined) shown.push(r);
      else shown.push({ paper: (await sql.get<{ id: string; title: string }>('SELECT id, title FROM papers WHERE pk = ?', [pk])) ?? null, ...r });
    }
    if (shown.length) out[t] = shown.map((r) => [JSON.stringify(r), r] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  }
  return out;
}

/** The "download my data" document. */
export async function exportReaderData(sql: Sql, s: Subscriber, now: Date) {
  const rows = await sql.all<{ period: string; status: string; messageId: string; items: string; createdAt: string; finishedAt: string | null }>(
    'SELECT period_key AS period, status, message_id AS "messageId", items, created_at AS "createdAt", finished_at AS "finishedAt" FROM deliveries WHERE subscriber_id = ? ORDER BY period_key',
    [s.id],
  );
  const deliveries = [];
  for (const { items, ...d } of rows) {
    const pks = (JSON.parse(items) as { pk: number; why: string }[]).map((i) => i.pk);
    const papers = pks.length ? await sql.all<{ pk: number; id: string; title: string }>(`SELECT pk, id, title FROM papers WHERE pk IN (${pks.map(() => '?').join(',')})`, pks) : [];
    deliveries.push({ ...d, papers: papers.map((p) => ({ id: p.id, title: p.title })) });
  }
  return {
    exportedAt: now.toISOString(),
    about: 'Everything this Paperboy holds about one reader.',
    // The whole row but the internals that only sign links (the link key, the token version).
    subscriber: Object.fromEntries(Object.entries(s).filter(([k]) => !INTERNAL.has(k))),
    consentLog: (await consentLog(sql, s.id)).map((e) => ({ event: e.event, method: e.method, ip: e.ip, userAgent: e.userAgent, at: e.at })),
    deliveries,
    transactionalMail: await sql.all('SELECT kind, status, attempts, created_at AS "createdAt", sent_at AS "sentAt" FROM outbound_mail WHERE subscriber_id = ? ORDER BY id', [s.id]),
    suppression: (await sql.get('SELECT reason, source, detail, created_at AS "createdAt" FROM suppressions WHERE subscriber_id = ? ORDER BY created_at, email_hash LIMIT 1', [s.id])) ?? null,
    bounceReports: await sql.all('SELECT provider, kind, received_at AS "receivedAt" FROM provider_events WHERE subscriber_id = ? ORDER BY received_at, provider, event_id', [s.id]),
    other: await otherRows(sql, s.id),
  };
}

/** The export for an address, or undefined when nobody has it. */
export async function exportByEmail(sql: Sql, email: string, now: Date) {
  const s = await findByEmail(sql, email.trim());
  return s ? exportReaderData(sql, s, now) : undefined;
}

/**
 * Deletes a reader and all their data, in one transaction. A bounced reader's
 * address stays on the suppression list as a hash only (a relay refusal that
 * has no entry yet gets one, reason hard_bounce, source smtp).
 */
export function eraseReader(sql: Sql, subscriberId: number, now: Date): Promise<{ erased: boolean; keptSuppressionHash: boolean }> {
  return sql.tx(async (t) => {
    const s = await findById(t, subscriberId);
    if (!s) return { erased: false, keptSuppressionHash: false };
    if (s.status === 'bounced') {
      await t.run("INSERT INTO suppressions (email_hash, subscriber_id, reason, source, created_at) VALUES (?, ?, 'hard_bounce', 'smtp', ?) ON CONFLICT DO NOTHING", [
        emailHash(s.email),
        s.id,
        now.toISOString(),
      ]);
    }
    // Outgoing webhooks not yet delivered name the address; they go too (the table exists from migration 0008).
    if ((await tablesNamingReaders(t)).includes('webhook_queue')) await t.run('DELETE FROM webhook_queue WHERE subscriber_id = ?', [s.id]);
    const kept = Boolean(await t.get('SELECT 1 AS one FROM suppressions WHERE subscriber_id = ?', [s.id]));
    // suppressions.subscriber_id is ON DELETE SET NULL: the hash stays, the link to the row goes.
    await deleteSubscriber(t, s.id);
    return { erased: true, keptSuppressionHash: kept };
  });
}

/** Deletes by address; false when nobody has it. */
export async function eraseByEmail(sql: Sql, email: string, now: Date): Promise<boolean> {
  const s = await findByEmail(sql, email.trim());
  return s ? (await eraseReader(sql, s.id, now)).erased : false;
}
