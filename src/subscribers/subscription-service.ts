import type { Database_ } from '../db/client.js';
import { AppError } from '../errors.js';
import { maskEmail, type Logger } from '../logger.js';
import type { Links } from './links.js';
import {
  countMailSince,
  enqueueMail,
  findByEmail,
  insertSubscriber,
  logConsent,
  updateSubscriber,
  type ConsentContext,
  type Subscriber,
} from './subscriber-repo.js';
import type { Preferences } from './subscription-input.js';

/** At most this many confirmation / manage emails per address per 24 h. */
export const MAIL_CAP_PER_DAY = 3;

/** What the subscription use cases need. */
export interface SubscriptionDeps {
  database: Database_;
  links: Links;
  log: Logger;
  /** Wakes the outbound mail worker (never awaited by the request). */
  kickOutbound: () => void;
}

/** Subscribe, confirm, change preferences, pause, unsubscribe. */
export function createSubscriptionService({ database, links, log, kickOutbound }: SubscriptionDeps) {
  const tx = <T>(fn: () => T) => database.sqlite.transaction(fn).immediate();

  /** Queues a confirmation or manage mail unless the address had its share today. */
  function queueMail(kind: 'confirm' | 'manage', s: Subscriber, now: Date): boolean {
    const dayAgo = new Date(now.getTime() - 24 * 3600 * 1000).toISOString();
    if (countMailSince(database, s.email, dayAgo) >= MAIL_CAP_PER_DAY) {
      log.warn({ subscriber: s.id, to: maskEmail(s.email) }, 'mail cap reached; not sending another');
      return false;
    }
    enqueueMail(database, kind, s.id, s.email, now.toISOString());
    return true;
  }

  return {
    /**
     * A signup. The caller answers the same whatever happens here (no enumeration):
     * new or lapsed addresses get a confirmation email, active ones a manage email.
     */
    subscribe(email: string, prefs: Preferences, ctx: ConsentContext, now: Date): void {
      const at = now.toISOString();
      const queued = tx(() => {
        const existing = findByEmail(database, email);
        if (!existing) {
          const s = insertSubscriber(database, email, 'pending', prefs, at);
          logConsent(database, s.id, 'subscribe_requested', ctx, at);
          return queueMail('confirm', s, now);
        }
        if (existing.status === 'active' || existing.status === 'paused') return queueMail('manage', existing, now);
        // Pending, unsubscribed or bounced: take the new preferences and ask for confirmation again.
        const s = updateSubscriber(database, existing.id, { ...prefs, status: 'pending' }, at);
        logConsent(database, s.id, 'subscribe_requested', ctx, at);
        return queueMail('confirm', s, now);
      });
      if (queued) kickOutbound();
    },

    /** Double opt-in: a pending subscriber becomes active. Confirming twice is harmless. */
    confirm(token: string, ctx: ConsentContext, now: Date): Subscriber {
      return tx(() => {
        const { subscriber } = links.resolve(database, token, 'confirm', now);
        if (subscriber.status === 'active' || subscriber.status === 'paused') return subscriber;
        if (subscriber.status !== 'pending') {
          throw new AppError('invalid_token', 'This confirmation link is no longer valid. Subscribe again from the start page.');
        }
        const at = now.toISOString();
        logConsent(database, subscriber.id, 'confirmed', ctx, at);
        return updateSubscriber(database, subscriber.id, { status: 'active', confirmedAt: at, unsubscribedAt: null }, at);
      });
    },

    /** The subscriber behind a confirmation link (for showing the confirm page). */
    forConfirm(token: string, now: Date): Subscriber {
      const { subscriber } = links.resolve(database, token, 'confirm', now);
      if (subscriber.status === 'unsubscribed' || subscriber.status === 'bounced') {
        throw new AppError('invalid_token', 'This confirmation link is no longer valid. Subscribe again from the start page.');
      }
      return subscriber;
    },

    /** The subscriber behind a manage link (for showing the preferences page). */
    forManage(token: string, now: Date): Subscriber {
      return links.resolve(database, token, 'manage', now).subscriber;
    },

    /** The subscriber behind an unsubscribe link. */
    forUnsubscribe(token: string, now: Date): Subscriber {
      return links.resolve(database, token, 'unsubscribe', now).subscriber;
    },

    /** Saves new preferences from the manage page. */
    updatePreferences(token: string, prefs: Preferences, now: Date): Subscriber {
      return tx(() => {
        const { subscriber } = links.resolve(database, token, 'manage', now);
        return updateSubscriber(database, subscriber.id, prefs, now.toISOString());
      });
    },

    /** Pause, resume or resubscribe from the manage page. */
    setStatus(token: string, action: 'pause' | 'resume' | 'resubscribe', ctx: ConsentContext, now: Date): Subscriber {
      return tx(() => {
        const { subscriber } = links.resolve(database, token, 'manage', now);
        const at = now.toISOString();
        if (action === 'pause') {
          if (subscriber.status !== 'active') return subscriber;
          return updateSubscriber(database, subscriber.id, { status: 'paused' }, at);
        }
        if (subscriber.status === 'active') return subscriber;
        // A manage link proves control of the mailbox, so no second opt-in is needed.
        if (subscriber.status !== 'paused') logConsent(database, subscriber.id, 'resubscribed', ctx, at);
        return updateSubscriber(database, subscriber.id, { status: 'active', unsubscribedAt: null, confirmedAt: subscriber.confirmedAt ?? at }, at);
      });
    },

    /**
     * Unsubscribes at once (page button, RFC 8058 one-click, CLI). Bumps the token
     * version so old manage and confirm links stop working; unsubscribe links keep working.
     */
    unsubscribe(token: string, ctx: ConsentContext, now: Date): Subscriber {
      return tx(() => {
        const { subscriber } = links.resolve(database, token, 'unsubscribe', now);
        return unsubscribeSubscriber(database, subscriber, ctx, now);
      });
    },

    /** Revokes every link sent so far (e.g. after a digest was forwarded). */
    resetLinks(token: string, now: Date): Subscriber {
      return tx(() => {
        const { subscriber } = links.resolve(database, token, 'manage', now);
        return updateSubscriber(database, subscriber.id, { tokenVersion: subscriber.tokenVersion + 1 }, now.toISOString());
      });
    },
  };
}
export type SubscriptionService = ReturnType<typeof createSubscriptionService>;

/** Marks a subscriber unsubscribed and logs it; idempotent. */
export function unsubscribeSubscriber(database: Database_, s: Subscriber, ctx: ConsentContext, now: Date): Subscriber {
  if (s.status === 'unsubscribed') return s;
  const at = now.toISOString();
  logConsent(database, s.id, 'unsubscribed', ctx, at);
  return updateSubscriber(database, s.id, { status: 'unsubscribed', unsubscribedAt: at, tokenVersion: s.tokenVersion + 1 }, at);
}
