// Issue 12 item 6: several digest processes on one database, one killed with
// SIGKILL mid-run. Runs on both engines (PostgreSQL in CI's PostgreSQL pass).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { ROOT, startPaperboy, startSmtp } from '../helpers.js';

const NOW = new Date('2026-11-24T10:00:00Z');
// Four claim chunks (CLAIM_CHUNK is 50): enough for all three workers to hold one at once.
const READERS = 200;

type App = Awaited<ReturnType<typeof startPaperboy>>;
type Smtp = Awaited<ReturnType<typeof startSmtp>>;

describe('three digest workers on one database', () => {
  let smtp: Smtp;
  let app: App;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    // A slow relay: the run is still going when one worker is killed.
    smtp = await startSmtp({ delayMs: 60 });
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    for (let i = 0; i < READERS; i++) {
      await app.database.run(
        `INSERT INTO subscribers (email, status, topics, hour, timezone, created_at, updated_at, confirmed_at)
         VALUES (?, 'active', '["diffusion-models","interpretability","optimizers"]', 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
        [`reader${i}@example.org`],
      );
    }
  });
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    children.length = 0;
    await app.stop();
    await smtp.close();
  });

  /** `paperboy digest run` in its own process, against the test's database and relay. */
  function worker(): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
    const env = { ...process.env, ...app.dbEnv, SMTP_URL: smtp.url, SMTP_POOL_SIZE: '2', SECRET: 'test-secret-test-secret-test-secret-0123', PUBLIC_URL: 'https://paperboy.example', LOG_LEVEL: 'silent' };
    const child = spawn(process.execPath, [join(ROOT, 'bin/paperboy.js'), 'digest', 'run', '--now', NOW.toISOString(), '--json'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    return { child, exited: new Promise((r) => child.once('exit', (code) => r(code))), output: () => out };
  }

  it('shares the work, and after one is killed every reader has exactly one Message-ID and no claim is left', { timeout: 120_000 }, async () => {
    const [a, b, c] = [worker(), worker(), worker()];
    await smtp.waitFor(10, 60_000);
    a.child.kill('SIGKILL');
    await a.exited;
    expect(await Promise.all([b.exited, c.exited])).toEqual([0, 0]);
    // The two survivors shared the run: each sent part of it.
    const [sb, sc] = [JSON.parse(b.output()), JSON.parse(c.output())] as { sent: number }[];
    expect(sb!.sent).toBeGreaterThan(0);
    expect(sc!.sent).toBeGreaterThan(0);

    // What the killed worker had claimed and not sent is picked up by the next run
    // (its owner process is gone), with the same papers and the same Message-ID.
    const rerun = await app.runDigests({ now: NOW });
    expect(rerun.failed).toBe(0);

    await smtp.waitFor(READERS, 30_000);
    const byReader = new Map<string, Set<string>>();
    for (const m of smtp.received) for (const to of m.envelopeTo) byReader.set(to, (byReader.get(to) ?? new Set()).add(m.parsed.messageId!));
    expect(byReader.size).toBe(READERS);
    for (const [reader, ids] of byReader) expect(ids.size, reader).toBe(1);
    // Only a message in the relay's hands at the instant of the kill can arrive twice (same Message-ID).
    expect(smtp.received.length - READERS).toBeLessThanOrEqual(4);

    const ledger = await app.database.all<{ status: string; n: number }>('SELECT status, count(*) AS n FROM deliveries GROUP BY status ORDER BY status');
    expect(ledger).toEqual([{ status: 'sent', n: READERS }]);
    const claims = await app.database.get<{ n: number }>("SELECT count(*) AS n FROM deliveries WHERE lease_owner IS NOT NULL AND status = 'sending'");
    expect(claims!.n).toBe(0);
    // One Message-ID per reader in the ledger too.
    const owners = await app.database.get<{ n: number }>('SELECT count(DISTINCT message_id) AS n FROM deliveries');
    expect(owners!.n).toBe(READERS);
  });
});
