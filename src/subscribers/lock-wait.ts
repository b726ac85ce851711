import type { Database_ } from '../db/client.js';
import type { Sql } from '../db/sql.js';

// How long a reader's unsubscribe (and the queue's drain) may wait for a lock
// before it gives up as busy and the click goes to the unsubscribe queue. The
// two engines wait on different things: SQLite on another connection's write
// lock (the connection's busy timeout, around BEGIN IMMEDIATE), PostgreSQL on
// another transaction's lock on the same rows (lock_timeout).

/**
 * Limits how long the rest of transaction `t` waits for another transaction's
 * lock: past `ms` a statement fails as busy (isDatabaseBusy). PostgreSQL only
 * (lock_timeout); SQLite's equivalent is the connection's busy timeout, set
 * around BEGIN by the caller.
 */
async function limitLockWait(t: Sql, ms: number): Promise<void> {
  if (t.dialect === 'postgres') await t.run(`SET LOCAL lock_timeout = ${Math.max(1, Math.trunc(ms))}`);
}

const lowered = new WeakMap<NonNullable<Database_['sqlite']>, { before: number; users: number }>();

/**
 * Runs `fn` with the SQLite connection's busy timeout lowered to at most `ms`
 * (the wait for another process's write lock). The timeout is the
 * connection's, and `fn` is asynchronous now: overlapping calls share one
 * lowering, and the last to finish puts the old value back. While it is lowered
 * the only other statements that run on this connection are those of an
 * in-process transaction already open (the executor queues everything else behind
 * transactions), which hold the write lock and so never wait on it. PostgreSQL (no
 * `sqlite` handle) has no such pragma and waits on its own row locks.
 */
async function withBusyTimeout<T>(sqlite: Database_['sqlite'], ms: number, fn: () => Promise<T>): Promise<T> {
  if (!sqlite) return fn();
  let entry = lowered.get(sqlite);
  if (!entry) {
    const before = sqlite.pragma('busy_timeout', { simple: true }) as number;
    if (before <= ms) return fn();
    lowered.set(sqlite, (entry = { before, users: 0 }));
    sqlite.pragma(`busy_timeout = ${ms}`);
  }
  entry.users++;
  try {
    return await fn();
  } finally {
    if (--entry.users === 0) {
      lowered.delete(sqlite);
      sqlite.pragma(`busy_timeout = ${entry.before}`);
    }
  }
}

/** A transaction that fails as busy (isDatabaseBusy) when it waits more than `ms` for a lock, on either engine. */
export function lockWaitLimitedTx<T>(database: Database_, ms: number, fn: (t: Sql) => Promise<T>): Promise<T> {
  return withBusyTimeout(database.sqlite, ms, () =>
    database.tx(async (t) => {
      await limitLockWait(t, ms);
      return fn(t);
    }),
  );
}
