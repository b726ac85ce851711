import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { onPostgres, runCliAsync, startSmtp, tempDatabase } from '../helpers.js';

// DB_POOL_SIZE bounds every pool of a process, the digest run's thread too
// (it opened a default pool of 10 whatever the operator set).
describe.skipIf(!onPostgres)('DB_POOL_SIZE on PostgreSQL (needs the PostgreSQL pass)', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  beforeAll(async () => {
    db = await tempDatabase();
    smtp = await startSmtp({ delayMs: 20 });
    await loadSampleIfEmpty(db, new Date('2026-11-23T12:00:00Z'));
    for (let i = 0; i < 150; i++) {
      await db.run(
        `INSERT INTO subscribers (email, status, topics, hour, timezone, created_at, updated_at, confirmed_at)
         VALUES (?, 'active', '["diffusion-models","interpretability"]', 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
        [`pool${i}@example.org`],
      );
    }
  });
  afterAll(async () => {
    await smtp.close();
    await db.cleanup();
  });

  it('a `digest run` with DB_POOL_SIZE=2 never holds more than twice that many connections', async () => {
    const url = new URL(db.env.DATABASE_URL!);
    url.searchParams.set('application_name', 'paperboy-pool-test');
    const watcher = new pg.Client({ connectionString: db.env.DATABASE_URL });
    await watcher.connect();
    let peak = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const { rows } = await watcher.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'paperboy-pool-test'");
        peak = Math.max(peak, rows[0]!.n);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const r = await runCliAsync(['digest', 'run', '--json', '--now', '2026-11-24T10:00:00Z'], {
      DATABASE_URL: url.toString(), DB_POOL_SIZE: '2', SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example', SECRET: 'test-secret-test-secret-test-secret-0123',
    });
    watching = false;
    await watch;
    await watcher.end();
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ due: 150, sent: 150 });
    // Seen at all (the watcher works), and bounded.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(4);
  }, 120_000);
});
