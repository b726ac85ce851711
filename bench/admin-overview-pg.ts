// The PostgreSQL side of bench/admin-overview.ts: a throwaway database on the
// given server, and the same history as the SQLite fill, written set by set
// (generate_series) so PostgreSQL's row triggers keep the rollups as in production.
import pg from 'pg';
import type { Sql } from '../src/db/sql.js';

const DAY = 86_400_000;
const CHUNK = 2000;
const TOPICS = ['interpretability', 'diffusion-models', 'agents', 'reinforcement-learning', 'efficient-inference'];

/** Creates an empty database next to the one `url` names; returns its URL and a function that drops it. */
export async function scratchDatabase(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `paperboy_admin_bench_${process.pid}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS ${name}`);
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Subscribers over 90 days, their consent events, and daily runs that claim then finish their rows: what fill() writes on SQLite. */
export async function fillPostgres(sql: Sql, subscribers: number, ledger: number, now: Date): Promise<void> {
  const start = now.getTime() - 90 * DAY;
  const iso = (ms: string) => `to_char(to_timestamp((${ms}) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  await sql.tx(async (t) => {
    // One statement: PostgreSQL counts an INSERT's rows once per statement.
    await t.run(
      `INSERT INTO subscribers (id, email, status, topics, created_at, updated_at)
       SELECT i, 'reader' || i || '@bench.example', 'pending', json_build_array(t[1 + i % 5], t[1 + (i * 7) % 5])::text, at, at
       FROM (SELECT i, ${iso(`${start} + floor(i::float8 / ${subscribers} * 89 * ${DAY})`)} AS at FROM generate_series(1, ${subscribers}) i) g,
            (SELECT ARRAY['${TOPICS.join("','")}'] AS t) topics ORDER BY i`,
    );
  });
  // Confirmations and their consent events change rows one by one (per-row
  // triggers), so they go in transactions of CHUNK readers, as readers confirm
  // one at a time in production, never 100,000 bumps of one rollup row in one.
  for (let lo = 1; lo <= subscribers; lo += CHUNK) {
    const range = [lo, lo + CHUNK - 1];
    await sql.tx(async (t) => {
      await t.run("INSERT INTO consent_events (subscriber_id, event, method, at) SELECT id, 'subscribe_requested', 'web', created_at FROM subscribers WHERE id BETWEEN ? AND ? ORDER BY id", range);
      await t.run(
        `UPDATE subscribers SET status = CASE WHEN id % 50 = 1 THEN 'unsubscribed' WHEN id % 97 = 0 THEN 'bounced' ELSE 'active' END,
           confirmed_at = created_at, updated_at = created_at WHERE id % 10 <> 0 AND id BETWEEN ? AND ?`,
        range,
      );
      await t.run("INSERT INTO consent_events (subscriber_id, event, method, at) SELECT id, 'confirmed', 'web', created_at FROM subscribers WHERE id % 10 <> 0 AND id BETWEEN ? AND ? ORDER BY id", range);
      await t.run(
        `INSERT INTO consent_events (subscriber_id, event, method, at)
         SELECT id, status, CASE status WHEN 'bounced' THEN 'smtp' ELSE 'one-click' END, created_at FROM subscribers
         WHERE status IN ('unsubscribed', 'bounced') AND id BETWEEN ? AND ? ORDER BY id`,
        range,
      );
    });
  }
  const perRun = Math.min(subscribers, 100_000);
  const runs = Math.ceil(ledger / perRun);
  let written = 0;
  for (let r = runs - 1; r >= 0 && written < ledger; r--) {
    const runAt = new Date(now.getTime() - r * DAY - 4 * 3600_000).toISOString();
    const n = Math.min(perRun, ledger - written);
    written += n;
    await sql.run(
      `INSERT INTO deliveries (subscriber_id, period_key, status, message_id, since, created_at, finished_at)
       SELECT i, ?, CASE WHEN i % 8 = 0 THEN 'skipped' ELSE 'sending' END, '', '', ?, CASE WHEN i % 8 = 0 THEN ? END
       FROM generate_series(1, ${n}) i ORDER BY i`,
      [runAt.slice(0, 10), runAt, runAt],
    );
    // Finished in chunks too (the ledger finishes each delivery in its own statement).
    for (let lo = 1; lo <= n; lo += CHUNK) {
      await sql.run(
        `UPDATE deliveries SET status = CASE WHEN subscriber_id % 40 = 0 THEN 'failed' ELSE 'sent' END, finished_at = ?,
           error = CASE WHEN subscriber_id % 40 = 0 THEN '451 4.3.0 try later' END
         WHERE subscriber_id BETWEEN ? AND ? AND period_key = ? AND created_at = ? AND status = 'sending'`,
        [new Date(Date.parse(runAt) + 900_000).toISOString(), lo, lo + CHUNK - 1, runAt.slice(0, 10), runAt],
      );
    }
  }
}
