// Runs a digest run in a worker thread (run-worker-main.ts), sends its
// messages through this thread's SMTP pool and writes its log lines.
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import type { Mailer, OutgoingMail, SendResult } from '../email/mailer.js';
import type { SmtpFailure } from '../email/smtp-failure.js';
import { writeLogLine } from '../logger.js';
import type { RunOptions, RunSummary } from './digest-run.js';

/** Worker → main. */
export type FromWorker =
  | { type: 'send'; id: number; mail: OutgoingMail }
  | { type: 'progress'; done: number; total: number }
  | { type: 'log'; line: string }
  | { type: 'done'; summary: RunSummary };

/** Main → worker: what the relay said about one message. */
export type ToWorker = { id: number; ok: true; result: SendResult } | { id: number; ok: false; error: SmtpFailure };

/** A transferred Buffer arrives as a plain Uint8Array; nodemailer wants Buffers (same memory, no copy). */
function withBuffers(mail: OutgoingMail): OutgoingMail {
  if (!mail.raw) return mail;
  const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return { ...mail, raw: { html: asBuffer(mail.raw.html), text: asBuffer(mail.raw.text) } };
}

/**
 * The run keeps little alive (due ids, the recent papers, one chunk of readers),
 * but V8 lets an unbounded heap grow lazily: a 100k run reached 560 MB of RSS
 * without this cap and 360 MB with it, at the same rate. If a run ever needed
 * more, the worker dies and the ledger's leases let the next run resume it.
 */
const WORKER_OLD_SPACE_MB = 160;

/** A run's options as the main thread gives them: interrupted through an AbortSignal. */
export type ThreadRunOptions = Omit<RunOptions, 'signal'> & { signal?: AbortSignal };

/** Runs every digest due at `opts.now` in a worker thread; resolves with its summary. */
export function runDigestsInWorker(config: Config, secret: string, mailer: Mailer, mjmlOutput: Record<string, string>, opts: ThreadRunOptions): Promise<RunSummary> {
  const { now, onProgress, wallClock: _clock, signal, ...rest } = opts;
  // Interruption crosses the thread as a shared flag the run reads, not a message:
  // a message posted while the thread is still loading can reach another listener.
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const stop = () => void Atomics.store(stopFlag, 0, 1);
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
  const workerData = { config, secret, mjmlOutput, stopFlag, options: { ...rest, now: now.toISOString() } };
  const worker = new Worker(new URL('./run-worker.mjs', import.meta.url), { workerData, resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB } });
  return new Promise<RunSummary>((resolve, reject) => {
    let summary: RunSummary | undefined;
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') onProgress?.(m.done, m.total);
      else if (m.type === 'log') writeLogLine(m.line);
      else if (m.type === 'done') summary = m.summary;
      else {
        mailer.send(withBuffers(m.mail)).then(
          (result) => worker.postMessage({ id: m.id, ok: true, result } satisfies ToWorker),
          // What the classification needs crosses the thread boundary, not just the message.
          (err: Error & SmtpFailure) => {
            const { message, code, responseCode, response, command } = err;
            worker.postMessage({ id: m.id, ok: false, error: { message, code, responseCode, response, command } } satisfies ToWorker);
          },
        );
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      signal?.removeEventListener('abort', stop);
      if (summary && code === 0) resolve(summary);
      else reject(new Error(`digest run worker exited with code ${code}`));
    });
  });
}
