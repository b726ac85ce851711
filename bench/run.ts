// The digest pipeline at scale, and the HTTP front door.
// Usage: npm run bench -- [--subscribers N] [--papers N] [--old N] [--json] [--no-http] [--pipeline-only]
//        [--workers 1,3] [--database postgres]   (end to end with that many `digest run`
//        processes on SQLite, and with --database postgres on PostgreSQL too: BENCH_PG_URL)
// (npm run bench caps V8's old space at 256 MB: without a cap V8 lets the
// garbage of message rendering and MIME encoding pile up well past 1 GB.)
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createCandidateIndex } from '../src/digests/candidate-index.js';
import { createSignalLoader } from '../src/digests/reader-signals.js';
import { buildDigest } from '../src/digests/digest-builder.js';
import { CLAIM_CHUNK, sinceFor } from '../src/digests/digest-run.js';
import { composeDigest, type DigestPaper } from '../src/email/digest-email.js';
import { createMailer } from '../src/email/mailer.js';
import { quotedPrintablePart } from '../src/email/quoted-printable.js';
import { createServices, type Services } from '../src/main.js';
import { subscriberSchedules, subscribersByIds } from '../src/subscribers/subscriber-repo.js';
import { runHttpBench } from './http.js';
import type { AdminOverviewResult } from './admin-overview.js';
import { startSink } from './sink.js';
import { measureWorkers } from './workers.js';
import Database from 'better-sqlite3';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const json = args.includes('--json');
const listFlag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]!.split(',').map(Number) : [];
};
const WORKERS = listFlag('workers');
const ON_POSTGRES = args[args.indexOf('--database') + 1] === 'postgres' && args.includes('--database');
const PG_URL = process.env.BENCH_PG_URL;
if (ON_POSTGRES && !PG_URL) throw new Error('--database postgres: set BENCH_PG_URL to a PostgreSQL server where the bench may create databases');
if (ON_POSTGRES && !WORKERS.length) WORKERS.push(1, 3);
// Phases 1–2 alone (match, render), one JSON line: for comparing checkouts side by side.
const PIPELINE_ONLY = args.includes('--pipeline-only');
const N = flag('subscribers', 100_000);
const NEW_PAPERS = flag('papers', 1000);
const OLD_PAPERS = flag('old', 50_000);
const log = (s: string) => process.stderr.write(`${s}\n`);
const NOW = new Date('2026-11-26T23:30:00Z');

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);
/** Collects the previous phase's garbage (npm run bench passes --expose-gc), so no phase pays for another. */
const settle = () => (globalThis as { gc?: () => void }).gc?.();
const time = async <T>(fn: () => T | Promise<T>) => {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
};

/** Active readers a chunk at a time, loaded as the digest run loads them (only ids are held). */
async function* readerChunks(database: Services['database']) {
  const ids = (await subscriberSchedules(database, 'active')).map((r) => r.id);
  for (let i = 0; i < ids.length; i += CLAIM_CHUNK) yield await subscribersByIds(database, ids.slice(i, i + CLAIM_CHUNK));
}

/** Match and render on their own indexes, with readers loaded per chunk as in a real run. */
async function measurePipeline(s: Services, config: ReturnType<typeof loadConfig>) {
  const since = sinceFor(null, NOW, config.lookbackDays);

  // 1. Match + rank alone (fresh index: the per-run caches are part of the cost), readers' signals loaded per chunk as the run does.
  settle();
  const match = await time(async () => {
    const index = await createCandidateIndex(s.database, since, NOW);
    const loader = createSignalLoader(s.database, index.stats);
    let papers = 0;
    for await (const chunk of readerChunks(s.database)) {
      const signals = await loader.load(chunk);
      for (const sub of chunk) papers += buildDigest(index, sub, { since, now: NOW, limit: sub.maxPapers, alreadySent: () => false, signals: signals.get(sub.id) }).length;
    }
    return papers;
  });
  log(`[rss ${rssMb()} MB] match+rank: ${rate(N, match.ms)}/s (${match.value} papers chosen, ${(match.value / N).toFixed(1)} per digest)`);

  // 2. Match + rank + render, render timed on its own inside the same loop.
  let renderMs = 0;
  let rendered = 0;
  let bytes = 0;
  let sampleMail = { html: '', text: '' };
  const ctx = { ...s.digest, blocks: new Map() };
  settle();
  const pipeline = await time(async () => {
    const index = await createCandidateIndex(s.database, since, NOW);
    const loader = createSignalLoader(s.database, index.stats);
    for await (const chunk of readerChunks(s.database)) {
      const signals = await loader.load(chunk);
      for (const sub of chunk) {
        const items = buildDigest(index, sub, { since, now: NOW, limit: sub.maxPapers, alreadySent: () => false, signals: signals.get(sub.id) });
        if (!items.length) continue;
        const t = performance.now();
        const papers = items.map((i) => ({ ...i, paper: index.paper(i.pk)! })) as DigestPaper[];
        const mail = composeDigest(ctx, sub, '2026-11-26', papers, NOW, '<bench@paperboy.example>');
        renderMs += performance.now() - t;
        rendered++;
        bytes += mail.html.length + mail.text.length;
        if (Math.abs(mail.html.length + mail.text.length - bytes / rendered) < Math.abs(sampleMail.html.length + sampleMail.text.length - bytes / rendered)) sampleMail = mail;
      }
    }
  });
  const avgBytes = Math.round(bytes / Math.max(1, rendered));
  log(`[rss ${rssMb()} MB] match+rank+render: ${rate(N, pipeline.ms)}/s; render alone: ${rate(rendered, renderMs)}/s (${rendered} digests, ${Math.round(avgBytes / 1024)} kB each)`);
  return { match, pipeline, renderMs, rendered, sampleMail };
}

/** 3. The naive baselines (MJML per message, FTS over the whole table), in their own process. */
function measureNaive(config: ReturnType<typeof loadConfig>) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./naive.ts', import.meta.url)), config.databasePath, NOW.toISOString(), String(config.lookbackDays)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const naive = JSON.parse(out.toString()) as { mjml: { n: number; ms: number }; fts: { n: number; ms: number } };
  const result = { naiveMjmlPerSec: rate(naive.mjml.n, naive.mjml.ms), naiveFtsPerSec: rate(naive.fts.n, naive.fts.ms) };
  log(`naive (own process): MJML per message ${result.naiveMjmlPerSec}/s; FTS over all ${OLD_PAPERS + NEW_PAPERS} papers ${result.naiveFtsPerSec}/s`);
  return result;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-bench-'));
  const sink = await startSink();
  const config = loadConfig({ DATABASE_PATH: join(dir, 'bench.db'), OUTBOX_DIR: join(dir, 'outbox'), SMTP_URL: sink.url, SECRET: 'bench-secret-bench-secret-bench-secret', PUBLIC_URL: 'https://paperboy.example', LOG_LEVEL: 'silent', RATE_LIMITS: 'false' });
  const build = await time(() =>
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./build-workload.ts', import.meta.url)), config.databasePath, String(N), String(NEW_PAPERS), String(OLD_PAPERS), NOW.toISOString()], { stdio: 'inherit' }),
  );
  log(`workload: ${N} subscribers, ${NEW_PAPERS} new papers among ${OLD_PAPERS} older ones (built in ${(build.ms / 1000).toFixed(1)} s, in its own process)`);
  // The workload before any run, for the multi-process measurements (each gets a fresh copy).
  const snapshot = join(dir, 'snapshot.db');
  if (WORKERS.length) {
    const db = new Database(config.databasePath, { readonly: true });
    db.prepare('VACUUM INTO ?').run(snapshot);
    db.close();
  }
  const s = await createServices(config, pino({ level: 'silent' }));
  try {
    // Phases 1–2 hold their own indexes and caches; they are garbage before the end-to-end run starts.
    const { match, pipeline, renderMs, rendered, sampleMail } = await measurePipeline(s, config);
    const phases = { subscribers: N, papers: NEW_PAPERS + OLD_PAPERS, pipelinePerSec: rate(N, pipeline.ms), renderPerSec: rate(rendered, renderMs), matchPerSec: rate(N, match.ms) };
    if (PIPELINE_ONLY) {
      process.stdout.write(`${JSON.stringify(phases)}\n`);
      return;
    }
    const naive = measureNaive(config);

    // 4. The pipe's own limit: nodemailer's pool into the same sink, pre-rendered messages of the same size.
    const pipeCount = Math.min(N, 20_000);
    // A real rendered digest of average size as the payload, its bodies encoded once up front
    // (the digest run encodes them in its worker thread, not on the sending thread).
    const { html, text } = sampleMail;
    const raw = { html: quotedPrintablePart('text/html', html), text: quotedPrintablePart('text/plain', text) };
    // Paperboy's own mailer factory: the same nodemailer pool settings the digest run uses.
    const transport = createMailer(config);
    settle();
    const before = await sink.count();
    const pipe = await time(async () => {
      let next = 0;
      const worker = async () => {
        while (next < pipeCount) {
          const i = next++;
          await transport.send({ to: `pipe${i}@bench.example`, subject: 'pipe', html, text, raw, headers: { 'List-Unsubscribe': '<https://paperboy.example/unsubscribe/x>' } });
        }
      };
      await Promise.all(Array.from({ length: config.smtp.poolSize * 2 }, worker));
    });
    transport.close();
    log(`[rss ${rssMb()} MB] pipe limit (nodemailer pool → sink, no Paperboy work): ${rate(pipeCount, pipe.ms)}/s (${(await sink.count()) - before} received)`);

    // 5. End to end: the real run (due check, ledger claims, render, send, ledger update).
    let last = 0;
    settle();
    const e2e = await time(() =>
      s.runDigests({
        now: NOW,
        onProgress: (done, total) => {
          if (!json && done - last >= total / 10) {
            last = done;
            log(`  end-to-end ${Math.round((done / total) * 100)}%`);
          }
        },
      }),
    );
    log(`[rss ${rssMb()} MB] end-to-end: ${rate(e2e.value.sent + e2e.value.skipped, e2e.ms)}/s (${JSON.stringify(e2e.value)})`);
    if (e2e.value.sent === 0) throw new Error('the end-to-end run sent nothing');

    const result = {
      ...phases,
      endToEndPerSec: rate(e2e.value.sent + e2e.value.skipped, e2e.ms),
      pipeLimitPerSec: rate(pipeCount, pipe.ms),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      ...naive,
    };
    const workers = WORKERS.length ? await measureWorkers({ snapshot, dir, counts: WORKERS, pgUrl: ON_POSTGRES ? PG_URL : undefined, smtpUrl: sink.url, now: NOW, log }) : undefined;
    const http = args.includes('--no-http') ? undefined : await runHttpBench(log);
    // The admin overview (GET /admin over HTTP) at 100,000 subscribers and 1,000,000 ledger rows, in its own process.
    const adminOverview = args.includes('--no-http') ? undefined : await runAdminOverviewBench();
    const extra = { ...(workers ? { workers } : {}), ...(http ? { http } : {}), ...(adminOverview ? { adminOverview } : {}) };
    if (json) process.stdout.write(`${JSON.stringify({ ...result, ...extra })}\n`);
    else log(JSON.stringify({ ...result, ...extra }, null, 2));
  } finally {
    await s.close();
    sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** bench/admin-overview.ts in a child process; resolves with what it measured. */
function runAdminOverviewBench(): Promise<AdminOverviewResult> {
  const child = fork(fileURLToPath(new URL('./admin-overview.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as AdminOverviewResult));
    child.once('exit', (code) => (code ? reject(new Error(`admin overview bench exited with ${code}`)) : undefined));
  });
}

await main();
