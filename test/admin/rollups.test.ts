import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { searchSubscribers, sourceHealth, suppressionList, topicPopularity } from '../../src/admin/admin-queries.js';
import { loadOverview, recentRuns } from '../../src/admin/overview-queries.js';
import { tempDatabase } from '../helpers.js';

// The rollup tables the admin console and /metrics read are kept by triggers:
// SQLite's in migrations/0006, PostgreSQL's in migrations/postgres/0001. The same
// changes must leave the same numbers on both engines; this file runs on each
// and compares with one literal expectation.

type Db = Awaited<ReturnType<typeof tempDatabase>>;

async function subscriber(db: Db, email: string, status: string, topics: string[], createdAt: string): Promise<number> {
  const row = await db.get<{ id: number }>(
    'INSERT INTO subscribers (email, status, topics, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
    [email, status, JSON.stringify(topics), createdAt, createdAt],
  );
  return row!.id;
}

async function delivery(db: Db, subscriberId: number, period: string, status: string, runAt: string): Promise<number> {
  const row = await db.get<{ id: number }>(
    "INSERT INTO deliveries (subscriber_id, period_key, status, message_id, since, created_at) VALUES (?, ?, ?, 'm', 'x', ?) RETURNING id",
    [subscriberId, period, status, runAt],
  );
  return row!.id;
}

async function outbound(db: Db, recipient: string): Promise<number> {
  const row = await db.get<{ id: number }>(
    "INSERT INTO outbound_mail (kind, recipient, next_attempt_at, created_at) VALUES ('confirm', ?, '2026-11-13T00:00:00.000Z', '2026-11-13T00:00:00.000Z') RETURNING id",
    [recipient],
  );
  return row!.id;
}

describe('rollup triggers and the console queries over them', () => {
  let db: Db;
  beforeEach(async () => {
    db = await tempDatabase();
  });
  afterEach(() => db.cleanup());

  it('count subscribers, topics, consent, digests, SMTP replies, papers and sources the same on either engine', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const a = await subscriber(db, 'a@example.org', 'active', ['x', 'y'], '2026-11-01T09:00:00.000Z');
    const b = await subscriber(db, 'b@example.org', 'pending', ['x'], '2026-11-01T10:00:00.000Z');
    const c = await subscriber(db, 'c@example.org', 'active', ['y'], '2026-11-02T10:00:00.000Z');
    await db.run("UPDATE subscribers SET status = 'active', updated_at = '2026-11-03T10:00:00.000Z' WHERE id = ?", [b]);
    await db.run(`UPDATE subscribers SET topics = '["y","z"]', updated_at = '2026-11-04T10:00:00.000Z' WHERE id = ?`, [a]);
    await db.run("UPDATE subscribers SET status = 'paused', updated_at = '2026-11-05T10:00:00.000Z' WHERE id = ?", [c]);
    // Naming the columns without changing them moves nothing.
    await db.run("UPDATE subscribers SET status = status, topics = topics, updated_at = '2026-11-06T10:00:00.000Z' WHERE id = ?", [b]);
    for (const [id, event, method, at] of [
      [b, 'subscribe_requested', 'web', '2026-11-01T10:00:00.000Z'],
      [b, 'confirmed', 'web', '2026-11-03T10:00:00.000Z'],
      [c, 'subscribe_requested', 'api', '2026-11-02T10:00:00.000Z'],
    ] as const) {
      await db.run('INSERT INTO consent_events (subscriber_id, event, method, at) VALUES (?, ?, ?, ?)', [id, event, method, at]);
    }

    const run1 = '2026-11-10T08:00:00.000Z';
    const d1 = await delivery(db, b, 'p1', 'sending', run1);
    const d2 = await delivery(db, c, 'p1', 'sending', run1);
    await delivery(db, b, 'p2', 'skipped', run1);
    await db.run("UPDATE deliveries SET status = 'sent', finished_at = '2026-11-10T08:00:05.000Z' WHERE id = ?", [d1]);
    await db.run("UPDATE deliveries SET status = 'sent' WHERE id = ?", [d1]); // already sent: not counted again
    // SQLite's class test wants a non-digit after the code, so a code at the very end is 'none' (PostgreSQL must agree).
    await db.run("UPDATE deliveries SET status = 'failed', finished_at = '2026-11-11T00:00:01.000Z', error = 'relay said 550' WHERE id = ?", [d2]);
    const run2 = '2026-11-12T08:00:00.000Z';
    const d4 = await delivery(db, c, 'p3', 'sending', run2);
    await db.run("UPDATE deliveries SET status = 'failed', finished_at = '2026-11-12T08:00:01.000Z', error = '421 4.7.0 try again later' WHERE id = ?", [d4]);

    const [o1, o2, o3, o4] = [await outbound(db, 'o1@example.org'), await outbound(db, 'o2@example.org'), await outbound(db, 'o3@example.org'), await outbound(db, 'o4@example.org')];
    await db.run("UPDATE outbound_mail SET status = 'sent', sent_at = '2026-11-13T01:00:00.000Z' WHERE id = ?", [o1]);
    await db.run("UPDATE outbound_mail SET status = 'failed', last_error = '554 5.7.1 rejected', next_attempt_at = '2026-11-14T00:00:00.000Z' WHERE id = ?", [o2]);
    await db.run("UPDATE outbound_mail SET status = 'failed', last_error = 'no longer applies' WHERE id = ?", [o3]);
    await db.run("UPDATE outbound_mail SET status = 'sending' WHERE id = ?", [o4]);

    await db.run("INSERT INTO papers (id, title_key, title, source, first_seen_at, updated_at) VALUES ('2611.00001', 'k', 'K', 'hf', '2026-11-15T00:00:00.000Z', '2026-11-15T00:00:00.000Z')");
    await db.run("INSERT INTO source_status (source, last_run_at, ok, fetched) VALUES ('hf', '2026-11-16T00:00:00.000Z', 1, 3), ('arxiv:cs.LG', '2026-11-16T00:00:00.000Z', 0, 0)");
    await db.run("UPDATE source_status SET ok = 0, last_run_at = '2026-11-17T00:00:00.000Z' WHERE source = 'hf'");
    await db.run("UPDATE source_status SET ok = 1, last_run_at = '2026-11-18T00:00:00.000Z' WHERE source = 'hf'");
    await db.run('DELETE FROM subscribers WHERE id = ?', [a]);

    const statusDaily = await db.all('SELECT day, status, delta FROM status_daily WHERE delta <> 0 ORDER BY day, status');
    expect(statusDaily).toEqual([
      { day: '2026-11-01', status: 'active', delta: 1 },
      { day: '2026-11-01', status: 'pending', delta: 1 },
      { day: '2026-11-02', status: 'active', delta: 1 },
      { day: '2026-11-03', status: 'active', delta: 1 },
      { day: '2026-11-03', status: 'pending', delta: -1 },
      { day: '2026-11-05', status: 'active', delta: -1 },
      { day: '2026-11-05', status: 'paused', delta: 1 },
      { day: today, status: 'active', delta: -1 },
    ]);
    expect(await db.all('SELECT topic, n FROM topic_counts WHERE n <> 0 ORDER BY topic')).toEqual([{ topic: 'x', n: 1 }]);
    expect(await db.all('SELECT day, metric, n FROM daily_counts ORDER BY day, metric')).toEqual([
      { day: '2026-11-01', metric: 'consent:subscribe_requested:web', n: 1 },
      { day: '2026-11-02', metric: 'consent:subscribe_requested:api', n: 1 },
      { day: '2026-11-03', metric: 'consent:confirmed:web', n: 1 },
      { day: '2026-11-10', metric: 'digest:sent', n: 1 },
      { day: '2026-11-10', metric: 'digest:skipped', n: 1 },
      { day: '2026-11-10', metric: 'smtp:digest:2xx', n: 1 },
      { day: '2026-11-11', metric: 'digest:failed', n: 1 },
      { day: '2026-11-11', metric: 'smtp:digest:none', n: 1 },
      { day: '2026-11-12', metric: 'digest:failed', n: 1 },
      { day: '2026-11-12', metric: 'smtp:digest:4xx', n: 1 },
      { day: '2026-11-13', metric: 'smtp:outbound:2xx', n: 1 },
      { day: '2026-11-14', metric: 'smtp:outbound:5xx', n: 1 },
      { day: '2026-11-15', metric: 'papers:hf', n: 1 },
    ]);
    expect(await db.all('SELECT run_at, claimed, sent, skipped, failed, updated_at FROM digest_runs ORDER BY run_at')).toEqual([
      { run_at: run1, claimed: 2, sent: 1, skipped: 1, failed: 1, updated_at: '2026-11-11T00:00:01.000Z' },
      { run_at: run2, claimed: 1, sent: 0, skipped: 0, failed: 1, updated_at: '2026-11-12T08:00:01.000Z' },
    ]);
    expect(await db.all('SELECT source, at FROM source_last_ok ORDER BY source')).toEqual([{ source: 'hf', at: '2026-11-18T00:00:00.000Z' }]);

    // The console's queries over those tables.
    const overview = await loadOverview(db, new Date('2026-11-20T00:00:00.000Z'), 30);
    expect(overview.totals).toMatchObject({ active: 1, paused: 1, pending: 0 });
    expect(overview.days.find((d) => d.day === '2026-11-11')).toMatchObject({ failed: 1, sent: 0 });
    expect((await recentRuns(db, 1))[0]).toMatchObject({ runAt: run2, inFlight: 0 });
    expect((await topicPopularity(db)).find((t) => t.slug === 'x')).toBeUndefined(); // 'x' is not a catalogue topic
    expect(await sourceHealth(db)).toEqual([
      { source: 'arxiv:cs.LG', ok: 0, lastRunAt: '2026-11-16T00:00:00.000Z', fetched: 0, lastError: null, lastErrorAt: null, lastOkAt: null },
      { source: 'hf', ok: 1, lastRunAt: '2026-11-18T00:00:00.000Z', fetched: 3, lastError: null, lastErrorAt: null, lastOkAt: '2026-11-18T00:00:00.000Z' },
    ]);
  });

  it('count a subscriber whose topic list names a topic twice, and do not fail on it', async () => {
    // A hand-edited row may repeat a topic: SQLite's trigger counts each mention,
    // and PostgreSQL's single INSERT must neither fail nor count differently.
    await subscriber(db, 'twice@example.org', 'active', ['rl', 'rl'], '2026-11-01T09:00:00.000Z');
    expect(await db.get("SELECT n FROM topic_counts WHERE topic = 'rl'")).toEqual({ n: 2 });
  });

  it('count rows inserted many to a statement exactly as rows inserted one by one', async () => {
    // PostgreSQL counts inserts per statement (the ledger claims readers in chunks); SQLite per row.
    await db.run(
      `INSERT INTO subscribers (email, status, topics, created_at, updated_at) VALUES
         ('m1@example.org', 'active', '["a","b"]', '2026-11-01T01:00:00.000Z', '2026-11-01T01:00:00.000Z'),
         ('m2@example.org', 'active', '["a"]', '2026-11-01T02:00:00.000Z', '2026-11-01T02:00:00.000Z'),
         ('m3@example.org', 'pending', '["a"]', '2026-11-02T02:00:00.000Z', '2026-11-02T02:00:00.000Z')`,
    );
    const ids = (await db.all<{ id: number }>('SELECT id FROM subscribers ORDER BY id')).map((r) => r.id);
    const run = '2026-11-10T08:00:00.000Z';
    await db.run(
      `INSERT INTO deliveries (subscriber_id, period_key, status, message_id, since, created_at, finished_at) VALUES
         (?, 'p', 'sending', 'm', 'x', ?, NULL), (?, 'p', 'sending', 'm', 'x', ?, NULL), (?, 'p', 'skipped', '', 'x', ?, ?), (?, 'q', 'sent', 'm', 'x', ?, '2026-11-11T00:00:00.000Z')`,
      [ids[0], run, ids[1], run, ids[2], run, run, ids[0], run],
    );
    await db.run(
      `INSERT INTO papers (id, title_key, title, source, first_seen_at, updated_at) VALUES
         ('2611.00002', 'a', 'A', 'hf', '2026-11-15T00:00:00.000Z', '2026-11-15T00:00:00.000Z'),
         ('2611.00003', 'b', 'B', 'hf', '2026-11-15T01:00:00.000Z', '2026-11-15T01:00:00.000Z')`,
    );
    expect(await db.all('SELECT day, status, delta FROM status_daily ORDER BY day, status')).toEqual([
      { day: '2026-11-01', status: 'active', delta: 2 },
      { day: '2026-11-02', status: 'pending', delta: 1 },
    ]);
    expect(await db.all('SELECT topic, n FROM topic_counts ORDER BY topic')).toEqual([{ topic: 'a', n: 2 }, { topic: 'b', n: 1 }]);
    expect(await db.all('SELECT run_at, claimed, sent, skipped, failed, updated_at FROM digest_runs')).toEqual([
      { run_at: run, claimed: 2, sent: 0, skipped: 1, failed: 0, updated_at: run },
    ]);
    expect(await db.all('SELECT day, metric, n FROM daily_counts ORDER BY day, metric')).toEqual([
      { day: '2026-11-10', metric: 'digest:skipped', n: 1 },
      { day: '2026-11-11', metric: 'digest:sent', n: 1 },
      { day: '2026-11-15', metric: 'papers:hf', n: 2 },
    ]);
  });

  it("the console's subscriber search filters by address (any case, wildcards literal), status and topic on either engine", async () => {
    const ada = await subscriber(db, 'Ada.Lovelace@Example.org', 'active', ['agents', 'interpretability'], '2026-11-01T09:00:00.000Z');
    const bob = await subscriber(db, 'bob_100%@example.org', 'pending', ['agents'], '2026-11-02T09:00:00.000Z');
    await subscriber(db, 'bobby@example.org', 'bounced', ['interpretability'], '2026-11-03T09:00:00.000Z');
    const ids = async (q: Parameters<typeof searchSubscribers>[1]) => (await searchSubscribers(db, q)).rows.map((r) => r.id);
    expect(await ids({ q: 'ada.lovelace@EXAMPLE' })).toEqual([ada]);
    expect(await ids({ q: 'LOVELACE' })).toEqual([ada]);
    expect(await ids({ q: 'bob_100%' })).toEqual([bob]);
    expect(await ids({ q: 'b_b' })).toEqual([]);
    expect(await ids({ topic: 'agents' })).toEqual([bob, ada]);
    expect(await ids({ topic: 'agents', status: 'active' })).toEqual([ada]);
    const { rows } = await searchSubscribers(db, { topic: 'interpretability' });
    expect(rows[0]).toMatchObject({ email: 'bobby@example.org', status: 'bounced', topics: ['interpretability'], createdAt: '2026-11-03T09:00:00.000Z' });
    // A reader the relay refused is on the suppression list even without a provider suppression row.
    expect((await suppressionList(db)).map((r) => [r.email, r.reason, r.source])).toEqual([['bobby@example.org', 'hard_bounce', 'smtp']]);
  });
});
