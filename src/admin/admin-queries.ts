import type { Database_ } from '../db/client.js';
import { consentLog, findById, type Subscriber } from '../subscribers/subscriber-repo.js';
import { TOPICS } from '../subscribers/topic-catalogue.js';

/** Filters of the console's subscriber search. */
export interface SubscriberQuery {
  q?: string;
  status?: string;
  topic?: string;
}

/** At most this many rows per search: the console is for finding someone, not for listing 100,000. */
export const PAGE_SIZE = 50;

/** A subscriber's topics (JSON text) as a table of `value`s, in each engine's JSON functions. */
const topicsOf = (database: Database_) =>
  database.dialect === 'postgres' ? 'jsonb_array_elements_text(subscribers.topics::jsonb) AS t(value)' : 'json_each(subscribers.topics)';

/** Subscribers matching the filters, newest first. An address without '%' or '_' that ends in '@…' or is whole uses the email index. */
export async function searchSubscribers(database: Database_, f: SubscriberQuery) {
  const where: string[] = [];
  const args: unknown[] = [];
  const q = f.q?.trim();
  if (q) {
    // The address column is NOCASE on SQLite (a prefix LIKE is answered from its
    // unique index) and CITEXT on PostgreSQL, so LIKE ignores case on both.
    where.push("email LIKE ? ESCAPE '\\'");
    const escaped = q.replace(/[\\%_]/g, (c) => `\\${c}`);
    args.push(q.includes('@') && !q.startsWith('@') ? `${escaped}%` : `%${escaped}%`);
  }
  if (f.status) (where.push('status = ?'), args.push(f.status));
  if (f.topic) (where.push(`EXISTS (SELECT 1 FROM ${topicsOf(database)} WHERE value = ?)`), args.push(f.topic));
  const sql = `SELECT id, email, status, topics, created_at AS "createdAt" FROM subscribers ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${PAGE_SIZE + 1}`;
  const rows = (await database.all<{ id: number; email: string; status: string; topics: string; createdAt: string }>(sql, args)).map((r) => ({
    ...r,
    topics: JSON.parse(r.topics) as string[],
  }));
  return { rows: rows.slice(0, PAGE_SIZE), more: rows.length > PAGE_SIZE };
}

/** One subscriber with their consent log, last deliveries and suppression reason. */
export async function subscriberDetail(database: Database_, id: number) {
  const s: Subscriber | undefined = await findById(database, id);
  if (!s) return undefined;
  const papers = database.dialect === 'postgres' ? 'jsonb_array_length(items::jsonb)' : 'json_array_length(items)';
  const deliveries = await database.all(
    `SELECT period_key AS "periodKey", status, ${papers} AS papers, attempts, error, created_at AS "createdAt", finished_at AS "finishedAt"
     FROM deliveries WHERE subscriber_id = ? ORDER BY period_key DESC LIMIT 50`,
    [id],
  );
  const suppression = await database.get('SELECT reason, source, detail, created_at AS "createdAt" FROM suppressions WHERE subscriber_id = ? ORDER BY created_at DESC', [id]);
  return { subscriber: s, consent: (await consentLog(database, id)).reverse(), deliveries, suppression: suppression ?? null };
}

/** Topics by active readers, with the catalogue's names; typed keywords are not topics and are not counted. */
export async function topicPopularity(database: Database_) {
  const counts = new Map((await database.all<{ topic: string; n: number }>('SELECT topic, n FROM topic_counts')).map((r) => [r.topic, r.n]));
  return TOPICS.map((t) => ({ slug: t.slug, name: t.name, readers: counts.get(t.slug) ?? 0 })).sort((a, b) => b.readers - a.readers || a.name.localeCompare(b.name));
}

/** Each ingest source: its last run, last success and last error. */
export async function sourceHealth(database: Database_) {
  return database.all<{ source: string; ok: number; lastRunAt: string; fetched: number; lastError: string | null; lastErrorAt: string | null; lastOkAt: string | null }>(
    `SELECT s.source, s.ok, s.last_run_at AS "lastRunAt", s.fetched, s.last_error AS "lastError", s.last_error_at AS "lastErrorAt", o.at AS "lastOkAt"
     FROM source_status s LEFT JOIN source_last_ok o ON o.source = s.source ORDER BY s.source`,
  );
}

/**
 * The suppression list: provider and mailbox suppressions (with their reason),
 * and addresses the relay refused at send time (status bounced, reason smtp).
 */
export async function suppressionList(database: Database_, limit = 200) {
  return database.all<{ hash: string | null; subscriberId: number | null; email: string | null; reason: string; source: string; detail: string | null; createdAt: string }>(
    `SELECT * FROM (
       SELECT p.email_hash AS hash, p.subscriber_id AS "subscriberId", s.email, p.reason, p.source, p.detail, p.created_at AS "createdAt"
       FROM suppressions p LEFT JOIN subscribers s ON s.id = p.subscriber_id
       UNION ALL
       SELECT NULL, s.id, s.email, 'hard_bounce', 'smtp', NULL, s.updated_at
       FROM subscribers s WHERE s.status = 'bounced' AND NOT EXISTS (SELECT 1 FROM suppressions p WHERE p.subscriber_id = s.id)
     ) AS listed ORDER BY "createdAt" DESC, "subscriberId" DESC LIMIT ?`,
    [limit],
  );
}
