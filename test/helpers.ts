import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type Database_ } from '../src/db/client.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CORPUS_DIR = join(ROOT, '../shared/corpus/daily-papers');
export const FIXTURES = join(ROOT, 'test/fixtures');
export const silentLog = pino({ level: 'silent' });

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The PostgreSQL server of the suite's PostgreSQL pass (`.ci/run` starts a
 * throwaway one and sets PAPERBOY_TEST_PG_URL); unset, the suite runs on SQLite.
 */
export const TEST_PG_URL = process.env.PAPERBOY_TEST_PG_URL;
export const onPostgres = Boolean(TEST_PG_URL);
let pgCount = 0;

/**
 * Environment naming a fresh migrated database for a CLI run or an app under
 * test: a SQLite file in `dir`, or, in the PostgreSQL pass, a new database
 * copied from the migrated template made by test/global-setup.ts.
 */
export async function databaseEnv(dir: string, name = 'paperboy'): Promise<Record<string, string>> {
  if (!TEST_PG_URL) return { DATABASE_PATH: join(dir, `${name}.db`) };
  const { default: pg } = await import('pg');
  const db = `pb_${process.env.PAPERBOY_TEST_PG_RUN}_${process.pid}_${++pgCount}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${db} TEMPLATE paperboy_template_${process.env.PAPERBOY_TEST_PG_RUN}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${db}`;
  return { DATABASE_URL: url.toString() };
}

/** A migrated database (a SQLite temp file, or a fresh PostgreSQL database in the PostgreSQL pass). */
export async function tempDatabase(): Promise<Database_ & { env: Record<string, string>; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = tempDir();
  const env = await databaseEnv(dir);
  const database = await openDatabase(env.DATABASE_URL ?? env.DATABASE_PATH!, { poolSize: 4 });
  return Object.assign(database, {
    env,
    cleanup: async () => {
      await database.close();
      cleanup();
    },
  });
}

/** An HTTP server on 127.0.0.1 and a port chosen at run time. */
export async function listen(handler: RequestListener): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const CLI = join(ROOT, 'bin/paperboy.js');
const cliOptions = (env: Record<string, string>) => ({ cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...env } });

/** Runs the real `paperboy` CLI in a child process. */
export function runCli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { ...cliOptions(env), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the real `paperboy` CLI in a child process without blocking this one (so servers in this process can answer it). */
export function runCliAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], cliOptions(env));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** A message received by the test SMTP server, parsed by mailparser. */
export interface ReceivedMail {
  envelopeTo: string[];
  /** MAIL FROM (the return path bounces go to). */
  envelopeFrom: string;
  raw: string;
  parsed: import('mailparser').ParsedMail;
}

/**
 * A real SMTP server on 127.0.0.1. `reject(rcpt)` may return an SMTP error
 * (e.g. `{ code: 550, message: 'no such user' }`) to refuse a recipient.
 */
export async function startSmtp(options: { reject?: (rcpt: string) => { code: number; message: string } | null; delayMs?: number } = {}) {
  const { SMTPServer } = await import('smtp-server');
  const { simpleParser } = await import('mailparser');
  const received: ReceivedMail[] = [];
  const waiters: (() => void)[] = [];
  // Messages being received at once, and the most there ever were (parallel sends).
  const inData = { now: 0, peak: 0 };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onRcptTo(address, _session, cb) {
      const err = options.reject?.(address.address);
      if (err) return cb(Object.assign(new Error(err.message), { responseCode: err.code }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      inData.peak = Math.max(inData.peak, ++inData.now);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        inData.now--;
        const raw = Buffer.concat(chunks).toString('utf8');
        const { mailFrom } = session.envelope;
        received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), envelopeFrom: mailFrom ? mailFrom.address : '', raw, parsed: await simpleParser(raw) });
        waiters.splice(0).forEach((w) => w());
        cb();
      });
    },
  });
  // A client killed mid-session (the SIGKILL test does exactly that) resets its
  // connection; that is expected here. Anything else still fails the run.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') throw err;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    options,
    /** The most messages this server was receiving at the same time. */
    get peakConcurrent() {
      return inData.peak;
    },
    /** Resolves once `n` messages have arrived (or rejects after `ms`). */
    async waitFor(n: number, ms = 10_000): Promise<ReceivedMail[]> {
      const deadline = Date.now() + ms;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} messages, got ${received.length}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The full app (real services, real migrations) on 127.0.0.1, with a temp database. */
export async function startPaperboy(env: Record<string, string> = {}) {
  const { loadConfig } = await import('../src/config.js');
  const { createServices, appFor } = await import('../src/main.js');
  const { dir, cleanup } = tempDir();
  // The database as a child process (a CLI run) is pointed at it.
  const dbEnv = await databaseEnv(dir);
  const config = loadConfig({
    NODE_ENV: 'test',
    ...dbEnv,
    OUTBOX_DIR: join(dir, 'outbox'),
    SECRET: 'test-secret-test-secret-test-secret-0123',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const services = await createServices(config, silentLog);
  const http = await listen(appFor(services));
  return {
    ...services,
    url: http.url,
    dir,
    dbEnv,
    async stop() {
      await http.close();
      await services.outbound.run();
      await services.close();
      cleanup();
    },
  };
}

/** Pulls the first link to `path` out of a text part. */
export function linkIn(text: string | undefined, path: string): string {
  const m = new RegExp(`https?://\\S+/${path}/[A-Za-z0-9_\\-.]+`).exec(text ?? '');
  if (!m) throw new Error(`no /${path}/ link in:\n${text}`);
  return m[0];
}

/**
 * A test relay and the full app for one file's tests: started before them,
 * stopped after them. Links in mail name https://paperboy.example; `local`
 * points one at the app under test.
 */
export function appWithRelay(env: Record<string, string> = {}) {
  const t = {} as { smtp: Awaited<ReturnType<typeof startSmtp>>; app: Awaited<ReturnType<typeof startPaperboy>>; local: (url: string) => string };
  beforeAll(async () => {
    t.smtp = await startSmtp();
    t.app = await startPaperboy({ SMTP_URL: t.smtp.url, RATE_LIMITS: 'false', PUBLIC_URL: 'https://paperboy.example', ...env });
  });
  afterAll(async () => {
    await t.app.stop();
    await t.smtp.close();
  });
  t.local = (url) => url.replace('https://paperboy.example', t.app.url);
  return t;
}

/** A port on 127.0.0.1 that was free a moment ago (taken, then released): nothing listens there. */
export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
