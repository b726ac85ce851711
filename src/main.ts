import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { openDatabase, type Database_ } from './db/client.js';
import { withJobLease } from './db/job-lease.js';
import { createLogger, type Logger } from './logger.js';
import { OperatorError } from './errors.js';
import { runIngest } from './papers/ingest-service.js';
import { loadSampleIfEmpty } from './papers/sample-corpus.js';
import { assertCron, startScheduler, type Job } from './scheduler.js';
import { compilePages, type RenderPage } from './web/views.js';
import { compileEmailTemplates, type RenderEmail } from './email/email-templates.js';
import { createMailer, type Mailer } from './email/mailer.js';
import { createOutboundWorker, type OutboundWorker } from './email/outbound-worker.js';
import { createLinks, type Links } from './subscribers/links.js';
import { createSubscriptionService, type SubscriptionService } from './subscribers/subscription-service.js';
import type { DigestContext } from './email/digest-email.js';
import type { RunSummary } from './digests/digest-run.js';
import { runDigestsInWorker, type ThreadRunOptions } from './digests/run-thread.js';
import { queueSilenceNotes } from './email/silence-notes.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createWebhookSender, syncWebhookEndpoints, type WebhookSender } from './webhooks/webhook-sender.js';
import { opsMount } from './web/ops-mount.js';
import { returnPathFor } from './bounces/verp.js';
import { mailboxDeps, pollBounceMailbox } from './bounces/imap-poll.js';

/** The scheduled jobs' cron expressions are valid (serve and worker refuse to start otherwise). */
function assertSchedules(config: Config): void {
  assertCron(config.cron.ingest, 'INGEST_CRON');
  assertCron(config.cron.digest, 'DIGEST_CRON');
  assertCron(config.bounces.pollCron, 'IMAP_POLL_CRON');
}

/** Everything wired together; one per process. */
export interface Services {
  config: Config;
  log: Logger;
  database: Database_;
  secret: string;
  render: RenderPage;
  renderEmail: RenderEmail;
  mailer: Mailer;
  links: Links;
  outbound: OutboundWorker;
  /** Prometheus registry of this process (one per process, built here). */
  metrics: Metrics;
  /** Outgoing webhooks from the stored queue (WEBHOOK_URLS). */
  webhooks: WebhookSender;
  subscriptions: SubscriptionService;
  digest: DigestContext;
  /** Runs every digest due at `opts.now`. */
  runDigests: (opts: ThreadRunOptions) => Promise<RunSummary>;
  close: () => Promise<void>;
}

/** Reads SECRET, or in development a generated one kept in the database so links survive restarts. */
export async function resolveSecret(config: Config, database: Database_, log: Logger): Promise<string> {
  if (config.secret) return config.secret;
  const get = () => database.get<{ value: string }>("SELECT value FROM settings WHERE key = 'dev_secret'");
  const existing = await get();
  if (existing) {
    // On a shared database another node may have SECRET set: its links and these
    // would not verify on each other, so say it at every start, not just the first.
    if (database.dialect === 'postgres') log.warn('SECRET is not set: signing links with the development secret stored in the database; nodes with SECRET set will refuse these links (set the same SECRET on every node)');
    return existing.value;
  }
  const value = randomBytes(32).toString('hex');
  await database.run("INSERT INTO settings (key, value) VALUES ('dev_secret', ?) ON CONFLICT DO NOTHING", [value]);
  log.warn('SECRET is not set: using a generated development secret stored in the database');
  return (await get())!.value;
}

/** Opens the database (running migrations), compiles templates and builds the services. SMTP connects lazily. */
export async function createServices(config: Config, log = createLogger(config.logLevel)): Promise<Services> {
  const database = await openDatabase(config.database, { busyTimeoutMs: config.busyTimeoutMs, poolSize: config.dbPoolSize });
  const secret = await resolveSecret(config, database, log);
  await syncWebhookEndpoints(database, config.webhooks.urls, config.webhooks.secret);
  const renderEmail = await compileEmailTemplates();
  const mailer = createMailer(config, returnPathFor(config.bounces.address, secret));
  const links = createLinks(secret, config.publicUrl);
  const outbound = createOutboundWorker({ database, mailer, renderEmail, links, log });
  // The one-click unsubscribe queue is a local SQLite file beside DATABASE_PATH on either engine (one per node).
  const subscriptions = createSubscriptionService({ database, links, log, kickOutbound: () => outbound.kick(), databasePath: config.databasePath });
  const digest: DigestContext = {
    render: renderEmail,
    links,
    listUnsubscribeMailto: config.listUnsubscribeMailto,
    listIdDomain: new URL(config.publicUrl).hostname,
  };
  return {
    config, log, database, secret, render: compilePages(), renderEmail, mailer, links, outbound, subscriptions, digest, metrics: createMetrics(database),
    webhooks: createWebhookSender({ database, log, secret: config.webhooks.secret }),
    // In a worker thread: matching, rendering and the ledger on one core, SMTP on this one.
    // Four messages per pool connection in flight cover the worker's pauses to claim a chunk.
    runDigests: (opts) => runDigestsInWorker(config, secret, mailer, renderEmail.mjmlOutput, { concurrency: config.smtp.poolSize * 4, ...opts }),
    close: async () => {
      mailer.close();
      await database.close();
    },
  };
}

/** The express app of these services. */
export function appFor(s: Services) {
  return createApp({
    ...s,
    trustProxy: s.config.trustProxy,
    rateLimited: s.config.rateLimits,
    outboxDir: s.mailer.kind === 'outbox' && s.config.smtp.outboxPage ? s.config.smtp.outboxDir : null,
    ops: opsMount(s),
  });
}

/** On a first start with no papers: try the sources once, and fall back to the shipped sample corpus. */
async function seedIfEmpty(s: Services): Promise<void> {
  const any = await s.database.get('SELECT 1 AS one FROM papers LIMIT 1');
  if (any) return;
  await runIngest(s.database, s.config, s.log, { now: new Date(), retries: 0, arxivIntervalMs: 0 });
  const loaded = s.config.demoCorpus ? await loadSampleIfEmpty(s.database, new Date()) : null;
  if (loaded) s.log.info({ papers: loaded.inserted }, 'no source reachable: loaded the sample corpus');
}

/**
 * The periodic jobs of a node. Ingest, silence notes and (on `serve` nodes) the
 * digest tick hold a lease in the database while they run, so on several nodes
 * each tick runs once. Mail and webhook queues are claimed row by row and run
 * everywhere. `paperboy worker` processes share each digest tick through the
 * ledger's claims instead (`shareDigests`).
 */
export function scheduledJobs(s: Services, { shareDigests, signal }: { shareDigests: boolean; signal?: AbortSignal }): Job[] {
  const once = (name: string, fn: () => Promise<unknown>) => async () => {
    const r = await withJobLease(s.database, name, fn);
    if (!r.ran) s.log.info({ job: name }, 'another node is running this job; skipping this tick');
  };
  const digests = () => s.runDigests({ now: new Date(), signal });
  const mailbox = mailboxDeps(s);
  return [
    { name: 'ingest', cron: s.config.cron.ingest, run: once('ingest', () => runIngest(s.database, s.config, s.log, { now: new Date() })) },
    { name: 'outbound-mail', cron: '* * * * *', run: () => s.outbound.run() },
    { name: 'webhooks', cron: '* * * * *', run: () => s.webhooks.run() },
    { name: 'digests', cron: s.config.cron.digest, run: shareDigests ? digests : once('digests', digests) },
    // Daily: readers whose digests found nothing for a whole stretch get one note (issue 15).
    { name: 'silence-notes', cron: '23 7 * * *', run: once('silence-notes', async () => ((await queueSilenceNotes(s.database, new Date())) ? s.outbound.run() : 0)) },
    // With IMAP_URL: DSNs and feedback-loop complaints from the bounce mailbox (issue 16), one node at a time.
    ...(mailbox ? [{ name: 'bounce-mailbox', cron: s.config.bounces.pollCron, run: once('bounce-mailbox', () => pollBounceMailbox(mailbox)) }] : []),
  ];
}

// What a `serve` node with SCHEDULER=false still runs: the queues of mail and
// webhooks its own requests fill (their retries would otherwise wait for
// another node), not ingest, digests or the mailbox.
const QUEUE_JOBS = new Set(['outbound-mail', 'webhooks']);

/** The jobs a `serve` node schedules: all of them, or with SCHEDULER=false only the queues. */
export function serveJobs(s: Services, signal?: AbortSignal): Job[] {
  const jobs = scheduledJobs(s, { shareDigests: false, signal });
  return s.config.cron.enabled ? jobs : jobs.filter((j) => QUEUE_JOBS.has(j.name));
}

/**
 * Listens on host:port, or fails in one line (a port in use, a privileged port).
 * Not express's app.listen: it calls its callback on 'error' too, so a port in
 * use would look like a start.
 */
function listenOn(handler: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE' ? `port ${port} is already in use (HOST ${host})`
        : err.code === 'EACCES' ? `port ${port} needs privileges this process lacks (HOST ${host})`
        : `cannot listen on ${host}:${port} (${err.code ?? err.message})`;
      reject(new OperatorError(`${why}; the server did not start`));
    });
    server.listen(port, host, () => resolve(server));
  });
}

/** `paperboy serve`: HTTP server, scheduler, graceful shutdown on SIGTERM/SIGINT. */
export async function serve(config: Config): Promise<void> {
  assertSchedules(config);
  const s = await createServices(config);
  const app = appFor(s);
  let server: Server;
  try {
    server = await listenOn(app, config.port, config.host);
  } catch (err) {
    await s.close();
    throw err;
  }
  s.log.info({ url: `http://${config.host}:${config.port}`, publicUrl: config.publicUrl, mail: s.mailer.kind }, 'paperboy is listening');
  s.outbound.kick();
  const seeding = seedIfEmpty(s).catch((err) => s.log.error({ err }, 'first-start seeding failed'));

  // On shutdown a digest run under way finishes what is in flight and hands the rest back.
  const interrupt = new AbortController();
  const scheduler = startScheduler(serveJobs(s, interrupt.signal), s.log);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    s.log.info({ signal }, 'shutting down');
    server.close();
    server.closeIdleConnections();
    interrupt.abort();
    await scheduler.stop();
    await seeding;
    await s.outbound.run().catch(() => undefined);
    await s.close();
    s.log.info('bye');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * `paperboy worker`: the jobs without the web server, for nodes that only send.
 * Several workers share each digest tick through the ledger's claims; mail and
 * webhook queues are claimed row by row; ingest runs on one node per tick.
 */
export async function work(config: Config): Promise<void> {
  assertSchedules(config);
  const s = await createServices(config);
  const interrupt = new AbortController();
  const scheduler = startScheduler(scheduledJobs(s, { shareDigests: true, signal: interrupt.signal }), s.log);
  s.log.info({ mail: s.mailer.kind }, 'paperboy worker is running');
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    s.log.info({ signal }, 'shutting down');
    interrupt.abort();
    await scheduler.stop();
    await s.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
