import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database_ } from './db/client.js';

// Business counters are read from the rollup tables (migration 0006) at scrape
// time rather than counted in this process: signups, confirmations, digests
// and bounces happen in the server, in `paperboy digest run` from cron and in
// worker threads alike, and the database is the one place that sees them all.

/** The Prometheus registry of one process and the HTTP middleware that feeds it. */
export interface Metrics {
  registry: Registry;
  /** Counts requests by route pattern (never the raw path: tokens stay out) and status. */
  httpMiddleware: RequestHandler;
  /** The exposition text, with the database read afresh. */
  scrape(): Promise<string>;
}

interface Snapshot {
  totals: Map<string, number>;
  queues: { outbound: number; digestsInFlight: number; webhooks: number };
  sources: { source: string; ok: number; fetched: number; lastOk: string | null }[];
  lastRunAt: string | null;
}

const seconds = (iso: string | null) => (iso ? Date.parse(iso) / 1000 : 0);

/** Reads what the business metrics need in one go (a few hundred rows at most). */
async function snapshot(database: Database_): Promise<Snapshot> {
  const totals = new Map<string, number>();
  for (const r of await database.all<{ metric: string; n: number }>('SELECT metric, sum(n) AS n FROM daily_counts GROUP BY metric')) totals.set(r.metric, r.n);
  const one = async (sql: string) => (await database.get<{ n: number | null }>(sql))?.n ?? 0;
  return {
    totals,
    queues: {
      outbound: await one("SELECT count(*) AS n FROM outbound_mail WHERE status IN ('queued', 'sending')"),
      digestsInFlight: await one("SELECT count(*) AS n FROM deliveries WHERE status = 'sending'"),
      webhooks: await one("SELECT count(*) AS n FROM webhook_queue WHERE status = 'queued'"),
    },
    sources: await database.all<Snapshot['sources'][number]>(
      'SELECT s.source, s.ok, s.fetched, o.at AS "lastOk" FROM source_status s LEFT JOIN source_last_ok o ON o.source = s.source ORDER BY s.source',
    ),
    lastRunAt: (await database.get<{ at: string | null }>('SELECT max(run_at) AS at FROM digest_runs'))?.at ?? null,
  };
}

/** Builds the registry (built in main.ts, one per process; no module-level singletons). */
export function createMetrics(database: Database_): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'paperboy_' });
  const registers = [registry];

  // One database read per scrape, shared by every collector of that scrape.
  let cached: Promise<Snapshot> | null = null;
  const snap = () => (cached ??= snapshot(database));
  /** Sums of daily_counts whose metric starts with `prefix`, labelled by the next ':'-separated part(s). */
  const fromRollup = async (counter: Counter<string>, prefix: string, label: (rest: string[]) => Record<string, string>) => {
    const { totals } = await snap();
    counter.reset();
    for (const [metric, n] of totals) if (metric.startsWith(prefix)) counter.inc(label(metric.slice(prefix.length).split(':')), n);
  };
  const rollupCounter = (name: string, help: string, labelNames: string[], prefix: string, label: (rest: string[]) => Record<string, string>) =>
    new Counter({ name, help, labelNames, registers, async collect() { await fromRollup(this, prefix, label); } });

  const labels = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'paperboy_http_requests_total', help: 'HTTP requests by route and status', labelNames: labels, registers });
  const latency = new Histogram({
    name: 'paperboy_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: labels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });

  rollupCounter('paperboy_signups_total', 'Subscription requests (double opt-in started) by method', ['method'], 'consent:subscribe_requested:', ([m = '']) => ({ method: m }));
  rollupCounter('paperboy_confirmations_total', 'Confirmed subscriptions by method', ['method'], 'consent:confirmed:', ([m = '']) => ({ method: m }));
  rollupCounter('paperboy_unsubscribes_total', 'Unsubscribes by method (web, one-click, api, cli, …)', ['method'], 'consent:unsubscribed:', ([m = '']) => ({ method: m }));
  rollupCounter('paperboy_bounces_total', 'Addresses suppressed for a bounce, by where it came from (smtp, ses, postmark, …)', ['source'], 'consent:bounced:', ([m = '']) => ({ source: m }));
  rollupCounter('paperboy_complaints_total', 'Spam complaints (feedback loops), by provider', ['source'], 'consent:complained:', ([m = '']) => ({ source: m }));
  rollupCounter('paperboy_digests_total', 'Digests by outcome', ['outcome'], 'digest:', ([o = '']) => ({ outcome: o }));
  rollupCounter('paperboy_smtp_replies_total', "Final SMTP replies by class ('none': no reply, e.g. connection error)", ['sender', 'class'], 'smtp:', ([s = '', c = '']) => ({ sender: s, class: c }));
  rollupCounter('paperboy_papers_ingested_total', 'New papers stored, by source', ['source'], 'papers:', (rest) => ({ source: rest.join(':') }));

  new Gauge({
    name: 'paperboy_queue_depth',
    help: 'Items waiting: transactional mail, digests in flight, outgoing webhooks',
    labelNames: ['queue'],
    registers,
    async collect() {
      const q = (await snap()).queues;
      this.set({ queue: 'outbound_mail' }, q.outbound);
      this.set({ queue: 'digests_in_flight' }, q.digestsInFlight);
      this.set({ queue: 'webhooks' }, q.webhooks);
    },
  });
  new Gauge({
    name: 'paperboy_ingest_last_run_ok',
    help: "1 when the source's last ingest succeeded",
    labelNames: ['source'],
    registers,
    async collect() {
      const { sources } = await snap();
      this.reset();
      for (const s of sources) this.set({ source: s.source }, s.ok);
    },
  });
  new Gauge({
    name: 'paperboy_ingest_fetched',
    help: "Papers fetched by the source's last ingest",
    labelNames: ['source'],
    registers,
    async collect() {
      const { sources } = await snap();
      this.reset();
      for (const s of sources) this.set({ source: s.source }, s.fetched);
    },
  });
  new Gauge({
    name: 'paperboy_ingest_last_success_timestamp_seconds',
    help: 'When each source last ingested successfully (0: never)',
    labelNames: ['source'],
    registers,
    async collect() {
      const { sources } = await snap();
      this.reset();
      for (const s of sources) this.set({ source: s.source }, seconds(s.lastOk));
    },
  });
  new Gauge({
    name: 'paperboy_digest_last_run_timestamp_seconds',
    help: 'When the last digest run that had anyone due started (0: never)',
    registers,
    async collect() {
      this.set(seconds((await snap()).lastRunAt));
    },
  });

  const httpMiddleware: RequestHandler = (req, res, next) => {
    const end = latency.startTimer();
    res.on('finish', () => {
      // The matched pattern ('/manage/:token'), never the path itself; unmatched paths are one label.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.path.startsWith('/static/') ? '/static' : 'unmatched';
      const l = { method: req.method, route, status: String(res.statusCode) };
      requests.inc(l);
      end(l);
    });
    next();
  };
  const scrape = async () => {
    cached = null;
    try {
      return await registry.metrics();
    } finally {
      cached = null;
    }
  };
  return { registry, httpMiddleware, scrape };
}
