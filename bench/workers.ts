// End to end with several `paperboy digest run` processes on one database, on
// SQLite and on PostgreSQL, each from the same freshly built workload:
// `npm run bench -- --database postgres --workers 1,3` (needs BENCH_PG_URL, a
// PostgreSQL server where the bench may create databases).
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const BIN = fileURLToPath(new URL('../bin/paperboy.js', import.meta.url));

/** One measured configuration. */
export interface WorkersResult {
  database: 'sqlite' | 'postgres';
  workers: number;
  perSec: number;
  sent: number;
  skipped: number;
  ms: number;
}

interface Summary {
  sent: number;
  skipped: number;
  failed: number;
  due: number;
}

/** Runs `n` digest-run processes at once against `dbEnv`; resolves when all have exited. */
async function runWorkers(n: number, dbEnv: Record<string, string>, smtpUrl: string, now: Date): Promise<{ ms: number; summaries: Summary[] }> {
  const env = { ...process.env, ...dbEnv, SMTP_URL: smtpUrl, SECRET: 'bench-secret-bench-secret-bench-secret', PUBLIC_URL: 'https://paperboy.example', LOG_LEVEL: 'silent' };
  const t = performance.now();
  const summaries = await Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(process.execPath, [BIN, 'digest', 'run', '--now', now.toISOString(), '--json'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<Summary>((resolve, reject) =>
        child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Summary) : reject(new Error(`digest run exited with ${code}: ${out}`)))),
      );
    }),
  );
  return { ms: performance.now() - t, summaries };
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const withDb = (url: string, db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString();

/**
 * Measures every (database, workers) pair from the SQLite snapshot `snapshot`
 * (the workload, before any run): a fresh copy of it for each measurement.
 */
export async function measureWorkers(opts: { snapshot: string; dir: string; counts: number[]; pgUrl?: string; smtpUrl: string; now: Date; log: (s: string) => void }): Promise<WorkersResult[]> {
  const results: WorkersResult[] = [];
  const record = (database: WorkersResult['database'], workers: number, r: { ms: number; summaries: Summary[] }) => {
    const sent = r.summaries.reduce((t, s) => t + s.sent, 0);
    const skipped = r.summaries.reduce((t, s) => t + s.skipped, 0);
    const perSec = Math.round(((sent + skipped) / r.ms) * 1000);
    results.push({ database, workers, perSec, sent, skipped, ms: Math.round(r.ms) });
    opts.log(`end-to-end on ${database} with ${workers} process(es): ${perSec}/s (${sent} sent, ${skipped} skipped in ${(r.ms / 1000).toFixed(1)} s, process start included)`);
  };
  for (const n of opts.counts) {
    const path = join(opts.dir, `workers-${n}.db`);
    execFileSync('cp', [opts.snapshot, path]);
    record('sqlite', n, await runWorkers(n, { DATABASE_PATH: path }, opts.smtpUrl, opts.now));
  }
  if (!opts.pgUrl) return results;
  const template = `paperboy_bench_${process.pid}`;
  await admin(opts.pgUrl, (c) => c.query(`CREATE DATABASE ${template}`));
  try {
    const t = performance.now();
    execFileSync(process.execPath, [BIN, 'db', 'copy', '--to', withDb(opts.pgUrl, template)], { env: { ...process.env, DATABASE_PATH: opts.snapshot, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'ignore', 'inherit'] });
    opts.log(`copied the workload to PostgreSQL with \`paperboy db copy\` in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    for (const n of opts.counts) {
      const db = `${template}_${n}`;
      await admin(opts.pgUrl, (c) => c.query(`CREATE DATABASE ${db} TEMPLATE ${template}`));
      try {
        record('postgres', n, await runWorkers(n, { DATABASE_URL: withDb(opts.pgUrl, db) }, opts.smtpUrl, opts.now));
      } finally {
        await admin(opts.pgUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
      }
    }
  } finally {
    await admin(opts.pgUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`));
  }
  return results;
}
