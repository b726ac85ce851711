import type { Database_ } from '../db/client.js';
import type { Sql } from '../db/sql.js';
import type { Preferences } from './subscription-input.js';
import { withQueuedUnsubscribes } from './unsubscribe-queue.js';

// The subscriber store: plain SQL both engines run (see the README's storage
// section). Functions take an `Sql` so they work on the database and inside a
// transaction alike; the few dialect differences live here, never in services.

export type SubscriberStatus = 'pending' | 'active' | 'paused' | 'unsubscribed' | 'bounced';

/** One row of `subscribers`, decoded (JSON lists parsed, flags as booleans). */
export interface Subscriber {
  id: number;
  email: string;
  status: SubscriberStatus;
  topics: string[];
  keywords: string[];
  exclude: string[];
  seeds: string[];
  authors: string[];
  frequency: 'daily' | 'weekly';
  weekday: number;
  hour: number;
  timezone: string;
  maxPapers: number;
  tokenVersion: number;
  createdAt: string;
  updatedAt: string;
  confirmedAt: string | null;
  unsubscribedAt: string | null;
  /** Random and never reused; every signed link names the subscriber by it (the database fills it in). */
  linkKey: string;
  legacyLinks: boolean;
  requestedPrefs: Record<string, unknown> | null;
}

/** One row of `outbound_mail` (the transactional queue). */
export interface OutboundRow {
  id: number;
  subscriberId: number | null;
  kind: string;
  recipient: string;
  status: 'queued' | 'sending' | 'sent' | 'failed';
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

/** Where a consent event came from. */
export interface ConsentContext {
  method: string;
  ip?: string | null;
  userAgent?: string | null;
}

const SUBSCRIBER_COLUMNS: Record<keyof Subscriber, string> = {
  id: 'id',
  email: 'email',
  status: 'status',
  topics: 'topics',
  keywords: 'keywords',
  exclude: 'exclude',
  seeds: 'seeds',
  authors: 'authors',
  frequency: 'frequency',
  weekday: 'weekday',
  hour: 'hour',
  timezone: 'timezone',
  maxPapers: 'max_papers',
  tokenVersion: 'token_version',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  confirmedAt: 'confirmed_at',
  unsubscribedAt: 'unsubscribed_at',
  linkKey: 'link_key',
  legacyLinks: 'legacy_links',
  requestedPrefs: 'requested_prefs',
};
const JSON_FIELDS = new Set(['topics', 'keywords', 'exclude', 'seeds', 'authors', 'requestedPrefs']);
const LISTS = ['topics', 'keywords', 'exclude', 'seeds', 'authors'] as const;

/** The select list: every column under its camelCase name (quoted for PostgreSQL). */
const SELECT = Object.entries(SUBSCRIBER_COLUMNS)
  .map(([k, c]) => (k === c ? c : `${c} AS "${k}"`))
  .join(', ');

type RawSubscriber = Omit<Subscriber, (typeof LISTS)[number] | 'legacyLinks' | 'requestedPrefs'> & Record<(typeof LISTS)[number] | 'requestedPrefs', string | null> & { legacyLinks: number | boolean };

/** A raw row as both engines return it → a Subscriber. */
function decode(r: RawSubscriber): Subscriber {
  const out = { ...r } as unknown as Subscriber;
  for (const k of LISTS) out[k] = r[k] ? (JSON.parse(r[k]) as string[]) : [];
  out.requestedPrefs = r.requestedPrefs ? (JSON.parse(r.requestedPrefs) as Record<string, unknown>) : null;
  out.legacyLinks = Boolean(r.legacyLinks);
  return out;
}

/** A field's value as the column stores it: JSON text for lists and requested preferences, 0/1 for flags. */
function encode(field: string, value: unknown): unknown {
  if (JSON_FIELDS.has(field)) return value === null || value === undefined ? null : JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/** A subscriber as `subscribers list --json` prints it. */
export function publicSubscriber(s: Subscriber) {
  return {
    email: s.email,
    status: s.status,
    topics: s.topics,
    keywords: s.keywords,
    exclude: s.exclude,
    seeds: s.seeds,
    authors: s.authors,
    frequency: s.frequency,
    weekday: s.weekday,
    hour: s.hour,
    timezone: s.timezone,
    maxPapers: s.maxPapers,
  };
}

async function one(sql: Sql, where: string, params: unknown[]): Promise<Subscriber | undefined> {
  const row = await sql.get<RawSubscriber>(`SELECT ${SELECT} FROM subscribers WHERE ${where}`, params);
  return row && decode(row);
}

/** Subscriber by address (case-insensitive: COLLATE NOCASE on SQLite, CITEXT on PostgreSQL). */
export function findByEmail(sql: Sql, email: string): Promise<Subscriber | undefined> {
  return one(sql, 'email = ?', [email]);
}

/** Subscriber by id. */
export function findById(sql: Sql, id: number): Promise<Subscriber | undefined> {
  return one(sql, 'id = ?', [id]);
}

/** Subscriber by link key (the random, never reused key every signed link names). */
export function findByLinkKey(sql: Sql, key: string): Promise<Subscriber | undefined> {
  return one(sql, 'link_key = ?', [key]);
}

/**
 * Serialises, until the end of the transaction `t`, everything that counts and
 * queues mail for one address (exact per-address caps across web nodes). On
 * SQLite every write transaction is already serial (BEGIN IMMEDIATE); on
 * PostgreSQL an advisory lock on the lower-cased address. Call it first in the
 * transaction, before any row is written, so lock order is always the same.
 * Resolves to whether it waited on a lock (then rows read before it may be stale).
 */
export async function lockAddress(t: Sql, email: string): Promise<boolean> {
  if (t.dialect !== 'postgres') return false;
  await t.get("SELECT pg_advisory_xact_lock(hashtext('paperboy:address:' || lower(?)))", [email]);
  return true;
}

/** Every subscriber, oldest first, optionally of some statuses. */
export async function listSubscribers(sql: Sql, statuses?: SubscriberStatus[]): Promise<Subscriber[]> {
  const where = statuses ? `WHERE status IN (${statuses.map(() => '?').join(', ') || 'NULL'})` : '';
  return (await sql.all<RawSubscriber>(`SELECT ${SELECT} FROM subscribers ${where} ORDER BY id`, statuses ?? [])).map(decode);
}

/** Just the schedule of every subscriber of a status, by id: small enough to hold for 100,000 readers. */
export function subscriberSchedules(sql: Sql, status: SubscriberStatus) {
  return sql.all<Pick<Subscriber, 'id' | 'frequency' | 'weekday' | 'hour' | 'timezone' | 'confirmedAt'>>(
    'SELECT id, frequency, weekday, hour, timezone, confirmed_at AS "confirmedAt" FROM subscribers WHERE status = ? ORDER BY id',
    [status],
  );
}

/**
 * Subscribers by id, in id order. Readers whose unsubscribe is still waiting in
 * the unsubscribe queue (the database was busy when they clicked) come back as
 * unsubscribed, so a digest run never mails them.
 */
export async function subscribersByIds(database: Database_, ids: number[]): Promise<Subscriber[]> {
  const rows = ids.length
    ? (await database.all<RawSubscriber>(`SELECT ${SELECT} FROM subscribers WHERE id IN (${ids.map(() => '?').join(', ')}) ORDER BY id`, ids)).map(decode)
    : [];
  return withQueuedUnsubscribes(database, rows);
}

type NewSubscriber = Omit<Preferences, 'seeds' | 'authors'> & Partial<Pick<Preferences, 'seeds' | 'authors'>>;

/** Creates a subscriber and returns it. */
export async function insertSubscriber(sql: Sql, email: string, status: SubscriberStatus, prefs: NewSubscriber, now: string): Promise<Subscriber> {
  const p = { seeds: [], authors: [], ...prefs };
  const row = await sql.get<RawSubscriber>(
    `INSERT INTO subscribers (email, status, topics, keywords, exclude, seeds, authors, frequency, weekday, hour, timezone, max_papers, created_at, updated_at, confirmed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${SELECT}`,
    [
      email,
      status,
      ...LISTS.map((k) => JSON.stringify(p[k])),
      p.frequency,
      p.weekday,
      p.hour,
      p.timezone,
      p.maxPapers,
      now,
      now,
      status === 'active' ? now : null,
    ],
  );
  return decode(row!);
}

/** Updates columns of one subscriber (fields left undefined stay as they are). */
export async function updateSubscriber(sql: Sql, id: number, patch: Partial<Subscriber>, now: string): Promise<Subscriber> {
  const fields = Object.entries({ ...patch, updatedAt: now }).filter(([k, v]) => v !== undefined && k !== 'id' && k in SUBSCRIBER_COLUMNS);
  const set = fields.map(([k]) => `${SUBSCRIBER_COLUMNS[k as keyof Subscriber]} = ?`).join(', ');
  const row = await sql.get<RawSubscriber>(`UPDATE subscribers SET ${set} WHERE id = ? RETURNING ${SELECT}`, [...fields.map(([k, v]) => encode(k, v)), id]);
  if (!row) throw new Error(`subscriber ${id} does not exist`);
  return decode(row);
}

/** Deletes a subscriber and everything that hangs off it. */
export async function deleteSubscriber(sql: Sql, id: number): Promise<void> {
  await sql.run('DELETE FROM subscribers WHERE id = ?', [id]);
}

/** Appends to the consent log. */
export async function logConsent(sql: Sql, subscriberId: number, event: string, ctx: ConsentContext, now: string): Promise<void> {
  await sql.run('INSERT INTO consent_events (subscriber_id, event, method, ip, user_agent, at) VALUES (?, ?, ?, ?, ?, ?)', [
    subscriberId,
    event,
    ctx.method,
    ctx.ip ?? null,
    ctx.userAgent?.slice(0, 300) ?? null,
    now,
  ]);
}

/** The consent log of one subscriber, oldest first. */
export function consentLog(sql: Sql, subscriberId: number) {
  return sql.all<{ id: number; subscriberId: number; event: string; method: string; ip: string | null; userAgent: string | null; at: string }>(
    'SELECT id, subscriber_id AS "subscriberId", event, method, ip, user_agent AS "userAgent", at FROM consent_events WHERE subscriber_id = ? ORDER BY id',
    [subscriberId],
  );
}

/** How many transactional mails were queued for an address since `since`. */
export async function countMailSince(sql: Sql, recipient: string, since: string): Promise<number> {
  const row = await sql.get<{ n: number }>('SELECT count(*) AS n FROM outbound_mail WHERE recipient = ? AND created_at >= ?', [recipient, since]);
  return Number(row?.n ?? 0);
}

/** Queues a transactional mail. */
export async function enqueueMail(sql: Sql, kind: string, subscriberId: number, recipient: string, now: string): Promise<void> {
  await sql.run('INSERT INTO outbound_mail (kind, subscriber_id, recipient, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)', [kind, subscriberId, recipient, now, now]);
}

const OUTBOUND_COLUMNS: Record<keyof OutboundRow, string> = {
  id: 'id',
  subscriberId: 'subscriber_id',
  kind: 'kind',
  recipient: 'recipient',
  status: 'status',
  attempts: 'attempts',
  nextAttemptAt: 'next_attempt_at',
  lastError: 'last_error',
  createdAt: 'created_at',
  sentAt: 'sent_at',
};
const OUTBOUND_SELECT = Object.entries(OUTBOUND_COLUMNS)
  .map(([k, c]) => (k === c ? c : `${c} AS "${k}"`))
  .join(', ');

/** Claims the next due queued mail (atomically, so two workers never send one mail twice). */
export function claimDueMail(sql: Sql, now: string, staleBefore: string): Promise<OutboundRow | undefined> {
  // On PostgreSQL a row another worker is claiming is skipped, not waited for; SQLite's BEGIN IMMEDIATE is already serial.
  const skipLocked = sql.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  return sql.tx(async (t) => {
    // A worker that died mid-send leaves 'sending' rows behind; give them another go.
    await t.run("UPDATE outbound_mail SET status = 'queued' WHERE status = 'sending' AND next_attempt_at <= ?", [staleBefore]);
    const row = await t.get<OutboundRow>(
      `SELECT ${OUTBOUND_SELECT} FROM outbound_mail WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1${skipLocked}`,
      [now],
    );
    if (!row) return undefined;
    await t.run("UPDATE outbound_mail SET status = 'sending', next_attempt_at = ? WHERE id = ?", [now, row.id]);
    return row;
  });
}

/** Records the outcome of one transactional send. */
export async function finishMail(sql: Sql, id: number, patch: Partial<OutboundRow>): Promise<void> {
  const fields = Object.entries(patch).filter(([k, v]) => v !== undefined && k !== 'id' && k in OUTBOUND_COLUMNS);
  if (!fields.length) return;
  await sql.run(`UPDATE outbound_mail SET ${fields.map(([k]) => `${OUTBOUND_COLUMNS[k as keyof OutboundRow]} = ?`).join(', ')} WHERE id = ?`, [...fields.map(([, v]) => v), id]);
}
