import type { Database_ } from '../db/client.js';
import type { Sql } from '../db/sql.js';
import { suppressionOf } from '../bounces/suppression.js';
import { AppError, isDatabaseBusy } from '../errors.js';
import { maskEmail, type Logger } from '../logger.js';
import { lockWaitLimitedTx } from './lock-wait.js';
import type { Links } from './links.js';
import {
  countMailSince,
  enqueueMail,
  findByEmail,
  findByLinkKey,
  insertSubscriber,
  lockAddress,
  logConsent,
  updateSubscriber,
  type ConsentContext,
  type Subscriber,
} from './subscriber-repo.js';
import { Preferences } from './subscription-input.js';
import { forgetQueued, queuedUnsubscribes, queueUnsubscribe, stillQueued, useLocalUnsubscribeQueue, withQueuedUnsubscribes } from './unsubscribe-queue.js';

/** At most this many confirmation / manage emails per address per 24 h. */
export const MAIL_CAP_PER_DAY = 3;

/** What the subscription use cases need. */
export interface SubscriptionDeps {
  database: Database_;
  links: Links;
  log: Logger;
  /** Wakes the outbound mail worker (never awaited by the request). */
  kickOutbound: () => void;
  /**
   * DATABASE_PATH: on PostgreSQL this node's local unsubscribe queue file lives beside it
   * (`<DATABASE_PATH>.unsubscribe-queue`); without it an unsubscribe that cannot get its row's lock
   * fails. SQLite always queues beside the database file.
   */
  databasePath?: string;
}

/** How long a reader's unsubscribe waits for the write lock before it is queued instead. */
export const UNSUBSCRIBE_BUSY_WAIT_MS = 1000;
const DRAIN_RETRY_MS = 5000;
const DRAIN_BUSY_WAIT_MS = 50;

/** The interest fields of a signup's request (what "Apply the interests you asked for" sets). */
export type RequestedInterests = Pick<Preferences, 'topics' | 'keywords' | 'exclude' | 'seeds' | 'authors'>;

/** What `requestConfirmation` did: mailed a confirmation, hit the daily cap, or refused (bounced). */
export type ConfirmationRequest = 'mailed' | 'capped' | 'suppressed';

/** Subscribe, confirm, change preferences, pause, unsubscribe. */
export function createSubscriptionService({ database, links, log, kickOutbound, databasePath }: SubscriptionDeps) {
  const tx = <T>(fn: (t: Sql) => Promise<T>) => database.tx(fn);
  if (databasePath) useLocalUnsubscribeQueue(database, databasePath);

  const busyLimitedTx = <T>(ms: number, fn: (t: Sql) => Promise<T>) => lockWaitLimitedTx(database, ms, fn);

  /**
   * Whether the address may get another confirmation or manage mail today.
   * Asked before anything is written: when the cap says no, the caller changes
   * nothing (status, consent log, waiting preferences), so a refused request
   * leaves no half-done state behind. Runs inside a transaction that took
   * `lockAddress` first, so this count and the queueMail after it are one step
   * even with several web nodes (SQLite's BEGIN IMMEDIATE is serial anyway).
   */
  async function mailAllowed(t: Sql, email: string, now: Date, subscriberId?: number): Promise<boolean> {
    const dayAgo = new Date(now.getTime() - 24 * 3600 * 1000).toISOString();
    if ((await countMailSince(t, email, dayAgo)) < MAIL_CAP_PER_DAY) return true;
    log.warn({ subscriber: subscriberId, to: maskEmail(email) }, 'mail cap reached; not sending another and changing nothing');
    return false;
  }

  /** Queues a confirmation or manage mail; the caller checked `mailAllowed` in the same transaction. */
  async function queueMail(t: Sql, kind: 'confirm' | 'manage', s: Subscriber, now: Date): Promise<true> {
    await enqueueMail(t, kind, s.id, s.email, now.toISOString());
    return true;
  }

  /** The subscriber behind a token, with its address locked for mail (see lockAddress); re-read after the lock. */
  async function resolveLocked(t: Sql, token: string, purpose: 'manage' | 'unsubscribe', now: Date): Promise<Subscriber> {
    const first = (await links.resolve(t, token, purpose, now)).subscriber;
    return (await lockAddress(t, first.email)) ? (await links.resolve(t, token, purpose, now)).subscriber : first;
  }

  /**
   * Double opt-in for an existing row that is not receiving digests: it becomes
   * pending (an unsubscribed row keeps its unsubscribed_at, so imports still
   * treat it as suppressed) and gets a confirmation link. Requested preferences
   * wait on the row and replace the stored ones only when the link is clicked.
   * Bounced addresses get no mail from a reader-facing action.
   */
  async function requestConfirmation(t: Sql, s: Subscriber, requested: Preferences | null, event: string, ctx: ConsentContext, now: Date): Promise<ConfirmationRequest> {
    if (s.status === 'bounced') {
      log.info({ subscriber: s.id }, 'subscription request for a bounced address ignored');
      return 'suppressed';
    }
    // All or nothing: over the cap no mail goes out, so the row and the consent log stay as they are.
    if (!(await mailAllowed(t, s.email, now, s.id))) return 'capped';
    const at = now.toISOString();
    // Without a request (a reader's own "Subscribe again"), any preferences a signup left waiting are dropped.
    const updated = await updateSubscriber(t, s.id, { status: 'pending', requestedPrefs: requested }, at);
    await logConsent(t, s.id, event, ctx, at);
    await queueMail(t, 'confirm', updated, now);
    return 'mailed';
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
  async function drainQueue(waitMs = UNSUBSCRIBE_BUSY_WAIT_MS): Promise<number> {
    const queued = queuedUnsubscribes(database);
    for (const e of queued) {
      await busyLimitedTx(waitMs, async (t) => {
        const s = await findByLinkKey(t, e.linkKey);
        // A deleted reader, or one who confirmed a new subscription after clicking: nothing to do.
        if (s && stillQueued(s, e)) await unsubscribeSubscriber(t, s, e, new Date(e.at));
      });
      forgetQueued(database, [e]);
    }
    if (queued.length) log.info({ applied: queued.length }, 'queued unsubscribes applied');
    return queued.length;
  }

  let drainTimer: NodeJS.Timeout | null = null;
  /** Drains now if it can; while the database stays busy, tries again every few seconds. */
  async function drainSoon(): Promise<void> {
    drainTimer = null;
    try {
      // Barely wait for the lock: better-sqlite3 blocks the event loop while it waits, and this retries anyway.
      await drainQueue(DRAIN_BUSY_WAIT_MS);
    } catch (err) {
      if (!isDatabaseBusy(err)) return void log.error({ err }, 'draining the unsubscribe queue failed');
      drainTimer = setTimeout(() => void drainSoon(), DRAIN_RETRY_MS);
      drainTimer.unref();
    }
  }
  // A process that stopped with unsubscribes still queued applies them at the next start.
  void drainSoon();

  return {
    /**
     * A signup. The caller answers the same whatever happens here (no enumeration):
     * new addresses get a confirmation email, active and paused ones a manage email
     * (the interests asked for wait on the row until applied from the manage page), pending
     * and unsubscribed ones a confirmation (their stored preferences change only
     * when it is clicked), bounced ones nothing.
     */
    async subscribe(email: string, prefs: Preferences, ctx: ConsentContext, now: Date): Promise<void> {
      const at = now.toISOString();
      const queued = await tx(async (t) => {
        // Two signups for one address on two nodes: the second waits here, then finds the first's row and its mail.
        await lockAddress(t, email);
        const existing = await findByEmail(t, email);
        if (!existing && (await suppressionOf(t, email))) {
          // A deleted reader's bounce or complaint (kept as a hash): no row, no mail, the same answer.
          log.info({ to: maskEmail(email) }, 'signup for an address on the suppression list ignored');
          return false;
        }
        if (!existing) {
          if (!(await mailAllowed(t, email, now))) return false;
          const s = await insertSubscriber(t, email, 'pending', prefs, at);
          await logConsent(t, s.id, 'subscribe_requested', ctx, at);
          return queueMail(t, 'confirm', s, now);
        }
        if (existing.status === 'active' || existing.status === 'paused') {
          // The request waits on the row; only the owner's click on the manage page applies it (anyone can type an address).
          // Over the cap nothing is written: a request the owner is never told about must not wait on the row.
          if (!(await mailAllowed(t, existing.email, now, existing.id))) return false;
          const updated = await updateSubscriber(t, existing.id, { requestedPrefs: prefs }, at);
          return queueMail(t, 'manage', updated, now);
        }
        return (await requestConfirmation(t, existing, prefs, 'subscribe_requested', ctx, now)) === 'mailed';
      });
      if (queued) kickOutbound();
    },

    /** Double opt-in: a pending subscriber becomes active, with the preferences it asked for. Confirming twice is harmless. */
    confirm(token: string, ctx: ConsentContext, now: Date): Promise<Subscriber> {
      return tx(async (t) => {
        const { subscriber } = await links.resolve(t, token, 'confirm', now);
        if (subscriber.status === 'active' || subscriber.status === 'paused') return subscriber;
        if (subscriber.status !== 'pending') {
          throw new AppError('invalid_token', 'This confirmation link is no longer valid. Subscribe again from the start page.');
        }
        const at = now.toISOString();
        await logConsent(t, subscriber.id, 'confirmed', ctx, at);
        const requested = Preferences.safeParse(subscriber.requestedPrefs);
        const prefs = subscriber.requestedPrefs && requested.success ? requested.data : {};
        return updateSubscriber(t, subscriber.id, { ...prefs, requestedPrefs: null, status: 'active', confirmedAt: at, unsubscribedAt: null }, at);
      });
    },

    /** The subscriber behind a confirmation link (for showing the confirm page), with the preferences it would get. */
    async forConfirm(token: string, now: Date): Promise<Subscriber> {
      const { subscriber } = await links.resolve(database, token, 'confirm', now);
      if (subscriber.status === 'unsubscribed' || subscriber.status === 'bounced') {
        throw new AppError('invalid_token', 'This confirmation link is no longer valid. Subscribe again from the start page.');
      }
      const requested = Preferences.safeParse(subscriber.requestedPrefs);
      return subscriber.requestedPrefs && requested.success ? { ...subscriber, ...requested.data } : subscriber;
    },

    /** The subscriber behind a manage link (for showing the preferences page). */
    async forManage(token: string, now: Date): Promise<Subscriber> {
      return (await links.resolve(database, token, 'manage', now)).subscriber;
    },

    /** The subscriber behind an unsubscribe link, as it is once queued unsubscribes are applied; null when the reader was deleted (see resolveUnsubscribe). */
    async forUnsubscribe(token: string, now: Date): Promise<Subscriber | null> {
      const s = await links.resolveUnsubscribe(database, token, now);
      return s && withQueuedUnsubscribes(database, [s])[0]!;
    },

    /** Saves new preferences from the manage page (the reader's own choice replaces any a signup left waiting). */
    updatePreferences(token: string, prefs: Preferences, now: Date): Promise<Subscriber> {
      return tx(async (t) => {
        const { subscriber } = await links.resolve(t, token, 'manage', now);
        return updateSubscriber(t, subscriber.id, { ...prefs, requestedPrefs: null }, now.toISOString());
      });
    },

    requestedInterests,

    /**
     * "Apply the interests you asked for" on the manage page: the waiting request's
     * interests replace the stored ones; the schedule stays as the reader set it.
     * Returns whether anything was applied (a second click, or no request, changes nothing).
     */
    applyRequested(token: string, now: Date): Promise<{ subscriber: Subscriber; applied: boolean }> {
      return tx(async (t) => {
        const { subscriber } = await links.resolve(t, token, 'manage', now);
        const interests = requestedInterests(subscriber);
        if (!interests) return { subscriber, applied: false };
        return { subscriber: await updateSubscriber(t, subscriber.id, { ...interests, requestedPrefs: null }, now.toISOString()), applied: true };
      });
    },

    /** Pause or resume from the manage page (a paused reader has confirmed; resuming needs no new opt-in). */
    setStatus(token: string, action: 'pause' | 'resume', now: Date): Promise<Subscriber> {
      return tx(async (t) => {
        const { subscriber } = await links.resolve(t, token, 'manage', now);
        const at = now.toISOString();
        if (action === 'pause') return subscriber.status === 'active' ? updateSubscriber(t, subscriber.id, { status: 'paused' }, at) : subscriber;
        return subscriber.status === 'paused' ? updateSubscriber(t, subscriber.id, { status: 'active' }, at) : subscriber;
      });
    },

    /**
     * "Subscribe again" from the manage or unsubscribe page: never re-activates
     * directly (an old link may be in someone else's hands); it mails a fresh
     * confirmation to the address, and the reader stays unsubscribed until it is clicked.
     */
    async resubscribe(token: string, purpose: 'manage' | 'unsubscribe', ctx: ConsentContext, now: Date): Promise<{ subscriber: Subscriber; outcome: ConfirmationRequest | 'active' }> {
      const result = await tx(async (t) => {
        const subscriber = await resolveLocked(t, token, purpose, now);
        if (subscriber.status === 'active' || subscriber.status === 'paused') return { subscriber, outcome: 'active' as const };
        const outcome = await requestConfirmation(t, subscriber, null, 'resubscribe_requested', ctx, now);
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
     * A deleted reader's link changes nothing and resolves to null ("not subscribed").
     */
    async unsubscribe(token: string, ctx: ConsentContext, now: Date): Promise<Subscriber | null> {
      try {
        return await busyLimitedTx(UNSUBSCRIBE_BUSY_WAIT_MS, async (t) => {
          const s = await links.resolveUnsubscribe(t, token, now);
          return s && unsubscribeSubscriber(t, s, ctx, now);
        });
      } catch (err) {
        if (!isDatabaseBusy(err)) throw err;
        // Reading still works under another connection's write lock (WAL; MVCC on PostgreSQL).
        const subscriber = await links.resolveUnsubscribe(database, token, now);
        if (!subscriber || subscriber.status === 'unsubscribed') return subscriber;
        const entry = { linkKey: subscriber.linkKey, method: ctx.method, ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null, at: now.toISOString() };
        if (!queueUnsubscribe(database, entry)) throw err;
        log.warn({ subscriber: subscriber.id }, 'database busy: unsubscribe queued');
        if (!drainTimer) {
          drainTimer = setTimeout(() => void drainSoon(), DRAIN_RETRY_MS);
          drainTimer.unref();
        }
        return { ...subscriber, status: 'unsubscribed', unsubscribedAt: entry.at };
      }
    },

    /** Applies queued unsubscribes now; returns how many; throws SQLITE_BUSY while the database stays locked. */
    drainUnsubscribeQueue: () => drainQueue(),

    /** Revokes every link sent so far (e.g. after a digest was forwarded). */
    resetLinks(token: string, now: Date): Promise<Subscriber> {
      return tx(async (t) => {
        const { subscriber } = await links.resolve(t, token, 'manage', now);
        return updateSubscriber(t, subscriber.id, { tokenVersion: subscriber.tokenVersion + 1 }, now.toISOString());
      });
    },
  };
}
export type SubscriptionService = ReturnType<typeof createSubscriptionService>;

/** Marks a subscriber unsubscribed and logs it; idempotent. */
export async function unsubscribeSubscriber(sql: Sql, s: Subscriber, ctx: ConsentContext, now: Date): Promise<Subscriber> {
  if (s.status === 'unsubscribed') return s;
  const at = now.toISOString();
  await logConsent(sql, s.id, 'unsubscribed', ctx, at);
  return updateSubscriber(sql, s.id, { status: 'unsubscribed', unsubscribedAt: at, requestedPrefs: null, tokenVersion: s.tokenVersion + 1 }, at);
}
