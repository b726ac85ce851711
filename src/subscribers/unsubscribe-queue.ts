import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Database_ } from '../db/client.js';
import type { Subscriber } from './subscriber-repo.js';

// Unsubscribing must work even while another process holds the database's
// write lock for longer than the busy timeout (a large import, a digest run's
// ledger writes). Then the request is written to this small SQLite file beside
// the database instead, with synchronous=FULL, and answered 200; the queue is
// drained into the database as soon as it is free (drainUnsubscribeQueue in
// subscription-service.ts), and until then every load of readers for a digest
// run sees the reader as unsubscribed (withQueuedUnsubscribes). A separate
// SQLite file rather than an append-only text file because several processes
// append and drain it, and SQLite's locking makes that safe. The file is never
// deleted: another process may hold it open.

/** One unsubscribe waiting to be applied. */
export interface QueuedUnsubscribe {
  linkKey: string;
  method: string;
  ip: string | null;
  userAgent: string | null;
  /** ISO time of the request: the consent log records this, not the drain time. */
  at: string;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS queued_unsubscribes (
  link_key   TEXT NOT NULL,
  method     TEXT NOT NULL,
  ip         TEXT,
  user_agent TEXT,
  at         TEXT NOT NULL,
  PRIMARY KEY (link_key, at)
)`;

type QueueOwner = Pick<Database_, 'sqlite'>;
/** Queue files of PostgreSQL connections (set by the subscription service from DATABASE_PATH). */
const localQueues = new WeakMap<object, string>();

/** The queue file of a node: beside its SQLite database file, or beside DATABASE_PATH on PostgreSQL. */
const queueFile = (databasePath: string) => `${databasePath}.unsubscribe-queue`;

/**
 * On PostgreSQL the queue stays a local SQLite file per node, beside
 * DATABASE_PATH: names it for this connection. Every connection of the node
 * that loads readers (the web services' and the digest run's) must be named,
 * or it would not see the unsubscribes queued there. No-op on SQLite, where the
 * file is found beside the database.
 */
export function useLocalUnsubscribeQueue(database: QueueOwner, databasePath: string): void {
  if (!database.sqlite) localQueues.set(database, queueFile(databasePath));
}

/**
 * The queue file beside a SQLite database file, or the local file named for a
 * PostgreSQL connection; null for an in-memory database or a PostgreSQL one
 * without a local file (nothing durable to queue into).
 */
export function unsubscribeQueuePath(database: QueueOwner): string | null {
  const { sqlite } = database;
  if (!sqlite) return localQueues.get(database) ?? null;
  return sqlite.memory || !sqlite.name || sqlite.name === ':memory:' ? null : queueFile(sqlite.name);
}

function open(path: string, create: boolean): Database.Database | null {
  if (!create && !existsSync(path)) return null;
  const q = new Database(path, { timeout: 2000 });
  q.pragma('synchronous = FULL');
  q.exec(SCHEMA);
  return q;
}

function withQueue<T>(database: QueueOwner, create: boolean, empty: T, fn: (q: Database.Database) => T): T {
  const path = unsubscribeQueuePath(database);
  const q = path ? open(path, create) : null;
  if (!q) return empty;
  try {
    return fn(q);
  } finally {
    q.close();
  }
}

/** Durably records an unsubscribe the database could not take now; false when there is no file to queue into. */
export function queueUnsubscribe(database: QueueOwner, entry: QueuedUnsubscribe): boolean {
  return withQueue(database, true, false, (q) => {
    q.prepare('INSERT OR IGNORE INTO queued_unsubscribes (link_key, method, ip, user_agent, at) VALUES (?, ?, ?, ?, ?)').run(
      entry.linkKey,
      entry.method,
      entry.ip,
      entry.userAgent?.slice(0, 300) ?? null,
      entry.at,
    );
    return true;
  });
}

/** Every queued unsubscribe, oldest first (none when the queue file does not exist). */
export function queuedUnsubscribes(database: QueueOwner): QueuedUnsubscribe[] {
  return withQueue(database, false, [], (q) =>
    q.prepare('SELECT link_key AS linkKey, method, ip, user_agent AS userAgent, at FROM queued_unsubscribes ORDER BY at').all() as QueuedUnsubscribe[],
  );
}

/** Removes queued unsubscribes once they are applied. */
export function forgetQueued(database: QueueOwner, entries: QueuedUnsubscribe[]): void {
  withQueue(database, false, undefined, (q) => {
    const del = q.prepare('DELETE FROM queued_unsubscribes WHERE link_key = ? AND at = ?');
    q.transaction(() => entries.forEach((e) => del.run(e.linkKey, e.at)))();
  });
}

/** Whether a queued unsubscribe still stands for this subscriber (not undone by a confirmation clicked after it). */
export function stillQueued(s: Pick<Subscriber, 'confirmedAt'>, entry: Pick<QueuedUnsubscribe, 'at'>): boolean {
  return !(s.confirmedAt && s.confirmedAt > entry.at);
}

/** Rows as they will be once the queue is drained: readers with a standing queued unsubscribe show as unsubscribed. */
export function withQueuedUnsubscribes(database: QueueOwner, rows: Subscriber[]): Subscriber[] {
  if (!rows.length) return rows;
  const queued = queuedUnsubscribes(database);
  if (!queued.length) return rows;
  const byKey = new Map(queued.map((e) => [e.linkKey, e]));
  return rows.map((s) => {
    const e = byKey.get(s.linkKey);
    return e && stillQueued(s, e) && s.status !== 'unsubscribed' ? { ...s, status: 'unsubscribed', unsubscribedAt: e.at } : s;
  });
}
