import { hostname } from 'node:os';
import type { Sql } from '../db/sql.js';
import { claimedDelivery, claimPostgres, LEDGER_PG_SQL } from './ledger-postgres.js';

// The delivery ledger: one row per (subscriber, period), unique. A row is
// claimed ('sending', with a lease) before anything is sent, and the papers
// it carries are reserved in sent_papers in the same transaction. Only the
// relay's 250 turns it into 'sent'. A 'sending' row whose lease ran out (or
// whose owner process is gone) is resumed with the same papers and the same
// Message-ID; it is never rebuilt, so a crash between "relay accepted" and
// "ledger updated" can at worst resend the identical message.
//
// Several processes may run at once (one SQLite file, or one PostgreSQL): a
// claim is an INSERT that the unique (subscriber, period) lets only one of
// them make (ON CONFLICT DO NOTHING: a reader another run claimed is skipped);
// a lapsed claim is taken over with a compare-and-set on the lease it was seen
// with, and on PostgreSQL the lapsed rows are first picked with FOR UPDATE SKIP
// LOCKED so workers looking at once split them instead of queueing on them.

/** One paper of a stored digest. */
export interface LedgerItem {
  pk: number;
  score: number;
  why: string;
  words: string[];
  interests: string[];
}

/** A ledger row. */
export interface Delivery {
  id: number;
  subscriberId: number;
  periodKey: string;
  status: 'sending' | 'sent' | 'skipped' | 'failed';
  messageId: string;
  items: LedgerItem[];
  since: string;
  leaseOwner: string | null;
  leaseUntil: string | null;
  attempts: number;
  /** The reader's preferences when the digest was claimed (JSON; null for deliveries before migration 0009): what its web copy shows. */
  prefs?: string | null;
  finishedAt?: string | null;
}

/** What claiming one (subscriber, period) needs. */
export interface Claim {
  subscriberId: number;
  periodKey: string;
  messageId: string;
  items: LedgerItem[];
  since: string;
  /** Snapshot of the reader's preferences (JSON), kept with the delivery for its web copy. */
  prefs?: string;
  owner: string;
  leaseUntil: string;
  now: Date;
}

interface Row extends Omit<Delivery, 'items'> {
  items: string;
}

const COLUMNS = `id, subscriber_id AS subscriberId, period_key AS periodKey, status, message_id AS messageId, items, since,
  lease_owner AS leaseOwner, lease_until AS leaseUntil, attempts, prefs, finished_at AS finishedAt`;
const toDelivery = (r: Row): Delivery => ({ ...r, items: JSON.parse(r.items) as LedgerItem[] });

/** Identifies this process as a lease owner: host, pid and a per-run nonce. */
export function leaseOwner(nonce: string): string {
  return `${hostname()}:${process.pid}:${nonce}`;
}

/** Every ledger statement both engines run; test/db/schema.test.ts checks that each one is answered through an index (on SQLite). */
export const LEDGER_SQL = {
  exists: 'SELECT 1 FROM deliveries WHERE subscriber_id = ? AND period_key = ?',
  lastSent: "SELECT max(finished_at) AS at FROM deliveries WHERE subscriber_id = ? AND status = 'sent'",
  sentPks: 'SELECT paper_pk AS pk FROM sent_papers WHERE subscriber_id = ? AND paper_pk >= ?',
  insert: `INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, lease_owner, lease_until, attempts, created_at, prefs)
    VALUES (?, ?, 'sending', ?, ?, ?, ?, ?, 1, ?, ?)
    ON CONFLICT (subscriber_id, period_key) DO NOTHING RETURNING id`,
  reserve: 'INSERT INTO sent_papers (subscriber_id, paper_pk, delivery_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  release: 'DELETE FROM sent_papers WHERE delivery_id = ?',
  skip: `INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, created_at, finished_at)
    VALUES (?, ?, 'skipped', '', '[]', ?, ?, ?) ON CONFLICT (subscriber_id, period_key) DO NOTHING`,
  inFlight: `SELECT ${COLUMNS} FROM deliveries WHERE status = 'sending'`,
  // Compare-and-set on the lease seen as lapsed: an owner that renewed it since (right before sending) keeps it.
  takeOver: `UPDATE deliveries SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
    WHERE id = ? AND status = 'sending' AND lease_owner IS NOT DISTINCT FROM ? AND lease_until IS NOT DISTINCT FROM ?`,
  finish: "UPDATE deliveries SET status = ?, finished_at = ?, error = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = 'sending'",
  // The owner goes too: the run's heartbeat must not lease again what it handed back.
  letGo: 'UPDATE deliveries SET lease_owner = NULL, lease_until = ?, error = ?, attempts = attempts - ? WHERE id = ? AND lease_owner = ?',
  renew: "UPDATE deliveries SET lease_until = ? WHERE id = ? AND status = 'sending' AND lease_owner = ?",
  renewAll: "UPDATE deliveries SET lease_until = ? WHERE status = 'sending' AND lease_owner = ?",
  find: `SELECT ${COLUMNS} FROM deliveries WHERE subscriber_id = ? AND period_key = ?`,
};

/** Lapsed claims on PostgreSQL, each seen by one worker only: rows another worker is taking over are skipped, not waited for. */
const LAPSED_PG = `SELECT ${COLUMNS} FROM deliveries WHERE status = 'sending' AND (coalesce(lease_until, '') < ? OR lease_owner LIKE ?)
  ORDER BY id FOR UPDATE SKIP LOCKED`;

/** Whether the process named in a lease is certainly gone (same host, pid not running). */
export function ownerIsDead(owner: string | null): boolean {
  if (!owner) return true;
  const [host, pid] = owner.split(':');
  if (host !== hostname()) return false;
  if (Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A resumable delivery; `taken` when finding it already took it over for this run (PostgreSQL). */
export type Resumable = Delivery & { taken?: boolean };

/** PostgreSQL answers in batches this size (a bounded parameter array). */
const PG_BATCH = 5000;

/** Ledger queries and updates on either engine. */
export function createLedger(database: Sql) {
  const q = LEDGER_SQL;
  const pg = database.dialect === 'postgres';

  async function batched<T>(ids: T[], fn: (part: T[]) => Promise<void>): Promise<void> {
    for (let i = 0; i < ids.length; i += PG_BATCH) await fn(ids.slice(i, i + PG_BATCH));
  }

  /** Claims a chunk on SQLite: per-row statements in one transaction (microseconds each). */
  async function claimSqlite(t: Sql, claims: Claim[]): Promise<(Delivery | 'skipped' | null)[]> {
    const out: (Delivery | 'skipped' | null)[] = [];
    for (const d of claims) {
      const now = d.now.toISOString();
      if (!d.items.length) {
        out.push((await t.run(q.skip, [d.subscriberId, d.periodKey, d.since, now, now])).changes ? 'skipped' : null);
        continue;
      }
      const row = await t.get<{ id: number }>(q.insert, [d.subscriberId, d.periodKey, d.messageId, JSON.stringify(d.items), d.since, d.owner, d.leaseUntil, now, d.prefs ?? null]);
      if (!row) {
        out.push(null);
        continue;
      }
      for (const item of d.items) await t.run(q.reserve, [d.subscriberId, item.pk, row.id]);
      out.push(claimedDelivery(d, row.id));
    }
    return out;
  }

  return {
    /** Which of these (subscriber, period) pairs already have a ledger row (sent, skipped, failed or in flight), as `${subscriberId}:${periodKey}`. */
    async periodsTaken(pairs: { subscriberId: number; periodKey: string }[]): Promise<Set<string>> {
      const out = new Set<string>();
      if (!pg) {
        for (const p of pairs) if (await database.get(q.exists, [p.subscriberId, p.periodKey])) out.add(`${p.subscriberId}:${p.periodKey}`);
        return out;
      }
      await batched(pairs, async (part) => {
        const rows = await database.all<{ sid: number; key: string }>(LEDGER_PG_SQL.exists, [part.map((p) => p.subscriberId), part.map((p) => p.periodKey)]);
        for (const r of rows) out.add(`${r.sid}:${r.key}`);
      });
      return out;
    },

    /** When this subscriber's last digest was accepted by the relay. */
    lastSentAt: async (subscriberId: number) => (await database.get<{ at: string | null }>(q.lastSent, [subscriberId]))?.at ?? null,

    /** When each of these subscribers' last digest was accepted (absent: never). */
    async lastSentMany(ids: number[]): Promise<Map<number, string>> {
      const out = new Map<number, string>();
      if (!pg) {
        for (const id of ids) {
          const at = (await database.get<{ at: string | null }>(q.lastSent, [id]))?.at;
          if (at) out.set(id, at);
        }
        return out;
      }
      await batched(ids, async (part) => {
        for (const r of await database.all<{ sid: number; at: string | null }>(LEDGER_PG_SQL.lastSent, [part])) if (r.at) out.set(r.sid, r.at);
      });
      return out;
    },

    /** Papers (from pk `minPk` on) already sent or reserved for this subscriber. */
    sentPapers: async (subscriberId: number, minPk: number) => new Set((await database.all<{ pk: number }>(q.sentPks, [subscriberId, minPk])).map((r) => r.pk)),

    /** Papers already sent or reserved for each of these subscribers. */
    async sentPapersMany(ids: number[]): Promise<Map<number, Set<number>>> {
      const out = new Map<number, Set<number>>(ids.map((id) => [id, new Set<number>()]));
      if (!pg) {
        for (const id of ids) for (const r of await database.all<{ pk: number }>(q.sentPks, [id, 0])) out.get(id)!.add(r.pk);
        return out;
      }
      for (const r of await database.all<{ sid: number; pk: number }>(LEDGER_PG_SQL.sentPks, [ids])) out.get(r.sid)?.add(r.pk);
      return out;
    },

    /**
     * Claims many periods in one transaction (one commit instead of one per
     * reader): an empty `items` records the period as skipped, with nothing to
     * send; null where another run already holds the period.
     */
    claimMany(claims: Claim[]): Promise<(Delivery | 'skipped' | null)[]> {
      if (!claims.length) return Promise.resolve([]);
      return database.tx((t) => (pg ? claimPostgres(t, claims) : claimSqlite(t, claims)));
    },

    /**
     * In-flight deliveries whose owner's lease ran out (wall clock) or whose owner process is gone.
     * On PostgreSQL they are taken over for `owner` right here (`taken`), each by one worker only.
     */
    async resumable(wallNow: Date, owner: string, leaseUntil: string): Promise<Resumable[]> {
      const lapsed = (d: Delivery) => (d.leaseUntil ?? '') < wallNow.toISOString() || ownerIsDead(d.leaseOwner);
      if (!pg) return (await database.all<Row>(q.inFlight)).map(toDelivery).filter(lapsed);
      return database.tx(async (t) => {
        const rows = (await t.all<Row>(LAPSED_PG, [wallNow.toISOString(), `${hostname()}:%`])).map(toDelivery).filter(lapsed);
        const out: Resumable[] = [];
        for (const d of rows) {
          const changed = await t.run(q.takeOver, [owner, leaseUntil, d.id, d.leaseOwner, d.leaseUntil]);
          if (changed.changes === 1) out.push({ ...d, leaseOwner: owner, leaseUntil, attempts: d.attempts + 1, taken: true });
        }
        return out;
      });
    },

    /** Takes over a delivery found resumable; false when its lease changed since (renewed, or another process got there first). */
    async takeOver(d: Resumable, owner: string, leaseUntil: string): Promise<boolean> {
      if (d.taken) return true;
      return (await database.run(q.takeOver, [owner, leaseUntil, d.id, d.leaseOwner, d.leaseUntil])).changes === 1;
    },

    /** The relay accepted the message. */
    async markSent(id: number, now: Date): Promise<void> {
      await database.run(q.finish, ['sent', now.toISOString(), null, id]);
    },

    /** Gives up for good: frees the reserved papers so a later digest may carry them. Pass `t` to join a transaction. */
    async markFailed(id: number, error: string, now: Date, t?: Sql): Promise<void> {
      const run = async (s: Sql) => {
        await s.run(q.finish, ['failed', now.toISOString(), error.slice(0, 500), id]);
        await s.run(q.release, [id]);
      };
      await (t ? run(t) : database.tx(run));
    },

    /**
     * Keeps the claim but lets the lease lapse so the next run retries. `counted: false`
     * (a relay problem, or a run that stopped before trying) does not use up one of the
     * delivery's runs: only failures that may be the reader's count toward giving up.
     */
    async letGo(id: number, owner: string, error: string, counted = true): Promise<void> {
      await database.run(q.letGo, ['', error.slice(0, 500), counted ? 0 : 1, id, owner]);
    },

    /**
     * Extends our lease, right before a send: false when the claim is no longer ours
     * (it lapsed and another process took it over), and then we must not send.
     * Atomic: a lease renewed here cannot be taken over until it runs out again.
     */
    renew: async (id: number, owner: string, leaseUntil: string) => (await database.run(q.renew, [leaseUntil, id, owner])).changes === 1,

    /** Extends every lease this run holds (claimed, not yet sent); how many. */
    renewAll: async (owner: string, leaseUntil: string) => (await database.run(q.renewAll, [leaseUntil, owner])).changes,

    /** One delivery of a subscriber and period. */
    async find(subscriberId: number, periodKey: string): Promise<Delivery | undefined> {
      const row = await database.get<Row>(q.find, [subscriberId, periodKey]);
      return row && toDelivery(row);
    },
  };
}
export type Ledger = ReturnType<typeof createLedger>;
