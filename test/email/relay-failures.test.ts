import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDueDigests } from '../../src/digests/digest-run.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { collectStats } from '../../src/stats-service.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { freePort, runCli, runCliAsync, startPaperboy } from '../helpers.js';

/** These runs spawn worker threads and talk to a real relay: generous on a loaded machine. */
const SLOW = 90_000;
const DAY1 = new Date('2026-11-24T10:00:00Z');

/** How the test relay misbehaves; 'ok' once the operator has fixed things. */
type Mode = 'ok' | 'auth535' | 'auth530' | 'data554' | 'rcpt550';

/** A real SMTP server whose failure mode can be switched while a test runs. */
async function startRelay(initial: Mode, rejectRcpt: (rcpt: string) => boolean = () => true, port = 0) {
  const { SMTPServer } = await import('smtp-server');
  const state = { mode: initial };
  const received: { to: string; messageId: string }[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: initial !== 'auth530',
    logger: false,
    onAuth(auth, _session, cb) {
      if (state.mode === 'auth535') return cb(Object.assign(new Error('5.7.8 Error: authentication failed'), { responseCode: 535 }));
      cb(null, { user: auth.username });
    },
    onRcptTo(address, _session, cb) {
      if (state.mode === 'rcpt550' && rejectRcpt(address.address)) return cb(Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.mode === 'data554' && session.envelope.rcptTo.some((r) => rejectRcpt(r.address))) return cb(Object.assign(new Error('5.6.0 Message content rejected'), { responseCode: 554 }));
        const messageId = /^Message-ID: (.*)$/im.exec(Buffer.concat(chunks).toString())?.[1] ?? '';
        for (const r of session.envelope.rcptTo) received.push({ to: r.address, messageId });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: listening } = server.server.address() as AddressInfo;
  return {
    url: (auth = '') => `smtp://${auth}127.0.0.1:${listening}`,
    received,
    /** The operator fixed the relay (password, account, content filter). */
    fix() {
      state.mode = 'ok';
      (server.options as { authOptional?: boolean }).authOptional = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type App = Awaited<ReturnType<typeof startPaperboy>>;
type Relay = Awaited<ReturnType<typeof startRelay>>;

const emails = (n: number) => Array.from({ length: n }, (_, i) => `reader${i}@example.org`);

async function seedReaders(app: App, list: string[]) {
  const insert = `INSERT INTO subscribers (email, status, topics, hour, timezone, created_at, updated_at, confirmed_at)
     VALUES (?, 'active', '["diffusion-models","interpretability","optimizers"]', 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`;
  for (const e of list) await app.database.run(insert, [e]);
}

const count = async (app: App, sql: string) => (await app.database.get<{ n: number }>(sql))!.n;

/** A pino logger whose lines are kept in memory. */
function capturingLog() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('a relay problem is not a bounce', () => {
  let relay: Relay;
  let app: App;
  afterEach(async () => {
    await app?.stop();
    await relay?.close();
  });

  const cases: [string, Mode, string, RegExp][] = [
    ['a wrong SMTP password (535 at AUTH)', 'auth535', 'paperboy:wrong@', /authentication refused \(535\)/],
    ['authentication required (530 at MAIL FROM)', 'auth530', '', /authentication refused \(530\)/],
    ['a content rejection (554 at DATA)', 'data554', '', /message refused \(5\.6\.0\)/],
  ];

  it.each(cases)('when the relay answers %s, then nobody is suppressed, the run stops early, stats alert, and the next run after the fix delivers to everyone once', async (_name, mode, auth, reason) => {
    relay = await startRelay(mode);
    app = await startPaperboy({ SMTP_URL: relay.url(auth), PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false', SMTP_POOL_SIZE: '1' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    const readers = emails(30);
    await seedReaders(app, readers);

    // A heartbeat that beats during the run must not re-lease what the run handed back.
    const first = await app.runDigests({ now: DAY1, concurrency: 2, retryBaseMs: 10, renewEveryMs: 20 });
    expect(first.sent).toBe(0);
    expect(first.stopped?.reason).toMatch(reason);
    // Stopped after a few identical failures instead of burning through the list.
    expect(first.failed).toBeGreaterThanOrEqual(3);
    expect(first.failed).toBeLessThanOrEqual(4);
    expect(first.failed + first.deferred).toBe(30);
    expect(await count(app, "SELECT count(*) AS n FROM subscribers WHERE status = 'active'")).toBe(30);
    expect(await count(app, "SELECT count(*) AS n FROM consent_events WHERE event = 'bounced'")).toBe(0);
    expect(await count(app, "SELECT count(*) AS n FROM deliveries WHERE status = 'failed'")).toBe(0);
    const stats = await collectStats(app.database);
    expect(stats.relay.alert).toBe(true);
    expect(stats.relay.lastError).toMatchObject({ source: 'digest', kind: 'relay' });
    expect(stats.relay.lastError!.reason).toMatch(reason);
    expect(stats.digests).toEqual({ sent: 0, skipped: 0, failed: 0 });

    relay.fix();
    const second = await app.runDigests({ now: new Date(DAY1.getTime() + 600_000), concurrency: 2, retryBaseMs: 10 });
    expect(second).toMatchObject({ sent: 30, failed: 0, stopped: null });
    expect(relay.received.map((m) => m.to).sort()).toEqual([...readers].sort());
    expect(await count(app, "SELECT count(*) AS n FROM deliveries WHERE status = 'sent'")).toBe(30);
    expect((await collectStats(app.database)).relay.alert).toBe(false);
  }, SLOW);

  it('when the relay rejects one digest’s content while the rest go out, then the alert stands after the run', async () => {
    relay = await startRelay('data554', (rcpt) => rcpt === 'reader3@example.org');
    app = await startPaperboy({ SMTP_URL: relay.url(), PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    await seedReaders(app, emails(8));
    const run = await app.runDigests({ now: DAY1, concurrency: 2, retryBaseMs: 10 });
    expect(run).toMatchObject({ sent: 7, failed: 1, stopped: null });
    const stats = await collectStats(app.database);
    expect(stats.relay.alert).toBe(true);
    expect(stats.relay.lastError).toMatchObject({ source: 'digest', kind: 'relay' });
    expect((await findByEmail(app.database, 'reader3@example.org'))!.status).toBe('active');
  }, SLOW);

  it('when nothing listens at the relay address, then the run ends with everyone handed back, nobody suppressed, stats alert; the next run after it is up delivers to everyone once', async () => {
    // Connections to it are refused.
    const port = await freePort();
    // More readers than the pool has connections (5): each refused connection used to keep its slot for ever.
    app = await startPaperboy({ SMTP_URL: `smtp://127.0.0.1:${port}`, PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    const readers = emails(12);
    await seedReaders(app, readers);

    const first = await app.runDigests({ now: DAY1, concurrency: 8, retryBaseMs: 10 });
    expect(first.sent).toBe(0);
    expect(first.failed + first.deferred).toBe(12);
    // Handed back: not sent, not failed, and no lease held (nothing waits for this process).
    expect(await count(app, "SELECT count(*) AS n FROM deliveries WHERE status IN ('sent', 'failed') OR lease_owner IS NOT NULL")).toBe(0);
    expect(await count(app, "SELECT count(*) AS n FROM subscribers WHERE status = 'active'")).toBe(12);
    expect((await collectStats(app.database)).relay.alert).toBe(true);

    relay = await startRelay('ok', () => false, port);
    const second = await app.runDigests({ now: new Date(DAY1.getTime() + 600_000), concurrency: 8, retryBaseMs: 10 });
    expect(second).toMatchObject({ sent: 12, failed: 0, stopped: null });
    expect(relay.received.map((m) => m.to).sort()).toEqual([...readers].sort());
  }, SLOW);

  it('when the relay answers 550 5.1.1 at RCPT for one reader, then only that reader is suppressed, and the address is masked in the ledger and the logs', async () => {
    relay = await startRelay('rcpt550', (rcpt) => rcpt === 'reader2@example.org');
    app = await startPaperboy({ SMTP_URL: relay.url(), PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    await seedReaders(app, emails(5));
    const { log, lines } = capturingLog();
    const summary = await runDueDigests({ ...app.digest, database: app.database, mailer: app.mailer, log, secret: app.secret, lookbackDays: 7 }, { now: DAY1, retryBaseMs: 10 });
    expect(summary).toMatchObject({ sent: 4, failed: 1, stopped: null });
    expect((await findByEmail(app.database, 'reader2@example.org'))!.status).toBe('bounced');
    expect(relay.received).toHaveLength(4);
    const row = (await app.database.get<{ error: string }>("SELECT d.error FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'reader2@example.org'"))!;
    expect(row.error).toContain('550 5.1.1 <r***@example.org>: Recipient address rejected: User unknown');
    expect(row.error).not.toContain('reader2@');
    const logged = lines.join('');
    expect(logged).toContain('r***@example.org');
    expect(logged).not.toContain('reader2@example.org');
    expect((await collectStats(app.database)).relay.alert).toBe(false);
  }, SLOW);

  it('when the transactional queue meets a wrong password, then the reader is not bounced and gets the mail once the relay is fixed', async () => {
    relay = await startRelay('auth535');
    app = await startPaperboy({ SMTP_URL: relay.url('paperboy:wrong@'), RATE_LIMITS: 'false' });
    await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'newcomer@example.org', topics: ['agents'] }) });
    await app.outbound.run();
    expect((await findByEmail(app.database, 'newcomer@example.org'))!.status).toBe('pending');
    const row = (await app.database.get<{ status: string; attempts: number; last_error: string }>('SELECT status, attempts, last_error FROM outbound_mail'))!;
    expect(row).toMatchObject({ status: 'queued', attempts: 0 });
    expect(row.last_error).toMatch(/535/);
    expect((await collectStats(app.database)).relay).toMatchObject({ alert: true, lastError: { source: 'outbound', kind: 'relay' } });
    relay.fix();
    await app.database.run("UPDATE outbound_mail SET next_attempt_at = '2000-01-01T00:00:00.000Z'");
    await app.outbound.run();
    expect(relay.received.map((m) => m.to)).toEqual(['newcomer@example.org']);
    expect(await app.database.get('SELECT status FROM outbound_mail')).toEqual({ status: 'sent' });
    expect((await collectStats(app.database)).relay.alert).toBe(false);
  }, SLOW);

  it('when the relay rejects an active reader’s manage-link mail at DATA, then the reader stays active', async () => {
    relay = await startRelay('data554');
    app = await startPaperboy({ SMTP_URL: relay.url(), RATE_LIMITS: 'false' });
    await seedReaders(app, ['active@example.org']);
    const id = (await findByEmail(app.database, 'active@example.org'))!.id;
    const now = new Date().toISOString();
    await app.database.run("INSERT INTO outbound_mail (subscriber_id, kind, recipient, status, attempts, next_attempt_at, created_at) VALUES (?, 'manage', 'active@example.org', 'queued', 0, ?, ?)", [id, now, now]);
    await app.outbound.run();
    expect((await findByEmail(app.database, 'active@example.org'))!.status).toBe('active');
    expect(await app.database.get('SELECT status FROM outbound_mail')).toEqual({ status: 'queued' });
  }, SLOW);
});

describe('the digest run command', () => {
  let relay: Relay;
  let app: App;
  beforeEach(async () => {
    relay = await startRelay('rcpt550', (rcpt) => rcpt === 'reader1@example.org');
    app = await startPaperboy({ SMTP_URL: relay.url(), PUBLIC_URL: 'https://paperboy.example' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    await seedReaders(app, emails(3));
  });
  afterEach(async () => {
    await app.stop();
    await relay.close();
  }, SLOW);

  it('when any digest failed, then `digest run --json` exits 1 and still prints only JSON', async () => {
    const env = { ...app.dbEnv, SMTP_URL: relay.url(), SECRET: 'test-secret-test-secret-test-secret-0123', PUBLIC_URL: 'https://paperboy.example' };
    // Not spawnSync: the relay runs in this process and must keep answering.
    const r = await runCliAsync(['digest', 'run', '--json', '--now', DAY1.toISOString()], env);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ due: 3, sent: 2, failed: 1 });
    const stats = runCli(['stats', '--json'], env);
    expect(JSON.parse(stats.stdout).relay).toMatchObject({ alert: false, lastError: null });
  }, SLOW);
});
