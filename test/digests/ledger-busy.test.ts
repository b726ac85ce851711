import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDueDigests } from '../../src/digests/digest-run.js';
import { createServices } from '../../src/main.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { onPostgres, silentLog, startPaperboy, startSmtp } from '../helpers.js';

/** These runs spawn worker threads and talk to a real relay: generous on a loaded machine. */
const SLOW = 90_000;
const DAY1 = new Date('2026-11-24T10:00:00Z');

type App = Awaited<ReturnType<typeof startPaperboy>>;
type Smtp = Awaited<ReturnType<typeof startSmtp>>;

const emails = (n: number) => Array.from({ length: n }, (_, i) => `reader${i}@example.org`);

async function seedReaders(app: App, list: string[]) {
  const insert = `INSERT INTO subscribers (email, status, topics, hour, timezone, created_at, updated_at, confirmed_at)
     VALUES (?, 'active', '["diffusion-models","interpretability","optimizers"]', 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`;
  for (const e of list) await app.database.run(insert, [e]);
}

/** Another process's connection (an import, say) holding the write lock for `ms`. */
function holdWriteLock(path: string, ms: number): Promise<void> {
  const other = new Database(path);
  other.exec('BEGIN IMMEDIATE');
  return new Promise((resolve) =>
    setTimeout(() => {
      other.exec('COMMIT');
      other.close();
      resolve();
    }, ms),
  );
}

/** Every reader got exactly one digest (one message, one Message-ID). */
function expectOneEach(smtp: Smtp, readers: string[]) {
  for (const r of readers) expect(smtp.received.filter((m) => m.envelopeTo.includes(r)).length, r).toBe(1);
  expect(smtp.received).toHaveLength(readers.length);
}

const inState = async (app: App, status: string) => (await app.database.get<{ n: number }>('SELECT count(*) AS n FROM deliveries WHERE status = ?', [status]))!.n;

// A second SQLite connection holding BEGIN IMMEDIATE is how SQLite gets busy; PostgreSQL has row locks instead.
describe.skipIf(onPostgres)('the ledger survives a busy database', () => {
  let smtp: Smtp;
  let app: App;
  let locks: Promise<void>[];
  beforeEach(async () => {
    locks = [];
    smtp = await startSmtp({ delayMs: 10 });
    // A busy timeout far shorter than the lock below: every ledger write in the window is refused as busy.
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example', DB_BUSY_TIMEOUT_MS: '100' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
  });
  afterEach(async () => {
    await Promise.all(locks);
    await app.stop();
    await smtp.close();
  }, SLOW);

  it('when another connection holds the write lock past the busy timeout mid-run, then every accepted digest is still recorded as sent, and nobody gets two', async () => {
    const readers = emails(60);
    await seedReaders(app, readers);
    const run = app.runDigests({ now: DAY1 });
    await smtp.waitFor(10, 30_000);
    locks.push(holdWriteLock(app.config.database, 1500));
    const summary = await run;
    expect(summary).toMatchObject({ sent: 60, failed: 0, deferred: 0 });
    expect(await inState(app, 'sending')).toBe(0);
    expect(await inState(app, 'sent')).toBe(60);
    // The next run has nothing to resend.
    expect(await app.runDigests({ now: new Date(DAY1.getTime() + 600_000) })).toMatchObject({ resumed: 0, sent: 0 });
    expectOneEach(smtp, readers);
  }, SLOW);

  it('when a chunk cannot be claimed because the database stays busy, then the run does not abort: sends in flight finish and are recorded, and the next run sends the rest', async () => {
    const readers = emails(60); // two claim chunks: 50 and 10
    await seedReaders(app, readers);
    const deps = { ...app.digest, database: app.database, mailer: app.mailer, log: silentLog, secret: app.secret, lookbackDays: 7 };
    // The lock is taken as the 47th digest is recorded: three more of the first chunk are
    // in flight, and the fourth sender, out of work, goes to claim the second chunk.
    const onProgress = (done: number) => void (done === 47 && locks.push(holdWriteLock(app.config.database, 1500)));
    const first = await runDueDigests(deps, { now: DAY1, concurrency: 4, claimBusyMs: 300, onProgress });
    expect(first).toMatchObject({ sent: 50, failed: 0, deferred: 10 });
    expect(await inState(app, 'sending')).toBe(0);
    await Promise.all(locks);
    const second = await runDueDigests(deps, { now: new Date(DAY1.getTime() + 600_000) });
    expect(second).toMatchObject({ sent: 10, failed: 0, resumed: 0 });
    expectOneEach(smtp, readers);
  }, SLOW);
});

describe('leases', () => {
  let smtp: Smtp;
  let app: App;
  beforeEach(async () => {
    // Slow enough that a run of twelve outlasts a one-second lease.
    smtp = await startSmtp({ delayMs: 400 });
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
  });
  afterEach(async () => {
    await app.stop();
    await smtp.close();
  }, SLOW);

  it('when a stalled run’s leases lapse and another process takes them over, then the old owner does not send them: one copy per reader', async () => {
    const readers = emails(12);
    await seedReaders(app, readers);
    const other = await createServices(app.config, silentLog);
    try {
      // No heartbeat: this run stands for one whose process stalled while holding its claims.
      const a = app.runDigests({ now: DAY1, concurrency: 1, leaseMs: 1000, renewEveryMs: 3_600_000 });
      await smtp.waitFor(3, 30_000);
      const b = await other.runDigests({ now: DAY1 });
      const first = await a;
      expect(b.resumed).toBeGreaterThan(0);
      expect(first.busy).toBe(b.resumed); // each one taken over was left alone by its old owner
      expect(first.sent + b.sent).toBe(12);
    } finally {
      await other.close();
    }
    expectOneEach(smtp, readers);
    expect(await inState(app, 'sent')).toBe(12);
  }, SLOW);

  it('when a run keeps working past its lease, then its heartbeat keeps the claims: another process takes over nothing', async () => {
    const readers = emails(12);
    await seedReaders(app, readers);
    const other = await createServices(app.config, silentLog);
    try {
      const a = app.runDigests({ now: DAY1, concurrency: 1, leaseMs: 1000, renewEveryMs: 200 });
      await smtp.waitFor(3, 30_000);
      const b = await other.runDigests({ now: DAY1 });
      expect(b).toMatchObject({ resumed: 0, sent: 0 });
      expect(await a).toMatchObject({ sent: 12, busy: 0 });
    } finally {
      await other.close();
    }
    expectOneEach(smtp, readers);
  }, SLOW);
});
