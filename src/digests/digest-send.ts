import type { Database_ } from '../db/client.js';
import { retryWhileBusy } from '../db/busy-retry.js';
import { sendOrRefusal, type Mailer, type OutgoingMail } from '../email/mailer.js';
import { recordRelayFailure } from '../email/relay-status.js';
import { classifySmtpFailure, maskAddresses, type Classified } from '../email/smtp-failure.js';
import { maskEmail, type Logger } from '../logger.js';
import { logConsent, updateSubscriber, type Subscriber } from '../subscribers/subscriber-repo.js';
import type { Delivery, Ledger } from './delivery-ledger.js';

/** The counters a sender adds to (a subset of RunSummary). */
export interface SendCounts {
  sent: number;
  failed: number;
  busy: number;
  deferred: number;
}

/** Why a run stopped before the end of its list. */
export interface RunStop extends Classified {
  error: string;
}

/** What sending a claimed delivery needs. */
export interface SenderDeps {
  database: Database_;
  ledger: Ledger;
  mailer: Mailer;
  log: Logger;
  owner: string;
  now: Date;
  wall: () => Date;
  leaseMs: number;
  counts: SendCounts;
  /** Send attempts per message within this run on 4xx/connection errors. */
  attempts: number;
  retryBaseMs: number;
  /** Gives up on a delivery for good after this many runs failed to send it. */
  maxRuns: number;
  /** The same non-recipient failure this many times in a row stops the run. */
  stopAfter: number;
  /** Aborted when the run is interrupted: claims not yet tried are handed back. */
  signal?: { readonly aborted: boolean };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends claimed deliveries and records each outcome. A recipient-level refusal
 * suppresses that address; a relay refusal (authentication, sender, content)
 * suppresses nobody and leaves the delivery for the next run; `stopAfter`
 * identical non-recipient failures in a row stop the run (`stopped`), so a
 * broken relay costs a few attempts, not the whole list.
 */
export function createSender(deps: SenderDeps) {
  const { ledger, log, owner, counts } = deps;
  let streak: { key: string; n: number } = { key: '', n: 0 };
  let stopped: RunStop | null = null;
  // Set once this run recorded a relay failure: its successes must not clear that alert.
  let alerted = false;
  const halted = () => stopped !== null || Boolean(deps.signal?.aborted);
  const lease = () => new Date(deps.wall().getTime() + deps.leaseMs).toISOString();
  // Outcome records must stick: a busy database is waited out, not counted as a failure.
  const record = <T>(what: string, fn: () => Promise<T>) => retryWhileBusy(what, fn, { log });

  async function noteNonRecipient(c: Classified, error: string): Promise<void> {
    const key = `${c.kind}:${c.reason}`;
    streak = streak.key === key ? { key, n: streak.n + 1 } : { key, n: 1 };
    // Decided before the alert is written, so no other sender starts a send meanwhile.
    const stopping = streak.n >= deps.stopAfter && !stopped;
    if (stopping) stopped = { ...c, error };
    if (c.kind === 'relay') await saveAlert(c, error);
    if (stopping) {
      if (c.kind === 'transient') await saveAlert(c, error);
      log.error({ alert: 'relay', kind: c.kind, reason: c.reason, err: error, inARow: streak.n }, 'digest run stopped: the relay keeps failing; nobody was suppressed, the rest is left for the next run');
    }
  }

  async function saveAlert(c: Classified, error: string): Promise<void> {
    if (c.kind === 'recipient') return;
    try {
      await recordRelayFailure(deps.database, { at: deps.wall().toISOString(), source: 'digest', kind: c.kind, reason: c.reason, error });
      alerted = true;
    } catch (err) {
      log.warn({ err }, 'could not record the relay failure');
    }
    if (c.kind === 'relay') log.error({ alert: 'relay', reason: c.reason, err: error }, 'the relay refused a digest (not the reader): check SMTP_URL, credentials, sender and content');
  }

  /** Releases a claimed delivery without trying it (the run is stopping). */
  async function release(d: Delivery): Promise<void> {
    const why = stopped ? `run stopped (${stopped.reason})` : 'run interrupted';
    await record('release claim', () => ledger.letGo(d.id, owner, `not tried: ${why}`, false));
    counts.deferred++;
  }

  /** Sends one claimed delivery, with retries on transient failures; records the outcome. */
  async function deliver(s: Subscriber, d: Delivery, mail: OutgoingMail): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (halted()) return release(d);
      // Ours until the send is over, or not ours at all: a claim that lapsed and was
      // taken over by another process is that process's to send.
      let ours: boolean;
      try {
        ours = await retryWhileBusy('renew lease', () => ledger.renew(d.id, owner, lease()), { log, maxMs: 60_000 });
      } catch (err) {
        log.warn({ err, subscriber: s.id }, 'could not renew the lease; the delivery is left for the next run');
        counts.deferred++;
        return;
      }
      if (!ours) {
        log.info({ subscriber: s.id, delivery: d.id }, 'lease lost to another process; not sending');
        counts.busy++;
        return;
      }
      const err = await sendOrRefusal(deps.mailer, mail);
      if (!err) {
        await record('mark sent', () => ledger.markSent(d.id, deps.now));
        streak = { key: '', n: 0 };
        counts.sent++;
        return;
      }
      const c = classifySmtpFailure(err);
      const message = maskAddresses(err.message);
      if (c.kind === 'recipient') {
        streak = { key: '', n: 0 };
        const at = deps.now.toISOString();
        await record('mark bounced', () =>
          deps.database.tx(async (t) => {
            await ledger.markFailed(d.id, message, deps.now, t);
            await updateSubscriber(t, s.id, { status: 'bounced' }, at);
            await logConsent(t, s.id, 'bounced', { method: 'smtp' }, at);
          }),
        );
        log.warn({ subscriber: s.id, to: maskEmail(s.email), err: message }, 'digest bounced; address suppressed');
        counts.failed++;
        return;
      }
      if (c.kind === 'relay') {
        await record('release claim', () => ledger.letGo(d.id, owner, message, false));
        counts.failed++;
        await noteNonRecipient(c, message);
        return;
      }
      if (attempt >= deps.attempts) {
        if (d.attempts >= deps.maxRuns) await record('mark failed', () => ledger.markFailed(d.id, message, deps.now));
        else await record('release claim', () => ledger.letGo(d.id, owner, message));
        log.warn({ subscriber: s.id, attempts: attempt, err: message }, 'digest deferred after transient failures');
        counts.failed++;
        await noteNonRecipient(c, message);
        return;
      }
      await sleep(deps.retryBaseMs * 2 ** (attempt - 1));
    }
  }

  return {
    deliver,
    release,
    /** Why the run is stopping early, or null. */
    get stopped(): RunStop | null {
      return stopped;
    },
    /** Stopped by the relay or interrupted: nothing more is tried. */
    get halted(): boolean {
      return halted();
    },
    /** True once this run recorded a relay failure (the alert `stats` shows). */
    get alerted(): boolean {
      return alerted;
    },
  };
}
export type Sender = ReturnType<typeof createSender>;
