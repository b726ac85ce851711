import { hostname } from 'node:os';
import type { Statement } from 'better-sqlite3';
import type { Database_ } from '../db/client.js';

// The delivery ledger: one row per (subscriber, period), unique. A row is
// claimed ('sending', with a lease) before anything is sent, and the papers
// it carries are reserved in sent_papers in the same transaction. Only the
// relay's 250 turns it into 'sent'. A 'sending' row whose lease ran out (or
// whose owner process is gone) is resumed with the same papers and the same
// Message-ID; it is never rebuilt, so a crash between "relay accepted" and
// "ledger updated" can at worst resend the identical message.

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

/** Every ledger statement; test/db/schema.test.ts checks that each one is answered through an index. */
export const LEDGER_SQL = {
  exists: 'SELECT 1 FROM deliveries WHERE subscriber_id = ? AND period_key = ?',
  lastSent: "SELECT max(finished_at) AS at FROM deliveries WHERE subscriber_id = ? AND status = 'sent'",
  sentPks: 'SELECT paper_pk AS pk FROM sent_papers WHERE subscriber_id = ? AND paper_pk >= ?',
  insert: `INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, lease_owner, lease_until, attempts, created_at, prefs)
    VALUES (@subscriberId, @periodKey, 'sending', @messageId, @items, @since, @owner, @leaseUntil, 1, @now, @prefs)
    ON CONFLICT (subscriber_id, period_key) DO NOTHING`,
  reserve: 'INSERT OR IGNORE INTO sent_papers (subscriber_id, paper_pk, delivery_id) VALUES (?, ?, ?)',
  release: 'DELETE FROM sent_papers WHERE delivery_id = ?',
  skip: `INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, created_at, finished_at)
    VALUES (?, ?, 'skipped', '', '[]', ?, ?, ?) ON CONFLICT (subscriber_id, period_key) DO NOTHING`,
  inFlight: `SELECT ${COLUMNS} FROM deliveries WHERE status = 'sending'`,
  // Compare-and-set on the lease seen as lapsed: an owner that renewed it since (right before sending) keeps it.
  takeOver: `UPDATE deliveries SET lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1
    WHERE id = @id AND status = 'sending' AND lease_owner IS @previous AND lease_until IS @previousUntil`,
  finish: "UPDATE deliveries SET status = ?, finished_at = ?, error = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = 'sending'",
  // The owner goes too: the run's heartbeat must not lease again what it handed back.
  letGo: 'UPDATE deliveries SET lease_owner = NULL, lease_until = ?, error = ?, attempts = attempts - ? WHERE id = ? AND lease_owner = ?',
  renew: "UPDATE deliveries SET lease_until = @leaseUntil WHERE id = @id AND status = 'sending' AND lease_owner = @owner",
  renewAll: "UPDATE deliveries SET lease_until = @leaseUntil WHERE status = 'sending' AND lease_owner = @owner",
};

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

/** Ledger queries and updates, prepared once per database. */
export function createLedger(database: Database_) {
  const { sqlite } = database;
  const q = Object.fromEntries(Object.entries(LEDGER_SQL).map(([k, sql]) => [k, sqlite.prepare(sql)])) as Record<keyof typeof LEDGER_SQL, Statement>;

  /** Claims (subscriber, period) and reserves its papers; null when it is already taken. */
  function claimOne(d: Claim): Delivery | null {
    const info = q.insert.run({ ...d, items: JSON.stringify(d.items), now: d.now.toISOString(), prefs: d.prefs ?? null });
    if (info.changes === 0) return null;
    const id = Number(info.lastInsertRowid);
    for (const item of d.items) q.reserve.run(d.subscriberId, item.pk, id);
    return { id, subscriberId: d.subscriberId, periodKey: d.periodKey, status: 'sending', messageId: d.messageId, items: d.items, since: d.since, leaseOwner: d.owner, leaseUntil: null, attempts: 1 };
  }

  return {
    /** Whether a digest for this period was already sent, skipped, failed or is in flight. */
    periodExists: (subscriberId: number, periodKey: string) => q.exists.get(subscriberId, periodKey) !== undefined,

    /** When this subscriber's last digest was accepted by the relay. */
    lastSentAt: (subscriberId: number) => (q.lastSent.get(subscriberId) as { at: string | null }).at,

    /** Papers (from pk `minPk` on) already sent or reserved for this subscriber. */
    sentPapers: (subscriberId: number, minPk: number) => new Set((q.sentPks.all(subscriberId, minPk) as { pk: number }[]).map((r) => r.pk)),

    /**
     * Claims many periods in one transaction (one commit instead of one per
     * reader): an empty `items` records the period as skipped, with nothing to
     * send; null where another run already holds the period.
     */
    claimMany(claims: Claim[]): (Delivery | 'skipped' | null)[] {
      return sqlite
        .transaction(() =>
          claims.map((d) => {
            if (d.items.length) return claimOne(d);
            return q.skip.run(d.subscriberId, d.periodKey, d.since, d.now.toISOString(), d.now.toISOString()).changes ? 'skipped' : null;
          }),
        )
        .immediate();
    },

    /** In-flight deliveries whose owner's lease ran out (wall clock) or whose owner process is gone. */
    resumable(wallNow: Date): Delivery[] {
      return (q.inFlight.all() as Row[]).map(toDelivery).filter((d) => (d.leaseUntil ?? '') < wallNow.toISOString() || ownerIsDead(d.leaseOwner));
    },

    /** Takes over a delivery found resumable; false when its lease changed since (renewed, or another process got there first). */
    takeOver(d: Delivery, owner: string, leaseUntil: string): boolean {
      const info = q.takeOver.run({ id: d.id, owner, previous: d.leaseOwner, previousUntil: d.leaseUntil, leaseUntil });
      return info.changes === 1;
    },

    /** The relay accepted the message. */
    markSent(id: number, now: Date) {
      q.finish.run('sent', now.toISOString(), null, id);
    },

    /** Gives up for good: frees the reserved papers so a later digest may carry them. */
    markFailed(id: number, error: string, now: Date) {
      sqlite.transaction(() => {
        q.finish.run('failed', now.toISOString(), error.slice(0, 500), id);
        q.release.run(id);
      })();
    },

    /**
     * Keeps the claim but lets the lease lapse so the next run retries. `counted: false`
     * (a relay problem, or a run that stopped before trying) does not use up one of the
     * delivery's runs: only failures that may be the reader's count toward giving up.
     */
    letGo(id: number, owner: string, error: string, counted = true) {
      q.letGo.run('', error.slice(0, 500), counted ? 0 : 1, id, owner);
    },

    /**
     * Extends our lease, right before a send: false when the claim is no longer ours
     * (it lapsed and another process took it over), and then we must not send.
     * Atomic: a lease renewed here cannot be taken over until it runs out again.
     */
    renew: (id: number, owner: string, leaseUntil: string) => q.renew.run({ id, owner, leaseUntil }).changes === 1,

    /** Extends every lease this run holds (claimed, not yet sent); how many. */
    renewAll: (owner: string, leaseUntil: string) => q.renewAll.run({ owner, leaseUntil }).changes,

    /** One delivery of a subscriber and period. */
    find(subscriberId: number, periodKey: string): Delivery | undefined {
      const row = sqlite.prepare(`SELECT ${COLUMNS} FROM deliveries WHERE subscriber_id = ? AND period_key = ?`).get(subscriberId, periodKey) as Row | undefined;
      return row && toDelivery(row);
    },
  };
}
export type Ledger = ReturnType<typeof createLedger>;
