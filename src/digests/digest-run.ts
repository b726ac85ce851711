import { randomBytes, randomInt } from 'node:crypto';
import type { Database_ } from '../db/client.js';
import { composeDigest, digestMessageId, type DigestContext, type DigestPaper } from '../email/digest-email.js';
import { retryWhileBusy } from '../db/busy-retry.js';
import type { Mailer } from '../email/mailer.js';
import { recordRelaySuccess } from '../email/relay-status.js';
import type { Logger } from '../logger.js';
import { subscriberSchedules, subscribersByIds, type Subscriber } from '../subscribers/subscriber-repo.js';
import { createCandidateIndex, ledgerPapers } from './candidate-index.js';
import { buildDigest, type DigestItem } from './digest-builder.js';
import { createSignalLoader } from './reader-signals.js';
import { createLedger, leaseOwner, type Claim, type Delivery, type Resumable } from './delivery-ledger.js';
import { createSender, type RunStop } from './digest-send.js';
import { isDue, periodKey } from './schedule.js';

/** What a digest run needs. */
export interface DigestRunDeps extends DigestContext {
  database: Database_;
  mailer: Mailer;
  log: Logger;
  secret: string;
  lookbackDays: number;
}

/** Knobs of one run. */
export interface RunOptions {
  now: Date;
  dryRun?: boolean;
  /** Messages in flight at once (default 8; the services pass four per pool connection). */
  concurrency?: number;
  /** Send attempts per message within this run on 4xx/connection errors. */
  attempts?: number;
  retryBaseMs?: number;
  leaseMs?: number;
  /** Gives up on a delivery for good after this many runs failed to send it. */
  maxRuns?: number;
  /** The same non-recipient failure this many times in a row stops the run (default 3). */
  stopAfter?: number;
  /** How often the run extends the leases it holds (default a third of `leaseMs`). */
  renewEveryMs?: number;
  /** How long a chunk's claim waits out a busy database before the rest is left for the next run. */
  claimBusyMs?: number;
  onProgress?: (done: number, total: number) => void;
  wallClock?: () => Date;
  /**
   * Aborted on SIGTERM/SIGINT: the run claims nothing more, lets the messages
   * in flight finish and be recorded, and hands every other claim back at once.
   * An AbortSignal, or anything that says whether it was aborted (across threads).
   */
  signal?: { readonly aborted: boolean };
}

/** What a run did. */
export interface RunSummary {
  due: number;
  sent: number;
  skipped: number;
  failed: number;
  resumed: number;
  /** Due subscribers another process was already handling (or took over from this run). */
  busy: number;
  /** Left for the next run without a try: the run stopped early, or the database stayed busy. */
  deferred: number;
  /** Why the run stopped before the end of its list (the relay kept failing), or null. */
  stopped: RunStop | null;
  /** The run was told to stop (SIGTERM/SIGINT) before the end of its list. */
  interrupted: boolean;
  dryRun: boolean;
}

const DAY = 86_400_000;
/** Due readers matched and claimed per ledger transaction. */
export const CLAIM_CHUNK = 50;

/**
 * The due list rotated to start at a random chunk: processes running at once
 * (several workers on one database) start at different places and meet only
 * where one reaches what another already claimed, instead of ranking the same
 * chunks side by side and all but one of them losing each claim.
 */
function startAnywhere(due: number[]): number[] {
  const chunks = Math.ceil(due.length / CLAIM_CHUNK);
  if (chunks < 2) return due;
  const at = randomInt(chunks) * CLAIM_CHUNK;
  return [...due.slice(at), ...due.slice(0, at)];
}

/** Start of the candidate window for one subscriber: their last digest, bounded by the look-back. */
export function sinceFor(lastSentAt: string | null, now: Date, lookbackDays: number): string {
  const floor = new Date(now.getTime() - (lastSentAt ? 2 * lookbackDays : lookbackDays) * DAY).toISOString();
  return lastSentAt && lastSentAt > floor ? lastSentAt : floor;
}

/** The preferences a digest is picked for, stored with it so its web copy shows them as they were. */
const sentPrefs = ({ topics, keywords, exclude, frequency, weekday, hour, timezone, maxPapers }: Subscriber) =>
  JSON.stringify({ topics, keywords, exclude, frequency, weekday, hour, timezone, maxPapers });

/** Turns digest items into ledger items (what is stored and resent). */
const toLedgerItems = (items: DigestItem[]) => items.map(({ pk, score, why, words, interests }) => ({ pk, score, why, words, interests }));

/**
 * Sends every digest due at `now`. Each (subscriber, period) is claimed in the
 * ledger before sending, so reruns, overlapping ticks and a second process
 * never send a second digest; one subscriber's failure never stops the run.
 */
export async function runDueDigests(deps: DigestRunDeps, opts: RunOptions): Promise<RunSummary> {
  const { log } = deps;
  deps = { ...deps, blocks: new Map() };
  const { database } = deps;
  const wall = opts.wallClock ?? (() => new Date());
  const ledger = createLedger(database);
  const owner = leaseOwner(randomBytes(4).toString('hex'));
  const leaseMs = opts.leaseMs ?? 10 * 60 * 1000;
  const claimBusyMs = opts.claimBusyMs ?? 60_000;
  const summary: RunSummary = { due: 0, sent: 0, skipped: 0, failed: 0, resumed: 0, busy: 0, deferred: 0, stopped: null, interrupted: false, dryRun: Boolean(opts.dryRun) };
  const domain = deps.listIdDomain;
  const { now } = opts;

  const lease = () => new Date(wall().getTime() + leaseMs).toISOString();
  // Only schedules are held for the whole run; a chunk's full rows are loaded when it is claimed.
  const inFlight = opts.dryRun ? [] : await ledger.resumable(wall(), owner, lease());
  const readerOf = new Map((await subscribersByIds(database, [...new Set(inFlight.map((d) => d.subscriberId))])).filter((s) => s.status === 'active').map((s) => [s.id, s]));
  // Interrupted deliveries to readers who since left are dropped, not resent.
  for (const d of inFlight.filter((d) => !readerOf.has(d.subscriberId))) await ledger.markFailed(d.id, 'subscriber no longer active', now);
  const resumable = inFlight.filter((d) => readerOf.has(d.subscriberId));
  // The schedule decides who may be due; the ledger then says whose period is already taken (in one pass).
  const maybeDue = (await subscriberSchedules(database, 'active')).filter((s) => isDue(s, now, () => false));
  const taken = await ledger.periodsTaken(maybeDue.map((s) => ({ subscriberId: s.id, periodKey: periodKey(s, now) })));
  const due = startAnywhere(maybeDue.filter((s) => !taken.has(`${s.id}:${periodKey(s, now)}`)).map((s) => s.id));
  summary.due = due.length;
  // Looked up here for the window and again when a reader's chunk is claimed: one indexed
  // lookup each (deliveries_last_sent), cheaper than holding a date per due reader all run.
  const sinceOf = (lastSent: Map<number, string>, id: number) => sinceFor(lastSent.get(id) ?? null, now, deps.lookbackDays);
  let windowStart = now.toISOString();
  for (let i = 0; i < due.length; i += 5000) {
    const part = due.slice(i, i + 5000);
    const lastSent = await ledger.lastSentMany(part);
    for (const id of part) {
      const since = sinceOf(lastSent, id);
      if (since < windowStart) windowStart = since;
    }
  }
  const index = await createCandidateIndex(database, windowStart, now);
  deps = { ...deps, stats: index.stats };
  const signals = createSignalLoader(database, index.stats);
  log.info({ due: due.length, resumable: resumable.length, window: windowStart, papers: index.size }, 'digest run starting');

  const total = resumable.length + due.length;
  let done = 0;
  const tick = () => opts.onProgress?.(++done, total);

  const sender = createSender({
    database, ledger, mailer: deps.mailer, log, owner, now, wall, leaseMs, counts: summary,
    attempts: opts.attempts ?? 4, retryBaseMs: opts.retryBaseMs ?? 1000, maxRuns: opts.maxRuns ?? 5, stopAfter: opts.stopAfter ?? 3, signal: opts.signal,
  });
  const deliver = sender.deliver;

  const papersFor = (items: Delivery['items']): Promise<DigestPaper[]> => ledgerPapers(database, items, (pk) => index.paper(pk));

  async function resume(d: Resumable): Promise<void> {
    const s = readerOf.get(d.subscriberId)!;
    // One already taken over is handed back, so the next run need not wait out its lease.
    if (sender.halted) return d.taken ? sender.release(d) : void summary.deferred++;
    if (!(await retryWhileBusy('take over', () => ledger.takeOver(d, owner, lease()), { log, maxMs: claimBusyMs }))) return;
    summary.resumed++;
    // The same papers and the same Message-ID as the interrupted attempt.
    const mail = composeDigest(deps, s, d.periodKey, await papersFor(d.items), now, d.messageId);
    await deliver(s, d, mail);
  }

  /** Matches and ranks a chunk of due readers, then claims their periods in one transaction. */
  async function claimChunk(ids: number[]): Promise<(() => Promise<void>)[]> {
    const planned: { s: Subscriber; claim: Claim }[] = [];
    let readers = (await subscribersByIds(database, ids)).filter((s) => s.status === 'active');
    // Readers who left since the run started get nothing; they still count as done.
    for (let i = readers.length; i < ids.length; i++) tick();
    if (othersClaiming) {
      // Readers another process claimed since this run listed them are not ranked again.
      const claimed = await ledger.periodsTaken(readers.map((s) => ({ subscriberId: s.id, periodKey: periodKey(s, now) })));
      const before = readers.length;
      readers = readers.filter((s) => !claimed.has(`${s.id}:${periodKey(s, now)}`));
      for (let i = readers.length; i < before; i++) {
        summary.busy++;
        tick();
      }
    }
    const readerIds = readers.map((s) => s.id);
    // Three independent reads: side by side on PostgreSQL's pool (SQLite answers each at once anyway).
    const [told, lastSent, sentOf] = await Promise.all([signals.load(readers), ledger.lastSentMany(readerIds), ledger.sentPapersMany(readerIds)]);
    for (const s of readers) {
      try {
        const key = periodKey(s, now);
        const since = sinceOf(lastSent, s.id);
        const sent = sentOf.get(s.id)!;
        const items = buildDigest(index, s, { since, now, limit: s.maxPapers, alreadySent: (pk) => sent.has(pk), signals: told.get(s.id) });
        const messageId = items.length ? digestMessageId(deps.secret, s.id, key, domain) : '';
        planned.push({ s, claim: { subscriberId: s.id, periodKey: key, messageId, items: toLedgerItems(items), since, prefs: sentPrefs(s), owner, leaseUntil: lease(), now } });
      } catch (err) {
        summary.failed++;
        log.error({ err, subscriber: s.id }, 'digest failed');
        tick();
      }
    }
    if (opts.dryRun) {
      for (const { claim } of planned) {
        if (claim.items.length) summary.sent++;
        else summary.skipped++;
        tick();
      }
      return [];
    }
    const outcomes = await retryWhileBusy('claim', () => ledger.claimMany(planned.map((p) => p.claim)), { log, maxMs: claimBusyMs });
    const sends: (() => Promise<void>)[] = [];
    planned.forEach(({ s }, i) => {
      const d = outcomes[i]!;
      if (d === 'skipped') summary.skipped++;
      else if (d === null) {
        summary.busy++; // another run holds this period
        othersClaiming = true;
      }
      else return void sends.push(async () => deliver(s, d, composeDigest(deps, s, d.periodKey, await papersFor(d.items), now, d.messageId)));
      tick();
    });
    return sends;
  }

  // Set once a claim finds a reader another process claimed: from then on each chunk is checked before ranking.
  let othersClaiming = false;

  // Resumed deliveries first; then due readers, claimed a chunk at a time as the
  // senders need work. Only the current chunk's jobs are held (a run over 100k
  // readers must not keep every sent digest reachable until it ends). Claiming
  // awaits (a busy database is waited out), so one sender claims while the others wait.
  let nextResume = 0;
  let nextDue = 0;
  let chunk: (() => Promise<void>)[] = [];
  let inChunk = 0;
  let claiming: Promise<void> | null = null;
  // Due readers not yet claimed are left; interrupted deliveries still go through
  // resume(), which hands back at once those this run already took over.
  const leaveRest = () => {
    summary.deferred += due.length - nextDue;
    nextDue = due.length;
  };
  const claimNext = async () => {
    const ids = due.slice(nextDue, (nextDue = Math.min(nextDue + CLAIM_CHUNK, due.length)));
    try {
      chunk = await claimChunk(ids);
    } catch (err) {
      // Messages of earlier chunks are still in flight: let them finish and be recorded.
      log.error({ err, readers: ids.length }, 'could not claim digests (database busy?); the rest of the run is left for the next one');
      summary.deferred += ids.length;
      leaveRest();
      chunk = [];
    }
    inChunk = 0;
  };
  const nextJob = async (): Promise<(() => Promise<void>) | undefined> => {
    for (;;) {
      // Claimed jobs still run when the run stops: each one hands its claim back untried.
      if (sender.halted) leaveRest();
      if (nextResume < resumable.length) {
        const d = resumable[nextResume++]!;
        return () => resume(d);
      }
      if (inChunk < chunk.length) return chunk[inChunk++];
      // A claim under way may still bring jobs: wait for it rather than leave the
      // last chunk (a run of ≤ CLAIM_CHUNK readers: all of it) to one sender.
      if (nextDue >= due.length && !claiming) return undefined;
      claiming ??= claimNext().finally(() => (claiming = null));
      await claiming;
    }
  };
  const worker = async () => {
    for (let job = await nextJob(); job; job = await nextJob()) {
      try {
        await job();
      } catch (err) {
        summary.failed++;
        log.error({ err }, 'digest failed');
      }
      tick();
    }
  };
  // Leases are extended while the run works, so a long chunk is not taken over mid-run.
  const heartbeat = setInterval(() => {
    ledger.renewAll(owner, lease()).catch((err: unknown) => log.warn({ err }, 'could not extend leases (database busy?); each is renewed again before its send'));
  }, Math.max(20, opts.renewEveryMs ?? leaseMs / 3));
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  } finally {
    clearInterval(heartbeat);
  }
  summary.stopped = sender.stopped;
  // Told to stop, and something was left for the next run because of it.
  summary.interrupted = Boolean(opts.signal?.aborted) && summary.deferred > 0;
  // A dry run changes nothing; a run that hit a relay failure leaves its alert
  // standing even if other messages went out (a content rejection is per message).
  if (summary.sent > 0 && !opts.dryRun && !sender.alerted) {
    try {
      await recordRelaySuccess(database, wall().toISOString());
    } catch (err) {
      log.warn({ err }, 'could not record the relay success');
    }
  }
  log.info(summary, 'digest run finished');
  return summary;
}
