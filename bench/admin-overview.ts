// The admin overview at scale (issue 16): 100,000 subscribers, a million
// ledger rows, consent events and papers, written through the same triggers
// that keep the rollups in production; then GET /admin through the real app
// with a signed-in session, sequentially. Run by bench/run.ts in a child
// process (so its memory is its own), or alone: npx tsx bench/admin-overview.ts
// [--database postgres://…] (PostgreSQL: a throwaway database on that server).
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadOverview } from '../src/admin/overview-queries.js';
import { loadConfig } from '../src/config.js';
import { appFor, createServices } from '../src/main.js';
import { fillPostgres, scratchDatabase } from './admin-overview-pg.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const SUBSCRIBERS = flag('subscribers', 100_000);
const LEDGER = flag('ledger', 1_000_000);
const PG_URL = args.includes('--database') ? args[args.indexOf('--database') + 1] : undefined;
const NOW = new Date('2026-11-30T12:00:00Z');
const DAY = 86_400_000;
const TOKEN = 'bench-admin-token-0123456789';
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Result of the overview bench. */
export interface AdminOverviewResult {
  subscribers: number;
  ledgerRows: number;
  fillSeconds: number;
  queryP50Ms: number;
  httpP50Ms: number;
  httpP95Ms: number;
  httpMaxMs: number;
  /** The same day-by-day digest counts computed by scanning the ledger instead of the rollup, once. */
  fullScanMs: number;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (n: number) => Math.round(n * 10) / 10;

async function main(): Promise<AdminOverviewResult> {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-admin-bench-'));
  const scratch = PG_URL ? await scratchDatabase(PG_URL) : null;
  const where = scratch ? { DATABASE_URL: scratch.url } : { DATABASE_PATH: join(dir, 'bench.db') };
  const config = loadConfig({ ...where, OUTBOX_DIR: join(dir, 'outbox'), SECRET: 'bench-secret-bench-secret-bench-secret', ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'silent', SCHEDULER: 'false' });
  const s = await createServices(config, pino({ level: 'silent' }));
  try {
    const t0 = performance.now();
    if (s.database.sqlite) fill(s.database.sqlite);
    else await fillPostgres(s.database, SUBSCRIBERS, LEDGER, NOW);
    const fillSeconds = round((performance.now() - t0) / 1000);
    log(`admin overview (${s.database.dialect}): filled ${SUBSCRIBERS} subscribers and ${LEDGER} ledger rows in ${fillSeconds} s (triggers on)`);

    const queryTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await loadOverview(s.database, NOW, 30);
      queryTimes.push(performance.now() - t);
    }
    const scan = performance.now();
    await s.database.all('SELECT substr(finished_at, 1, 10) AS day, status, count(*) FROM deliveries WHERE finished_at >= ? GROUP BY 1, 2', [new Date(NOW.getTime() - 30 * DAY).toISOString()]);
    const fullScanMs = round(performance.now() - scan);

    const server = appFor(s).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const login = await fetch(`${url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}` });
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t = performance.now();
        const res = await fetch(`${url}/admin`, { headers: { cookie } });
        const body = await res.text();
        times.push(performance.now() - t);
        if (res.status !== 200 || !body.includes('Subscribers by status')) throw new Error(`GET /admin answered ${res.status}`);
      }
      const result = {
        subscribers: SUBSCRIBERS,
        ledgerRows: LEDGER,
        fillSeconds,
        queryP50Ms: round(pct(queryTimes, 50)),
        httpP50Ms: round(pct(times, 50)),
        httpP95Ms: round(pct(times, 95)),
        httpMaxMs: round(Math.max(...times)),
        fullScanMs,
      };
      log(`admin overview: GET /admin p50 ${result.httpP50Ms} ms, p95 ${result.httpP95Ms} ms (query ${result.queryP50Ms} ms; a ledger scan for the same days: ${fullScanMs} ms)`);
      return result;
    } finally {
      server.close();
    }
  } finally {
    await s.close();
    await scratch?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Subscribers over 90 days, their consent events, and a ledger of daily runs, written the way the app writes them. */
function fill(sqlite: import('better-sqlite3').Database): void {
  const topics = ['interpretability', 'diffusion-models', 'agents', 'reinforcement-learning', 'efficient-inference'];
  const sub = sqlite.prepare("INSERT INTO subscribers (email, status, topics, created_at, updated_at, confirmed_at) VALUES (?, 'pending', ?, ?, ?, NULL)");
  const confirm = sqlite.prepare("UPDATE subscribers SET status = ?, confirmed_at = ?, updated_at = ? WHERE id = ?");
  const consent = sqlite.prepare('INSERT INTO consent_events (subscriber_id, event, method, at) VALUES (?, ?, ?, ?)');
  sqlite.transaction(() => {
    for (let i = 1; i <= SUBSCRIBERS; i++) {
      const at = new Date(NOW.getTime() - 90 * DAY + Math.floor((i / SUBSCRIBERS) * 89 * DAY)).toISOString();
      sub.run(`reader${i}@bench.example`, JSON.stringify([topics[i % 5], topics[(i * 7) % 5]]), at, at);
      consent.run(i, 'subscribe_requested', 'web', at);
      if (i % 10 !== 0) {
        const status = i % 50 === 1 ? 'unsubscribed' : i % 97 === 0 ? 'bounced' : 'active';
        confirm.run(status, at, at, i);
        consent.run(i, 'confirmed', 'web', at);
        if (status !== 'active') consent.run(i, status, status === 'bounced' ? 'smtp' : 'one-click', at);
      }
    }
  })();
  // Daily runs over the last days, each claiming (sending) then finishing its rows, as the ledger does.
  const perRun = Math.min(SUBSCRIBERS, 100_000);
  const runs = Math.ceil(LEDGER / perRun);
  const claim = sqlite.prepare("INSERT INTO deliveries (subscriber_id, period_key, status, message_id, since, created_at) VALUES (?, ?, 'sending', '', '', ?)");
  const finish = sqlite.prepare("UPDATE deliveries SET status = CASE WHEN subscriber_id % 40 = 0 THEN 'failed' ELSE 'sent' END, finished_at = ?, error = CASE WHEN subscriber_id % 40 = 0 THEN '451 4.3.0 try later' END WHERE created_at = ? AND status = 'sending'");
  const skip = sqlite.prepare("INSERT INTO deliveries (subscriber_id, period_key, status, message_id, since, created_at, finished_at) VALUES (?, ?, 'skipped', '', '', ?, ?)");
  let written = 0;
  for (let r = runs - 1; r >= 0 && written < LEDGER; r--) {
    const runAt = new Date(NOW.getTime() - r * DAY - 4 * 3600_000).toISOString();
    const period = runAt.slice(0, 10);
    sqlite.transaction(() => {
      for (let i = 1; i <= perRun && written < LEDGER; i++, written++) {
        if (i % 8 === 0) skip.run(i, period, runAt, runAt);
        else claim.run(i, period, runAt);
      }
      finish.run(new Date(Date.parse(runAt) + 900_000).toISOString(), runAt);
    })();
  }
}

const result = await main();
if (process.send) process.send(result);
else process.stdout.write(`${JSON.stringify(result)}\n`);
