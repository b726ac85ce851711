import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFeedback } from '../../src/digests/reader-signals.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { runCli, startPaperboy } from '../helpers.js';

// "Download my data" names papers by their public id and title, never by the internal pk.

describe("a reader's data download", () => {
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  beforeAll(async () => {
    app = await startPaperboy({ RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
  });
  afterAll(() => app.stop());

  it('when the reader rated papers, then the manage link\'s ?data and `subscribers export --email X --json` show each rating with the paper\'s id and title, in a stable order', async () => {
    const at = '2026-11-01T08:00:00.000Z';
    const { id } = (await app.database.get<{ id: number }>(
      "INSERT INTO subscribers (email, status, topics, created_at, updated_at, confirmed_at) VALUES ('rater@example.org', 'active', '[\"agents\"]', ?, ?, ?) RETURNING id",
      [at, at, at],
    ))!;
    const papers = await app.database.all<{ pk: number; id: string; title: string }>('SELECT pk, id, title FROM papers ORDER BY pk DESC LIMIT 2');
    await recordFeedback(app.database, id, papers[0]!.pk, 'more', new Date('2026-11-03T08:00:00Z'));
    await recordFeedback(app.database, id, papers[1]!.pk, 'less', new Date('2026-11-02T08:00:00Z'));
    const manage = app.links.manageUrl((await findByEmail(app.database, 'rater@example.org'))!).replace(/^https?:\/\/[^/]+/, app.url);

    const web = (await (await fetch(`${manage}?data`)).json()) as Record<string, unknown> & { other: Record<string, unknown[]> };
    const cli = runCli(['subscribers', 'export', '--email', 'rater@example.org', '--json'], app.dbEnv);
    expect(cli.code, cli.stderr).toBe(0);
    const fromCli = JSON.parse(cli.stdout) as typeof web;
    for (const data of [web, fromCli]) {
      const ratings = data.other.paper_feedback as Record<string, unknown>[];
      expect(ratings).toEqual(
        expect.arrayContaining([
          { paper: { id: papers[0]!.id, title: papers[0]!.title }, choice: 'more', created_at: '2026-11-03T08:00:00.000Z' },
          { paper: { id: papers[1]!.id, title: papers[1]!.title }, choice: 'less', created_at: '2026-11-02T08:00:00.000Z' },
        ]),
      );
      expect(ratings).toHaveLength(2);
      expect(JSON.stringify(data)).not.toContain('paper_pk');
    }
    // Stable: both ways and both times give the same document (but for when it was made).
    const { exportedAt: _a, ...a } = web;
    const { exportedAt: _b, ...b } = fromCli;
    expect(a).toEqual(b);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});
