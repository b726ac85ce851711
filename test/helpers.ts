import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
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

/** A migrated SQLite database in a temp file (real file: WAL and two connections work). */
export function tempDatabase(): Database_ & { path: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'paperboy.db');
  const database = openDatabase(path);
  return {
    ...database,
    path,
    cleanup: () => {
      database.sqlite.close();
      cleanup();
    },
  };
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

/** Runs the real `paperboy` CLI in a child process. */
export function runCli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/paperboy.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
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
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
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
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_PATH: join(dir, 'paperboy.db'),
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
    async stop() {
      await http.close();
      await services.outbound.run();
      services.close();
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
