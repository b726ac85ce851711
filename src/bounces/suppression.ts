import { createHash } from 'node:crypto';
import type { Database_ } from '../db/client.js';
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
export function recordBounce(database: Database_, report: BounceReport, rule: SoftBounceRule, now: Date): BounceOutcome {
  const at = now.toISOString();
  const { sqlite } = database;
  return sqlite
    .transaction((): BounceOutcome => {
      const subscriber = findByEmail(database, report.email);
      const fresh = sqlite
        .prepare('INSERT INTO provider_events (provider, event_id, kind, subscriber_id, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(report.provider, report.eventId, report.kind, subscriber?.id ?? null, at).changes;
      if (!fresh) return 'duplicate';
      let reason: 'hard_bounce' | 'complaint' | 'soft_bounces' = report.kind === 'soft_bounce' ? 'soft_bounces' : report.kind;
      if (report.kind === 'soft_bounce') {
        if (!subscriber) return 'unknown_recipient';
        const since = new Date(now.getTime() - rule.windowDays * 86_400_000).toISOString();
        const { n } = sqlite
          .prepare("SELECT count(*) AS n FROM provider_events WHERE subscriber_id = ? AND kind = 'soft_bounce' AND received_at > ?")
          .get(subscriber.id, since) as { n: number };
        if (n < rule.count) return 'counted';
        reason = 'soft_bounces';
      }
      const inserted = sqlite
        .prepare('INSERT INTO suppressions (email_hash, subscriber_id, reason, source, detail, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(emailHash(report.email), subscriber?.id ?? null, reason, report.provider, report.detail?.slice(0, 500) ?? null, at).changes;
      if (!subscriber) return inserted ? 'suppressed' : 'already_suppressed';
      if (subscriber.status === 'bounced' && !inserted) return 'already_suppressed';
      if (subscriber.status !== 'bounced') updateSubscriber(database, subscriber.id, { status: 'bounced' }, at);
      logConsent(database, subscriber.id, report.kind === 'complaint' ? 'complained' : 'bounced', { method: report.provider }, at);
      return 'suppressed';
    })
    .immediate();
}

/**
 * Lifts a suppression (console): the entry goes, and a subscriber marked
 * bounced becomes active again if they had confirmed (else unsubscribed: they
 * must opt in again). Their soft-bounce history is forgotten so the next one
 * does not suppress them again at once. False when there was nothing to lift.
 */
export function liftSuppression(database: Database_, target: { subscriberId?: number; hash?: string }, now: Date): boolean {
  const at = now.toISOString();
  const { sqlite } = database;
  return sqlite
    .transaction(() => {
      const s = target.subscriberId !== undefined ? findById(database, target.subscriberId) : undefined;
      const removed = s
        ? sqlite.prepare('DELETE FROM suppressions WHERE subscriber_id = ? OR email_hash = ?').run(s.id, emailHash(s.email)).changes
        : sqlite.prepare('DELETE FROM suppressions WHERE email_hash = ?').run(target.hash ?? '').changes;
      if (!s) return removed > 0;
      sqlite.prepare("DELETE FROM provider_events WHERE subscriber_id = ? AND kind = 'soft_bounce'").run(s.id);
      if (s.status !== 'bounced') return removed > 0;
      updateSubscriber(database, s.id, { status: s.confirmedAt ? 'active' : 'unsubscribed' }, at);
      logConsent(database, s.id, 'suppression_lifted', { method: 'admin' }, at);
      return true;
    })
    .immediate();
}

/**
 * The suppression entry an address has without a subscriber row: what a
 * deleted reader who bounced or complained leaves (only the hash is kept). A
 * signup, `subscribers add` or an import checks it, so deleting one's data
 * does not make a dead or complaining address mailable again.
 */
export function suppressionOf(database: Database_, email: string): { reason: string; source: string } | undefined {
  return database.sqlite.prepare('SELECT reason, source FROM suppressions WHERE email_hash = ?').get(emailHash(email)) as { reason: string; source: string } | undefined;
}

/** Removes an address's suppression entry (an operator re-adds it on purpose); false when there was none. */
export function forgetSuppression(database: Database_, email: string): boolean {
  return database.sqlite.prepare('DELETE FROM suppressions WHERE email_hash = ?').run(emailHash(email)).changes > 0;
}
