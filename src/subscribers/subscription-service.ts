import type { Database_ } from '../db/client.js';
import { suppressionOf } from '../bounces/suppression.js';
import { AppError, isDatabaseBusy } from '../errors.js';
import { maskEmail, type Logger } from '../logger.js';
import type { Links } from './links.js';
import {
  countMailSince,
  enqueueMail,
  findByEmail,
  findByLinkKey,
  insertSubscriber,
  logConsent,
  updateSubscriber,
  type ConsentContext,
  type Subscriber,
} from './subscriber-repo.js';
import { Preferences } from './subscription-input.js';
import { forgetQueued, queuedUnsubscribes, queueUnsubscribe, stillQueued, withQueuedUnsubscribes } from './unsubscribe-queue.js';

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

/** How long a reader's unsubscribe waits for the write lock before it is queued instead. */
export const UNSUBSCRIBE_BUSY_WAIT_MS = 1000;
const DRAIN_RETRY_MS = 5000;
const DRAIN_BUSY_WAIT_MS = 50;

/** Runs `fn` with the connection's busy timeout lowered to at most `ms` (synchronous, so nothing else sees it). */
function withBusyTimeout<T>(sqlite: Database_['sqlite'], ms: number, fn: () => T): T {
  const before = sqlite.pragma('busy_timeout', { simple: true }) as number;
  if (before <= ms) return fn();
  sqlite.pragma(`busy_timeout = ${ms}`);
  try {
    return fn();
  } finally {
    sqlite.pragma(`busy_timeout = ${before}`);
  }
}

/** The interest fields of a signup's request (what "Apply the interests you asked for" sets). */
export type RequestedInterests = Pick<Preferences, 'topics' | 'keywords' | 'exclude' | 'seeds' | 'authors'>;

/** What `requestConfirmation` did: mailed a confirmation, hit the daily cap, or refused (bounced). */
export type ConfirmationRequest = 'mailed' | 'capped' | 'suppressed';

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

  /**
   * Double opt-in for an existing row that is not receiving digests: it becomes
   * pending (an unsubscribed row keeps its unsubscribed_at, so imports still
   * treat it as suppressed) and gets a confirmation link. Requested preferences
   * wait on the row and replace the stored ones only when the link is clicked.
   * Bounced addresses get no mail from a reader-facing action.
   */
  function requestConfirmation(s: Subscriber, requested: Preferences | null, event: string, ctx: ConsentContext, now: Date): ConfirmationRequest {
    if (s.status === 'bounced') {
      log.info({ subscriber: s.id }, 'subscription request for a bounced address ignored');
      return 'suppressed';
    }
    const at = now.toISOString();
    // Without a request (a reader's own "Subscribe again"), any preferences a signup left waiting are dropped.
    const updated = updateSubscriber(database, s.id, { status: 'pending', requestedPrefs: requested }, at);
    logConsent(database, s.id, event, ctx, at);
    return queueMail('confirm', updated, now) ? 'mailed' : 'capped';
  }

  /** The interests a signup asked for while this reader already got digests, if any wait on the row. */
  function requestedInterests(s: Subscriber): RequestedInterests | null {
    if ((s.status !== 'active' && s.status !== 'paused') || !s.requestedPrefs) return null;
    const parsed = Preferences.safeParse(s.requestedPrefs);
    if (!parsed.success) return null;
    const { topics, keywords, exclude, seeds, authors } = parsed.data;
    return { topics, keywords, exclude, seeds, authors };
  }

  /** Applies queued unsubscribes to the database; returns how many; throws SQLITE_BUSY when it is still locked. */
  function drainQueue(waitMs = UNSUBSCRIBE_BUSY_WAIT_MS): number {
    const queued = queuedUnsubscribes(database);
    for (const e of queued) {
      withBusyTimeout(database.sqlite, waitMs, () =>
        tx(() => {
          const s = findByLinkKey(database, e.linkKey);
          // A deleted reader, or one who confirmed a new subscription after clicking: nothing to do.
          if (s && stillQueued(s, e)) unsubscribeSubscriber(database, s, e, new Date(e.at));
        }),
      );
      forgetQueued(database, [e]);
    }
    if (queued.length) log.info({ applied: queued.length }, 'queued unsubscribes applied');
    return queued.length;
  }

  let drainTimer: NodeJS.Timeout | null = null;
  /** Drains now if it can; while the database stays busy, tries again every few seconds. */
  function drainSoon(): void {
    drainTimer = null;
    try {
      // Barely wait for the lock: better-sqlite3 blocks the event loop while it waits, and this retries anyway.
      drainQueue(DRAIN_BUSY_WAIT_MS);
    } catch (err) {
      if (!isDatabaseBusy(err)) return void log.error({ err }, 'draining the unsubscribe queue failed');
      drainTimer = setTimeout(drainSoon, DRAIN_RETRY_MS);
      drainTimer.unref();
    }
  }
  // A process that stopped with unsubscribes still queued applies them at the next start.
  drainSoon();

  return {
    /**
     * A signup. The caller answers the same whatever happens here (no enumeration):
     * new addresses get a confirmation email, active and paused ones a manage email
     * (the interests asked for wait on the row until applied from the manage page), pending
     * and unsubscribed ones a confirmation (their stored preferences change only
     * when it is clicked), bounced ones nothing.
     */
    subscribe(email: string, prefs: Preferences, ctx: ConsentContext, now: Date): void {
      const at = now.toISOString();
      const queued = tx(() => {
        const existing = findByEmail(database, email);
        if (!existing && suppressionOf(database, email)) {
          // A deleted reader's bounce or complaint (kept as a hash): no row, no mail, the same answer.
          log.info({ to: maskEmail(email) }, 'signup for an address on the suppression list ignored');
          return false;
        }
        if (!existing) {
          const s = insertSubscriber(database, email, 'pending', prefs, at);
          logConsent(database, s.id, 'subscribe_requested', ctx, at);
          return queueMail('confirm', s, now);
        }
        if (existing.status === 'active' || existing.status === 'paused') {
          // The request waits on the row; only the owner's click on the manage page applies it (anyone can type an address).
          const updated = updateSubscriber(database, existing.id, { requestedPrefs: prefs }, at);
          return queueMail('manage', updated, now);
        }
        return requestConfirmation(existing, prefs, 'subscribe_requested', ctx, now) === 'mailed';
      });
      if (queued) kickOutbound();
    },

    /** Double opt-in: a pending subscriber becomes active, with the preferences it asked for. Confirming twice is harmless. */
    confirm(token: string, ctx: ConsentContext, now: Date): Subscriber {
      return tx(() => {
        const { subscriber } = links.resolve(database, token, 'confirm', now);
        if (subscriber.status === 'active' || subscriber.status === 'paused') return subscriber;
        if (subscriber.status !== 'pending') {
          throw new AppError('invalid_token', 'This confirmation link is no longer valid. Subscribe again from the start page.');
        }
        const at = now.toISOString();
        logConsent(database, subscriber.id, 'confirmed', ctx, at);
        const requested = Preferences.safeParse(subscriber.requestedPrefs);
        const prefs = subscriber.requestedPrefs && requested.success ? requested.data : {};
        return updateSubscriber(database, subscriber.id, { ...prefs, requestedPrefs: null, status: 'active', confirmedAt: at, unsubscribedAt: null }, at);
      });
    },

    /** The subscriber behind a confirmation link (for showing the confirm page), with the preferences it would get. */
    forConfirm(token: string, now: Date): Subscriber {
      const { subscriber } = links.resolve(database, token, 'confirm', now);
      if (subscriber.status === 'unsubscribed' || subscriber.status === 'bounced') {
        throw new AppError('invalid_token', 'This confirmation link is no longer valid. Subscribe again from the start page.');
      }
      const requested = Preferences.safeParse(subscriber.requestedPrefs);
      return subscriber.requestedPrefs && requested.success ? { ...subscriber, ...requested.data } : subscriber;
    },

    /** The subscriber behind a manage link (for showing the preferences page). */
    forManage(token: string, now: Date): Subscriber {
      return links.resolve(database, token, 'manage', now).subscriber;
    },

    /** The subscriber behind an unsubscribe link, as it is once queued unsubscribes are applied. */
    forUnsubscribe(token: string, now: Date): Subscriber {
      return withQueuedUnsubscribes(database, [links.resolve(database, token, 'unsubscribe', now).subscriber])[0]!;
    },

    /** Saves new preferences from the manage page (the reader's own choice replaces any a signup left waiting). */
    updatePreferences(token: string, prefs: Preferences, now: Date): Subscriber {
      return tx(() => {
        const { subscriber } = links.resolve(database, token, 'manage', now);
        return updateSubscriber(database, subscriber.id, { ...prefs, requestedPrefs: null }, now.toISOString());
      });
    },

    requestedInterests,

    /**
     * "Apply the interests you asked for" on the manage page: the waiting request's
     * interests replace the stored ones; the schedule stays as the reader set it.
     * Returns whether anything was applied (a second click, or no request, changes nothing).
     */
    applyRequested(token: string, now: Date): { subscriber: Subscriber; applied: boolean } {
      return tx(() => {
        const { subscriber } = links.resolve(database, token, 'manage', now);
        const interests = requestedInterests(subscriber);
        if (!interests) return { subscriber, applied: false };
        return { subscriber: updateSubscriber(database, subscriber.id, { ...interests, requestedPrefs: null }, now.toISOString()), applied: true };
      });
    },

    /** Pause or resume from the manage page (a paused reader has confirmed; resuming needs no new opt-in). */
    setStatus(token: string, action: 'pause' | 'resume', now: Date): Subscriber {
      return tx(() => {
        const { subscriber } = links.resolve(database, token, 'manage', now);
        const at = now.toISOString();
        if (action === 'pause') return subscriber.status === 'active' ? updateSubscriber(database, subscriber.id, { status: 'paused' }, at) : subscriber;
        return subscriber.status === 'paused' ? updateSubscriber(database, subscriber.id, { status: 'active' }, at) : subscriber;
      });
    },

    /**
     * "Subscribe again" from the manage or unsubscribe page: never re-activates
     * directly (an old link may be in someone else's hands); it mails a fresh
     * confirmation to the address, and the reader stays unsubscribed until it is clicked.
     */
    resubscribe(token: string, purpose: 'manage' | 'unsubscribe', ctx: ConsentContext, now: Date): { subscriber: Subscriber; outcome: ConfirmationRequest | 'active' } {
      const result = tx(() => {
        const { subscriber } = links.resolve(database, token, purpose, now);
        if (subscriber.status === 'active' || subscriber.status === 'paused') return { subscriber, outcome: 'active' as const };
        const outcome = requestConfirmation(subscriber, null, 'resubscribe_requested', ctx, now);
        return { subscriber, outcome };
      });
      if (result.outcome === 'mailed') kickOutbound();
      return result;
    },

    /**
     * Unsubscribes at once (page button, RFC 8058 one-click, CLI). Bumps the token
     * version so old manage and confirm links stop working; unsubscribe links keep
     * working. When the database stays locked past UNSUBSCRIBE_BUSY_WAIT_MS the
     * request is queued durably instead (see unsubscribe-queue.ts) and still succeeds.
     */
    unsubscribe(token: string, ctx: ConsentContext, now: Date): Subscriber {
      try {
        return withBusyTimeout(database.sqlite, UNSUBSCRIBE_BUSY_WAIT_MS, () =>
          tx(() => unsubscribeSubscriber(database, links.resolve(database, token, 'unsubscribe', now).subscriber, ctx, now)),
        );
      } catch (err) {
        if (!isDatabaseBusy(err)) throw err;
        // Reading still works under another connection's write lock (WAL).
        const { subscriber } = links.resolve(database, token, 'unsubscribe', now);
        if (subscriber.status === 'unsubscribed') return subscriber;
        const entry = { linkKey: subscriber.linkKey, method: ctx.method, ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null, at: now.toISOString() };
        if (!queueUnsubscribe(database, entry)) throw err;
        log.warn({ subscriber: subscriber.id }, 'database busy: unsubscribe queued');
        if (!drainTimer) {
          drainTimer = setTimeout(drainSoon, DRAIN_RETRY_MS);
          drainTimer.unref();
        }
        return { ...subscriber, status: 'unsubscribed', unsubscribedAt: entry.at };
      }
    },

    /** Applies queued unsubscribes now; returns how many; throws SQLITE_BUSY while the database stays locked. */
    drainUnsubscribeQueue: () => drainQueue(),

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
  return updateSubscriber(database, s.id, { status: 'unsubscribed', unsubscribedAt: at, requestedPrefs: null, tokenVersion: s.tokenVersion + 1 }, at);
}
