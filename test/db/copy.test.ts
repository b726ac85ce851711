// Issue 12 item 4: `paperboy db copy --to postgres://…`. A SQLite database
// built through the real app is copied into a fresh PostgreSQL database, which
// the app then runs on. Needs a PostgreSQL server, so the copy itself runs in
// the suite's PostgreSQL pass (CI's `.ci/run`; locally PAPERBOY_TEST_PG_URL).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordBounce } from '../../src/bounces/suppression.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, openSqlite } from '../../src/db/client.js';
import { redactUrl, type CopyReport } from '../../src/db/copy.js';
import { appFor, createServices } from '../../src/main.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { databaseEnv, listen, onPostgres, runCli, silentLog, startSmtp, tempDir } from '../helpers.js';

const PUBLIC = 'https://paperboy.example';
type Smtp = Awaited<ReturnType<typeof startSmtp>>;

/** The real services and HTTP app on the given database; no SECRET, so the generated one lives in `settings` (and is copied). */
async function appOn(dbEnv: Record<string, string>, dir: string, smtp: Smtp) {
  const config = loadConfig({
    NODE_ENV: 'test',
    ...dbEnv,
    OUTBOX_DIR: join(dir, 'outbox'),
    SMTP_URL: smtp.url,
    PUBLIC_URL: PUBLIC,
    RATE_LIMITS: 'false',
    LOG_LEVEL: 'silent',
    WEBHOOK_URLS: 'https://hooks.example/paperboy',
    WEBHOOK_SECRET: 'webhook-secret-webhook-secret-0123456789',
  });
  const services = await createServices(config, silentLog);
  const http = await listen(appFor(services));
  const local = (url: string) => url.replace(PUBLIC, http.url);
  return {
    ...services,
    local,
    post: (url: string, body: Record<string, string> = {}) =>
      fetch(local(url), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() }),
    subscribe: (email: string) =>
      fetch(`${http.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, topics: ['diffusion-models', 'interpretability'] }) }),
    async stop() {
      await http.close();
      await services.outbound.run();
      await services.close();
    },
  };
}

const ROLLUPS = {
  daily_counts: 'SELECT day, metric, n FROM daily_counts ORDER BY day, metric',
  status_daily: 'SELECT day, status, delta FROM status_daily ORDER BY day, status',
  topic_counts: 'SELECT topic, n FROM topic_counts ORDER BY topic',
  digest_runs: 'SELECT run_at, claimed, sent, skipped, failed FROM digest_runs ORDER BY run_at',
};

describe('db copy: what is refused before any database is touched', () => {
  it('when --to is not a postgres:// URL, or DATABASE_PATH names no file, then it exits 2 and says why', () => {
    const tmp = tempDir();
    try {
      const notPg = runCli(['db', 'copy', '--to', join(tmp.dir, 'other.db')], { DATABASE_PATH: join(tmp.dir, 'x.db') });
      expect(notPg.code).toBe(2);
      expect(notPg.stderr).toContain('--to must be a postgres:// URL');
      const noSource = runCli(['db', 'copy', '--to', 'postgres://nobody@127.0.0.1:1/none'], { DATABASE_PATH: join(tmp.dir, 'missing.db') });
      expect(noSource.code).toBe(2);
      expect(noSource.stderr).toContain(`no SQLite database at ${join(tmp.dir, 'missing.db')}`);
      expect(runCli(['db', 'copy'], {}).code).toBe(2);
    } finally {
      tmp.cleanup();
    }
  });

  it('when it prints where it copied to, then the password is not in it', () => {
    expect(redactUrl('postgres://paperboy:s3cret-pw@db.internal:5432/paperboy')).toBe('postgres://paperboy:***@db.internal:5432/paperboy');
  });
});

describe.skipIf(!onPostgres)('db copy from SQLite to PostgreSQL (needs the PostgreSQL pass)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let source: string;
  let smtp: Smtp;
  let url: string;
  let report: CopyReport;
  let manageActive: string;
  let manageGone: string;
  let maxSubscriberId: number;
  const counts: Record<string, number> = {};
  const rollups: Record<string, unknown[]> = {};

  beforeAll(async () => {
    tmp = tempDir();
    source = join(tmp.dir, 'source.db');
    smtp = await startSmtp();
    const app = await appOn({ DATABASE_PATH: source }, tmp.dir, smtp);
    try {
      const now = new Date();
      await loadSampleIfEmpty(app.database, new Date(now.getTime() - 3600_000));
      for (const who of ['active', 'pending', 'gone', 'bounce']) expect((await app.subscribe(`${who}@example.org`)).status).toBe(202);
      const reader = async (who: string) => (await findByEmail(app.database, `${who}@example.org`))!;
      for (const who of ['active', 'gone', 'bounce']) expect((await app.post(app.links.confirmUrl(await reader(who), now))).status).toBeLessThan(400);
      manageActive = app.links.manageUrl(await reader('active'));
      manageGone = app.links.manageUrl(await reader('gone'));
      await app.post(app.links.unsubscribeUrl(await reader('gone')), { 'List-Unsubscribe': 'One-Click' });
      await recordBounce(app.database, { provider: 'ses', eventId: 'copy-1', kind: 'hard_bounce', email: 'bounce@example.org' }, { count: 3, windowDays: 7 }, now);
      const [paper] = await app.database.all<{ id: string }>('SELECT id FROM papers ORDER BY pk LIMIT 1');
      expect((await app.post(app.links.feedbackUrl(await reader('active'), paper!.id), { choice: 'more' })).status).toBe(200);
      const tomorrowNoon = new Date(`${new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10)}T12:00:00Z`);
      expect(await app.runDigests({ now: tomorrowNoon })).toMatchObject({ sent: 1, failed: 0 });
    } finally {
      await app.stop();
    }
    const sqlite = new Database(source, { readonly: true });
    try {
      for (const { name } of sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]) {
        counts[name] = (sqlite.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n;
      }
      for (const [table, query] of Object.entries(ROLLUPS)) rollups[table] = sqlite.prepare(query).all();
      maxSubscriberId = (sqlite.prepare('SELECT max(id) AS id FROM subscribers').get() as { id: number }).id;
    } finally {
      sqlite.close();
    }
    url = (await databaseEnv(tmp.dir, 'target')).DATABASE_URL!;
    const r = runCli(['db', 'copy', '--to', url, '--json'], { DATABASE_PATH: source });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout) as CopyReport;
  }, 120_000);
  afterAll(async () => {
    await smtp?.close();
    tmp?.cleanup();
  });

  it('copies every table of the schema, each count checked against the source', () => {
    const copied = Object.fromEntries(report.tables.map((t) => [t.table, t.copied]));
    const expected = ['admin_login_failures', 'admin_sessions', 'consent_events', 'daily_counts', 'deliveries', 'digest_runs', 'outbound_mail', 'paper_feedback', 'papers', 'provider_events', 'sent_papers', 'settings', 'silence_notes', 'source_last_ok', 'source_status', 'status_daily', 'subscribers', 'suppressions', 'topic_counts', 'webhook_endpoints', 'webhook_queue'];
    expect(Object.keys(copied).sort()).toEqual(expect.arrayContaining(expected));
    for (const t of report.tables) expect(t.copied, t.table).toBe(counts[t.table] ?? 0);
    // What the app built is really there: nothing here is an empty table copied as empty.
    for (const t of ['papers', 'subscribers', 'consent_events', 'deliveries', 'sent_papers', 'outbound_mail', 'paper_feedback', 'suppressions', 'provider_events', 'webhook_queue', 'settings', 'daily_counts', 'topic_counts']) {
      expect(copied[t], t).toBeGreaterThan(0);
    }
    expect(copied.subscribers).toBe(4);
    expect(report.rows).toBe(report.tables.reduce((n, t) => n + t.copied, 0));
  });

  it('leaves the rollups and the webhook queue as they were (the triggers did not count the copied rows again) and keeps ids', async () => {
    const pg = await openDatabase(url, { migrate: false, poolSize: 1 });
    try {
      for (const [table, query] of Object.entries(ROLLUPS)) expect(await pg.all(query), table).toEqual(rollups[table]);
      expect((await pg.get<{ n: number }>('SELECT count(*) AS n FROM webhook_queue'))!.n).toBe(counts.webhook_queue);
      expect((await pg.get<{ id: number }>("SELECT id FROM subscribers WHERE email = 'gone@example.org'"))!.id).toBeLessThanOrEqual(maxSubscriberId);
      // The triggers are back on for what happens next.
      const off = await pg.all("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'D'");
      expect(off).toEqual([]);
    } finally {
      await pg.close();
    }
  });

  it('when the target already holds rows, then a second copy is refused with exit 2 and changes nothing', async () => {
    const again = runCli(['db', 'copy', '--to', url], { DATABASE_PATH: source });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/target database is not empty \(rows in .*subscribers/);
    const pg = await openDatabase(url, { migrate: false, poolSize: 1 });
    try {
      expect((await pg.get<{ n: number }>('SELECT count(*) AS n FROM subscribers'))!.n).toBe(4);
      expect((await pg.get<{ n: number }>('SELECT count(*) AS n FROM consent_events'))!.n).toBe(counts.consent_events);
    } finally {
      await pg.close();
    }
  });

  it('then the app runs on the copy: the same stats, links mailed from SQLite still work, and new rows get fresh ids', async () => {
    const onSqlite = JSON.parse(runCli(['stats', '--json'], { DATABASE_PATH: source }).stdout) as Record<string, unknown>;
    const stats = runCli(['stats', '--json'], { DATABASE_URL: url });
    expect(stats.code).toBe(0);
    const onPg = JSON.parse(stats.stdout) as Record<string, unknown>;
    for (const k of ['papers', 'subscribers', 'digests']) expect(onPg[k], k).toEqual(onSqlite[k]);

    const app = await appOn({ DATABASE_URL: url }, tmp.dir, smtp);
    try {
      const page = await fetch(app.local(manageActive));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('value="diffusion-models" checked');
      // Revoked by the unsubscribe before the copy, still revoked after it.
      expect((await fetch(app.local(manageGone))).status).toBe(400);
      expect((await app.post(manageActive, { action: 'pause' })).status).toBe(200);
      expect((await findByEmail(app.database, 'active@example.org'))!.status).toBe('paused');
      expect((await app.subscribe('new@example.org')).status).toBe(202);
      expect((await findByEmail(app.database, 'new@example.org'))!.id).toBe(maxSubscriberId + 1);
    } finally {
      await app.stop();
    }
  });
});

describe.skipIf(!onPostgres)('db copy is all or nothing (needs the PostgreSQL pass)', () => {
  it('when a row fails half-way through, then nothing stays in the target, and the copy succeeds once the row is fixed', async () => {
    const tmp = tempDir();
    try {
      const source = join(tmp.dir, 'bad.db');
      const sqlite = openSqlite(source);
      const at = '2026-11-30T08:00:00.000Z';
      for (let i = 0; i < 1200; i++) {
        sqlite.prepare("INSERT INTO subscribers (email, status, created_at, updated_at) VALUES (?, 'pending', ?, ?)").run(`r${i}@example.org`, at, at);
      }
      // SQLite keeps text in an INTEGER column; PostgreSQL refuses it (papers come after subscribers).
      sqlite.prepare("INSERT INTO papers (id, title_key, title, source, first_seen_at, updated_at, upvotes) VALUES ('p1', 't', 'T', 'test', ?, ?, 'many')").run(at, at);
      sqlite.close();
      const { DATABASE_URL: url } = await databaseEnv(tmp.dir, 'target');
      const failed = runCli(['db', 'copy', '--to', url!, '--batch', '100'], { DATABASE_PATH: source });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/papers: rows 1-1: invalid input syntax for type integer: "many"; nothing was copied/);
      const pg = await openDatabase(url!, { migrate: false, poolSize: 1 });
      try {
        expect((await pg.get<{ n: number }>('SELECT count(*) AS n FROM subscribers'))!.n).toBe(0);
        const fix = openSqlite(source);
        fix.prepare("UPDATE papers SET upvotes = 7 WHERE id = 'p1'").run();
        fix.prepare('CREATE TABLE mystery (x INTEGER)').run();
        fix.close();
        const extra = runCli(['db', 'copy', '--to', url!], { DATABASE_PATH: source });
        expect(extra.code).toBe(1);
        expect(extra.stderr).toContain('SQLite has tables the PostgreSQL schema lacks (mystery)');
        const drop = openSqlite(source);
        drop.prepare('DROP TABLE mystery').run();
        drop.close();
        const ok = runCli(['db', 'copy', '--to', url!, '--batch', '100', '--json'], { DATABASE_PATH: source });
        expect(ok.code).toBe(0);
        expect((JSON.parse(ok.stdout) as CopyReport).tables.find((t) => t.table === 'subscribers')).toEqual({ table: 'subscribers', source: 1200, copied: 1200 });
        expect((await pg.get<{ n: number }>("SELECT upvotes AS n FROM papers WHERE id = 'p1'"))!.n).toBe(7);
      } finally {
        await pg.close();
      }
    } finally {
      tmp.cleanup();
    }
  }, 60_000);
});
