import { createHash } from 'node:crypto';
import type { Sql } from '../db/sql.js';
import { findByEmail, findById, logConsent, updateSubscriber } from '../subscribers/subscriber-repo.js';

/** What a provider or the bounce mailbox reported about one recipient. */
export interface BounceReport {
  provider: string;
  /** The provider's own id of this event: a replay of it changes nothing. */
  eventId: string;
  kind: 'hard_bounce' | 'soft_bounce' | 'complaint';
  email: string;
  /** The provider's diagnostic (addresses masked by the caller), for the console. */
  detail?: string;
}

/** How soft bounces turn into a suppression. */
export interface SoftBounceRule {
  /** This many soft bounces … */
  count: number;
  /** … within this many days suppress the address. */
  windowDays: number;
}

/** What handling one report did. */
export type BounceOutcome = 'suppressed' | 'counted' | 'duplicate' | 'unknown_recipient' | 'already_suppressed';

/** SHA-256 of the lower-cased address: what the suppression list keeps once a reader's data is deleted. */
export function emailHash(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
}

/**
 * Records a bounce or complaint, once per provider event. A hard bounce or a
 * complaint suppresses the address at once; soft bounces do when `rule.count`
 * of them arrive within `rule.windowDays`. Suppressing marks the subscriber
 * `bounced` (the status signups, imports and digest runs already honour, as
 * when the relay refuses a recipient) and says why in the consent log
 * (`bounced` or `complained`, method = the provider).
 */
export async function recordBounce(database: Sql, report: BounceReport, rule: SoftBounceRule, now: Date): Promise<BounceOutcome> {
  const at = now.toISOString();
  return database.tx(async (t): Promise<BounceOutcome> => {
    const subscriber = await findByEmail(t, report.email);
    const { changes: fresh } = await t.run(
      'INSERT INTO provider_events (provider, event_id, kind, subscriber_id, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [report.provider, report.eventId, report.kind, subscriber?.id ?? null, at],
    );
    if (!fresh) return 'duplicate';
    let reason: 'hard_bounce' | 'complaint' | 'soft_bounces' = report.kind === 'soft_bounce' ? 'soft_bounces' : report.kind;
    if (report.kind === 'soft_bounce') {
      if (!subscriber) return 'unknown_recipient';
      const since = new Date(now.getTime() - rule.windowDays * 86_400_000).toISOString();
      const row = await t.get<{ n: number }>(
        "SELECT count(*) AS n FROM provider_events WHERE subscriber_id = ? AND kind = 'soft_bounce' AND received_at > ?",
        [subscriber.id, since],
      );
      if (row!.n < rule.count) return 'counted';
      reason = 'soft_bounces';
    }
    const { changes: inserted } = await t.run(
      'INSERT INTO suppressions (email_hash, subscriber_id, reason, source, detail, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [emailHash(report.email), subscriber?.id ?? null, reason, report.provider, report.detail?.slice(0, 500) ?? null, at],
    );
    if (!subscriber) return inserted ? 'suppressed' : 'already_suppressed';
    if (subscriber.status === 'bounced' && !inserted) return 'already_suppressed';
    if (subscriber.status !== 'bounced') await updateSubscriber(t, subscriber.id, { status: 'bounced' }, at);
    await logConsent(t, subscriber.id, report.kind === 'complaint' ? 'complained' : 'bounced', { method: report.provider }, at);
    return 'suppressed';
  });
}

/**
 * Lifts a suppression (console): the entry goes, and a subscriber marked
 * bounced becomes active again if they had confirmed (else unsubscribed: they
 * must opt in again). Their soft-bounce history is forgotten so the next one
 * does not suppress them again at once. False when there was nothing to lift.
 */
export async function liftSuppression(database: Sql, target: { subscriberId?: number; hash?: string }, now: Date): Promise<boolean> {
  const at = now.toISOString();
  return database.tx(async (t) => {
    const s = target.subscriberId !== undefined ? await findById(t, target.subscriberId) : undefined;
    const { changes: removed } = s
      ? await t.run('DELETE FROM suppressions WHERE subscriber_id = ? OR email_hash = ?', [s.id, emailHash(s.email)])
      : await t.run('DELETE FROM suppressions WHERE email_hash = ?', [target.hash ?? '']);
    if (!s) return removed > 0;
    await t.run("DELETE FROM provider_events WHERE subscriber_id = ? AND kind = 'soft_bounce'", [s.id]);
    if (s.status !== 'bounced') return removed > 0;
    await updateSubscriber(t, s.id, { status: s.confirmedAt ? 'active' : 'unsubscribed' }, at);
    await logConsent(t, s.id, 'suppression_lifted', { method: 'admin' }, at);
    return true;
  });
}

/**
 * The suppression entry an address has without a subscriber row: what a
 * deleted reader who bounced or complained leaves (only the hash is kept). A
 * signup, `subscribers add` or an import checks it, so deleting one's data
 * does not make a dead or complaining address mailable again.
 */
export function suppressionOf(sql: Sql, email: string): Promise<{ reason: string; source: string } | undefined> {
  return sql.get<{ reason: string; source: string }>('SELECT reason, source FROM suppressions WHERE email_hash = ?', [emailHash(email)]);
}

/** Removes an address's suppression entry (an operator re-adds it on purpose); false when there was none. */
export async function forgetSuppression(sql: Sql, email: string): Promise<boolean> {
  return (await sql.run('DELETE FROM suppressions WHERE email_hash = ?', [emailHash(email)])).changes > 0;
}
