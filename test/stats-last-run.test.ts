import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectStats } from '../src/stats-service.js';
import { tempDatabase } from './helpers.js';

// Several nodes share one scheduled tick, each with its own `now`: `stats`
// showed one process's share ("50 due") as if it were the whole run.
describe('stats: the last digest run', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  beforeAll(async () => {
    db = await tempDatabase();
  });
  afterAll(() => db.cleanup());

  const run = (at: string, claimed: number, sent: number, skipped: number, failed: number, updated: string) =>
    db.run('INSERT INTO digest_runs (run_at, claimed, sent, skipped, failed, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [at, claimed, sent, skipped, failed, updated]);

  it('adds up the runs of every process in the newest run’s minute, and only those', async () => {
    await run('2026-12-01T04:50:00.120Z', 40, 40, 0, 0, '2026-12-01T04:50:09.000Z');
    await run('2026-12-01T05:00:00.003Z', 150, 149, 10, 1, '2026-12-01T05:00:13.000Z');
    await run('2026-12-01T05:00:00.410Z', 50, 50, 0, 0, '2026-12-01T05:00:07.000Z');
    await run('2026-12-01T05:00:05.308Z', 50, 45, 2, 0, '2026-12-01T05:00:09.000Z');
    expect((await collectStats(db)).lastDigestRun).toEqual({
      at: '2026-12-01T05:00:00.003Z',
      runs: 3,
      due: 262,
      sent: 244,
      skipped: 12,
      failed: 1,
      inFlight: 5,
      finishedAt: '2026-12-01T05:00:13.000Z',
    });
  });
});
