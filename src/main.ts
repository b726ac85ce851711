import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { openDatabase, type Database_ } from './db/client.js';
import { createLogger, type Logger } from './logger.js';
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
import type { RunOptions, RunSummary } from './digests/digest-run.js';
import { runDigestsInWorker } from './digests/run-thread.js';
import { queueSilenceNotes } from './email/silence-notes.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createWebhookSender, syncWebhookEndpoints, type WebhookSender } from './webhooks/webhook-sender.js';
import { opsMount } from './web/ops-mount.js';
import { returnPathFor } from './bounces/verp.js';
import { mailboxDeps, pollBounceMailbox } from './bounces/imap-poll.js';

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
  runDigests: (opts: RunOptions) => Promise<RunSummary>;
  close: () => void;
}

/** Reads SECRET, or in development a generated one kept in the database so links survive restarts. */
export function resolveSecret(config: Config, database: Database_, log: Logger): string {
  if (config.secret) return config.secret;
  const get = database.sqlite.prepare("SELECT value FROM settings WHERE key = 'dev_secret'");
  const existing = get.get() as { value: string } | undefined;
  if (existing) return existing.value;
  const value = randomBytes(32).toString('hex');
  database.sqlite.prepare("INSERT OR IGNORE INTO settings (key, value) VALUES ('dev_secret', ?)").run(value);
  log.warn('SECRET is not set: using a generated development secret stored in the database');
  return (get.get() as { value: string }).value;
}

/** Opens the database (running migrations), compiles templates and builds the services. SMTP connects lazily. */
export async function createServices(config: Config, log = createLogger(config.logLevel)): Promise<Services> {
  const database = openDatabase(config.databasePath, { busyTimeoutMs: config.busyTimeoutMs });
  const secret = resolveSecret(config, database, log);
  syncWebhookEndpoints(database, config.webhooks.urls, config.webhooks.secret);
  const renderEmail = await compileEmailTemplates();
  const mailer = createMailer(config, returnPathFor(config.bounces.address, secret));
  const links = createLinks(secret, config.publicUrl);
  const outbound = createOutboundWorker({ database, mailer, renderEmail, links, log });
  const subscriptions = createSubscriptionService({ database, links, log, kickOutbound: () => outbound.kick() });
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
    close: () => {
      mailer.close();
      database.sqlite.close();
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
  const count = s.database.sqlite.prepare('SELECT count(*) AS n FROM papers').get() as { n: number };
  if (count.n > 0) return;
  await runIngest(s.database, s.config, s.log, { now: new Date(), retries: 0, arxivIntervalMs: 0 });
  const loaded = s.config.demoCorpus ? loadSampleIfEmpty(s.database, new Date()) : null;
  if (loaded) s.log.info({ papers: loaded.inserted }, 'no source reachable: loaded the sample corpus');
}

/** `paperboy serve`: HTTP server, scheduler, graceful shutdown on SIGTERM/SIGINT. */
export async function serve(config: Config): Promise<void> {
  assertCron(config.cron.ingest, 'INGEST_CRON');
  assertCron(config.cron.digest, 'DIGEST_CRON');
  assertCron(config.bounces.pollCron, 'IMAP_POLL_CRON');
  const s = await createServices(config);
  const mailbox = mailboxDeps(s);
  const app = appFor(s);
  const server: Server = await new Promise((resolve, reject) => {
    const srv = app.listen(config.port, config.host, () => resolve(srv)).on('error', reject);
  });
  s.log.info({ url: `http://${config.host}:${config.port}`, publicUrl: config.publicUrl, mail: s.mailer.kind }, 'paperboy is listening');
  s.outbound.kick();
  const seeding = seedIfEmpty(s).catch((err) => s.log.error({ err }, 'first-start seeding failed'));

  const jobs: Job[] = [
    { name: 'ingest', cron: config.cron.ingest, run: () => runIngest(s.database, config, s.log, { now: new Date() }) },
    { name: 'outbound-mail', cron: '* * * * *', run: () => s.outbound.run() },
    { name: 'webhooks', cron: '* * * * *', run: () => s.webhooks.run() },
    { name: 'digests', cron: config.cron.digest, run: () => s.runDigests({ now: new Date() }) },
    // Daily: readers whose digests found nothing for a whole stretch get one note (issue 15).
    { name: 'silence-notes', cron: '23 7 * * *', run: async () => (queueSilenceNotes(s.database, new Date()) ? s.outbound.run() : 0) },
    // With IMAP_URL: DSNs and feedback-loop complaints from the bounce mailbox (issue 16).
    ...(mailbox ? [{ name: 'bounce-mailbox', cron: config.bounces.pollCron, run: () => pollBounceMailbox(mailbox) }] : []),
  ];
  const scheduler = config.cron.enabled ? startScheduler(jobs, s.log) : null;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    s.log.info({ signal }, 'shutting down');
    server.close();
    server.closeIdleConnections();
    await scheduler?.stop();
    await seeding;
    await s.outbound.run().catch(() => undefined);
    s.close();
    s.log.info('bye');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
