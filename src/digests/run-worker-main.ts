// The digest run in a worker thread. Matching, ranking, rendering, encoding and
// the ledger run here; the main thread only hands messages to the SMTP pool and
// answers with what the relay said. On a small machine that puts the two halves
// of a send on two cores.
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.js';
import { openDatabase } from '../db/client.js';
import { compileEmailTemplates } from '../email/email-templates.js';
import type { Mailer, OutgoingMail, SendResult } from '../email/mailer.js';
import { quotedPrintablePart } from '../email/quoted-printable.js';
import { createLogger } from '../logger.js';
import { createLinks } from '../subscribers/links.js';
import { useLocalUnsubscribeQueue } from '../subscribers/unsubscribe-queue.js';
import { runDueDigests, type RunOptions } from './digest-run.js';
import type { FromWorker, ToWorker } from './run-thread.js';

const port = parentPort!;
const { config, secret, mjmlOutput, stopFlag, options } = workerData as {
  config: Config;
  secret: string;
  mjmlOutput: Record<string, string>;
  /** Set to 1 by the main thread on SIGTERM/SIGINT (see RunOptions.signal). */
  stopFlag: Int32Array;
  options: Omit<RunOptions, 'now' | 'onProgress' | 'wallClock'> & { now: string };
};
const post = (m: FromWorker) => port.postMessage(m);
const interrupt = {
  get aborted() {
    return Atomics.load(stopFlag, 0) === 1;
  },
};

/** Sends through the main thread's pool; bodies are encoded here, off the sending thread. */
function remoteMailer(kind: Mailer['kind']): Mailer {
  let seq = 0;
  const waiting = new Map<number, { resolve: (r: SendResult) => void; reject: (e: Error) => void }>();
  port.on('message', (m: ToWorker) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.result);
    else w.reject(Object.assign(new Error(m.error.message), m.error));
  });
  return {
    kind,
    send(mail: OutgoingMail) {
      const id = ++seq;
      const encoded = { ...mail, html: '', text: '', raw: { html: quotedPrintablePart('text/html', mail.html), text: quotedPrintablePart('text/plain', mail.text) } };
      return new Promise<SendResult>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        // The encoded bodies move to the main thread; they are not copied.
        port.postMessage({ type: 'send', id, mail: encoded } satisfies FromWorker, [encoded.raw.html.buffer as ArrayBuffer, encoded.raw.text.buffer as ArrayBuffer]);
      });
    },
    close: () => undefined,
  };
}

// Its own pool (a pool cannot cross threads), sized like the process's: DB_POOL_SIZE bounds each.
const database = await openDatabase(config.database, { migrate: false, busyTimeoutMs: config.busyTimeoutMs, poolSize: config.dbPoolSize });
// Readers whose one-click unsubscribe waits in this node's local queue (PostgreSQL) are not mailed.
useLocalUnsubscribeQueue(database, config.databasePath);
try {
  const links = createLinks(secret, config.publicUrl);
  const summary = await runDueDigests(
    {
      render: await compileEmailTemplates(mjmlOutput),
      links,
      listUnsubscribeMailto: config.listUnsubscribeMailto,
      listIdDomain: new URL(config.publicUrl).hostname,
      database,
      mailer: remoteMailer(config.smtp.url ? 'smtp' : 'outbox'),
      // Log lines go to the main thread, the one writer of stderr, which knows about the progress bar.
      log: createLogger(config.logLevel, { write: (line: string) => post({ type: 'log', line }) }),
      secret,
      lookbackDays: config.lookbackDays,
    },
    { ...options, now: new Date(options.now), signal: interrupt, onProgress: (done, total) => post({ type: 'progress', done, total }) },
  );
  post({ type: 'done', summary });
} finally {
  await database.close();
  port.close(); // nothing more to hear from the main thread: let this thread end
}
