import type { Database_ } from '../db/client.js';
import { maskEmail, type Logger } from '../logger.js';
import type { Links } from '../subscribers/links.js';
import { claimDueMail, findById, finishMail, logConsent, updateSubscriber, type Subscriber } from '../subscribers/subscriber-repo.js';
import { describeInterests } from '../subscribers/topic-catalogue.js';
import type { RenderEmail } from './email-templates.js';
import { retryWhileBusy } from '../db/busy-retry.js';
import { sendOrRefusal, type Mailer, type OutgoingMail } from './mailer.js';
import { recordRelayFailure, recordRelaySuccess } from './relay-status.js';
import { classifySmtpFailure, maskAddresses } from './smtp-failure.js';

export const MAX_ATTEMPTS = 8;
const STALE_SENDING_MS = 10 * 60 * 1000;

/** Delay before retry n (1-based): 30 s, 1 min, 2 min … capped at 1 h. */
export function retryDelayMs(attempt: number, baseMs = 30_000): number {
  return Math.min(baseMs * 2 ** (attempt - 1), 3600_000);
}

/** What the worker needs. */
export interface OutboundDeps {
  database: Database_;
  mailer: Mailer;
  renderEmail: RenderEmail;
  links: Links;
  log: Logger;
  now?: () => Date;
  retryBaseMs?: number;
}

/** Builds the message for one queued mail, or null when it no longer applies. */
function compose(kind: string, s: Subscriber, links: Links, render: RenderEmail, now: Date): OutgoingMail | null {
  const common = { email: s.email, manageUrl: links.manageUrl(s), unsubscribeUrl: links.unsubscribeUrl(s) };
  if (kind === 'confirm') {
    if (s.status !== 'pending') return null;
    const body = render('confirm', {
      ...common,
      confirmUrl: links.confirmUrl(s, now),
      interests: describeInterests(s),
      frequencyLabel: s.frequency === 'weekly' ? 'weekly' : 'daily',
    });
    return { to: s.email, subject: 'Confirm your Paperboy subscription', ...body };
  }
  if (kind === 'manage') {
    if (s.status !== 'active' && s.status !== 'paused') return null;
    // Says only that different interests were asked for, never what they were: the requester typed them.
    return { to: s.email, subject: 'Your Paperboy subscription', ...render('manage', { ...common, requested: Boolean(s.requestedPrefs) }) };
  }
  if (kind === 'silence') {
    // See silence-notes.ts: the reader's digests found nothing for a whole stretch.
    if (s.status !== 'active') return null;
    const stretch = s.frequency === 'weekly' ? 'four weekly issues' : 'a whole week';
    return { to: s.email, subject: 'Paperboy found nothing for you lately', ...render('silence', { ...common, interests: describeInterests(s), stretch }) };
  }
  return null;
}

/**
 * Sends queued transactional mail (confirmations, manage links). A dead SMTP
 * server delays mail but loses none: failures are retried with backoff. Only a
 * recipient-level permanent refusal marks the address bounced; a relay refusal
 * (authentication, sender, content) keeps the mail queued and bounces nobody.
 */
export function createOutboundWorker(deps: OutboundDeps) {
  const { database, mailer, renderEmail, links, log } = deps;
  const clock = deps.now ?? (() => new Date());
  let running: Promise<number> | null = null;
  // A kick during a run may come after the run's last look at the queue: it runs the queue once more.
  let again = false;

  async function drain(): Promise<number> {
    const sent = await drainQueue();
    if (sent > 0) {
      try {
        await recordRelaySuccess(database, clock().toISOString());
      } catch (err) {
        log.warn({ err }, 'could not record the relay success');
      }
    }
    return sent;
  }

  async function drainQueue(): Promise<number> {
    let sent = 0;
    for (;;) {
      const now = clock();
      // Claimed row by row (FOR UPDATE SKIP LOCKED on PostgreSQL): two nodes draining at once never send one mail twice.
      const row = await claimDueMail(database, now.toISOString(), new Date(now.getTime() - STALE_SENDING_MS).toISOString());
      if (!row) return sent;
      const subscriber = row.subscriberId ? await findById(database, row.subscriberId) : undefined;
      const composed = subscriber ? compose(row.kind, subscriber, links, renderEmail, now) : null;
      // The subscriber id lets the mailer sign a VERP return path (BOUNCE_ADDRESS).
      const mail = composed && subscriber ? { ...composed, subscriberId: subscriber.id } : null;
      if (!mail) {
        await finishMail(database, row.id, { status: 'failed', lastError: 'no longer applies' });
        continue;
      }
      const err = await sendOrRefusal(mailer, mail);
      if (!err) {
        // Accepted: recorded even if the database is busy for a while, or it would be sent again.
        await retryWhileBusy('mark sent', () => finishMail(database, row.id, { status: 'sent', sentAt: clock().toISOString(), attempts: row.attempts + 1 }), { log });
        sent++;
        continue;
      }
      const failure = classifySmtpFailure(err);
      const message = maskAddresses(err.message).slice(0, 500);
      if (failure.kind === 'relay') {
        // Our relay's problem, not the reader's: the mail waits (its attempts untouched) until the operator fixes it.
        const at = clock();
        await finishMail(database, row.id, { status: 'queued', lastError: message, nextAttemptAt: new Date(at.getTime() + retryDelayMs(row.attempts + 1, deps.retryBaseMs)).toISOString() });
        await recordRelayFailure(database, { at: at.toISOString(), source: 'outbound', kind: 'relay', reason: failure.reason, error: message });
        log.error({ alert: 'relay', mail: row.id, reason: failure.reason, err: message }, 'the relay refused a transactional mail (not the reader): check SMTP_URL, credentials and sender');
        return sent;
      }
      const attempts = row.attempts + 1;
      const permanent = failure.kind === 'recipient';
      if (permanent || attempts >= MAX_ATTEMPTS) {
        await finishMail(database, row.id, { status: 'failed', attempts, lastError: message });
        if (permanent && subscriber) {
          const at = clock().toISOString();
          await database.tx(async (t) => {
            await updateSubscriber(t, subscriber.id, { status: 'bounced' }, at);
            await logConsent(t, subscriber.id, 'bounced', { method: 'smtp' }, at);
          });
          log.warn({ mail: row.id, to: maskEmail(row.recipient), reason: failure.reason }, 'address suppressed');
        }
        log.warn({ mail: row.id, to: maskEmail(row.recipient), err: message }, 'transactional mail failed for good');
      } else {
        const next = new Date(clock().getTime() + retryDelayMs(attempts, deps.retryBaseMs)).toISOString();
        await finishMail(database, row.id, { status: 'queued', attempts, lastError: message, nextAttemptAt: next });
        log.warn({ mail: row.id, attempts, err: message }, 'transactional mail deferred');
        return sent; // the relay is unhappy: stop this round, the next tick retries
      }
    }
  }

  return {
    /** Sends everything due now; concurrent calls share one run, which looks at the queue again if called meanwhile. */
    run(): Promise<number> {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        let sent = 0;
        do {
          again = false;
          sent += await drain();
        } while (again);
        return sent;
      })().finally(() => (running = null));
      return running;
    },
    /** Fire-and-forget run, for request handlers. */
    kick(): void {
      void this.run().catch((err) => log.error({ err }, 'outbound worker failed'));
    },
  };
}
export type OutboundWorker = ReturnType<typeof createOutboundWorker>;
