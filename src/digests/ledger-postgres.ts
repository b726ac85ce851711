import type { Sql } from '../db/sql.js';
import type { Claim, Delivery } from './delivery-ledger.js';

// The ledger's PostgreSQL side (see delivery-ledger.ts): the statements that
// take a whole chunk at once through arrays (unnest, ANY), so a chunk costs a
// few round trips instead of one per reader. SQLite keeps per-row statements:
// there a statement costs microseconds and no network.

/** The batched forms of LEDGER_SQL's lookups and claims. */
export const LEDGER_PG_SQL = {
  exists: `SELECT d.subscriber_id AS sid, d.period_key AS key FROM deliveries d
    JOIN unnest(?::int[], ?::text[]) AS u(sid, key) ON d.subscriber_id = u.sid AND d.period_key = u.key`,
  lastSent: `SELECT subscriber_id AS sid, max(finished_at) AS at FROM deliveries
    WHERE subscriber_id = ANY(?::int[]) AND status = 'sent' GROUP BY subscriber_id`,
  sentPks: 'SELECT subscriber_id AS sid, paper_pk AS pk FROM sent_papers WHERE subscriber_id = ANY(?::int[])',
  insert: `INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, lease_owner, lease_until, attempts, created_at, prefs)
    SELECT sid, key, 'sending', mid, items, since, ?, lease, 1, ?, prefs
    FROM unnest(?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS u(sid, key, mid, items, since, lease, prefs)
    ORDER BY sid
    ON CONFLICT (subscriber_id, period_key) DO NOTHING RETURNING id, subscriber_id AS sid`,
  reserve: `INSERT INTO sent_papers (subscriber_id, paper_pk, delivery_id)
    SELECT * FROM unnest(?::int[], ?::int[], ?::int[]) ORDER BY 1, 2 ON CONFLICT DO NOTHING`,
  skip: `INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, created_at, finished_at)
    SELECT sid, key, 'skipped', '', '[]', since, ?, ? FROM unnest(?::int[], ?::text[], ?::text[]) AS u(sid, key, since)
    ORDER BY sid
    ON CONFLICT (subscriber_id, period_key) DO NOTHING RETURNING subscriber_id AS sid`,
};

/** The delivery a claim became. */
export const claimedDelivery = (d: Claim, id: number): Delivery => ({
  id, subscriberId: d.subscriberId, periodKey: d.periodKey, status: 'sending', messageId: d.messageId, items: d.items, since: d.since, leaseOwner: d.owner, leaseUntil: d.leaseUntil, attempts: 1,
});

/** Claims a chunk on PostgreSQL: one statement for the claims, one for the skips, one for the reserved papers. */
export async function claimPostgres(t: Sql, claims: Claim[]): Promise<(Delivery | 'skipped' | null)[]> {
  const sends = claims.filter((d) => d.items.length);
  const skips = claims.filter((d) => !d.items.length);
  const now = claims[0]!.now.toISOString();
  const ids = new Map<number, number>();
  if (sends.length) {
    const { owner } = sends[0]!;
    const col = <T>(f: (d: Claim) => T) => sends.map(f);
    const rows = await t.all<{ id: number; sid: number }>(LEDGER_PG_SQL.insert, [
      owner, now, col((d) => d.subscriberId), col((d) => d.periodKey), col((d) => d.messageId), col((d) => JSON.stringify(d.items)),
      col((d) => d.since), col((d) => d.leaseUntil), col((d) => d.prefs ?? null),
    ]);
    for (const r of rows) ids.set(r.sid, r.id);
    const reserved = sends.filter((d) => ids.has(d.subscriberId)).flatMap((d) => d.items.map((i) => [d.subscriberId, i.pk, ids.get(d.subscriberId)!] as const));
    if (reserved.length) await t.run(LEDGER_PG_SQL.reserve, [reserved.map((r) => r[0]), reserved.map((r) => r[1]), reserved.map((r) => r[2])]);
  }
  const skipped = new Set<number>();
  if (skips.length) {
    const rows = await t.all<{ sid: number }>(LEDGER_PG_SQL.skip, [now, now, skips.map((d) => d.subscriberId), skips.map((d) => d.periodKey), skips.map((d) => d.since)]);
    for (const r of rows) skipped.add(r.sid);
  }
  return claims.map((d) => {
    if (!d.items.length) return skipped.has(d.subscriberId) ? 'skipped' : null;
    const id = ids.get(d.subscriberId);
    return id === undefined ? null : claimedDelivery(d, id);
  });
}
