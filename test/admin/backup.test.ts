import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/db/client.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { databaseEnv, onPostgres, ROOT, runCli, startPaperboy, startSmtp, tempDir } from '../helpers.js';

const DAY1 = new Date('2026-11-24T10:00:00Z');

/** The real CLI in a child process, without blocking this process (the digest run's SMTP side lives here). */
function cliAsync(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/paperboy.js'), ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// SQLite only: backup and restore copy the SQLite file with SQLite's backup API (PostgreSQL: pg_dump/pg_restore, below).
describe.skipIf(onPostgres)('paperboy backup and restore', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  let tmp: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    tmp = tempDir();
    // A slow relay keeps the run going while the backup is taken.
    smtp = await startSmtp({ delayMs: 15 });
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    const insert = app.database.sqlite!.prepare(
      `INSERT INTO subscribers (email, status, topics, hour, timezone, created_at, updated_at, confirmed_at)
       VALUES (?, 'active', '["diffusion-models","interpretability","optimizers"]', 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
    );
    for (let i = 0; i < 150; i++) insert.run(`reader${i}@example.org`);
  });
  afterEach(async () => {
    await app.stop();
    await smtp.close();
    tmp.cleanup();
  });

  it('when taken during a digest run, then the copy is consistent (ledger, papers reserved, rollups agree) and restores into a working app', async () => {
    const env = { DATABASE_PATH: join(app.dir, 'paperboy.db') };
    const file = join(tmp.dir, 'backup.db');
    const run = app.runDigests({ now: DAY1, concurrency: 2 });
    await smtp.waitFor(10, 30_000);
    const backup = await cliAsync(['backup', file, '--json'], env);
    const sentWhenBackedUp = smtp.received.length;
    const summary = await run;
    expect(backup.code, backup.stderr).toBe(0);
    expect(summary.sent).toBe(150);
    // The backup really was taken mid-run.
    expect(sentWhenBackedUp).toBeLessThan(150);
    expect(JSON.parse(backup.stdout)).toMatchObject({ subscribers: 150 });

    const copy = new Database(file, { readonly: true });
    const one = <T>(sql: string) => copy.prepare(sql).get() as T;
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    const byStatus = Object.fromEntries((copy.prepare('SELECT status, count(*) AS n FROM deliveries GROUP BY status').all() as { status: string; n: number }[]).map((r) => [r.status, r.n]));
    expect(byStatus.sent ?? 0).toBeGreaterThan(0);
    expect((byStatus.sent ?? 0) + (byStatus.sending ?? 0)).toBeLessThanOrEqual(150);
    // Every claimed row has its papers reserved in the same snapshot, and the rollups match the ledger they count.
    expect(one<{ n: number }>("SELECT count(*) AS n FROM deliveries d WHERE d.status IN ('sending','sent') AND json_array_length(d.items) <> (SELECT count(*) FROM sent_papers s WHERE s.delivery_id = d.id)").n).toBe(0);
    const run0 = one<{ claimed: number; sent: number }>('SELECT claimed, sent FROM digest_runs');
    expect(run0.sent).toBe(byStatus.sent);
    expect(run0.claimed).toBe((byStatus.sent ?? 0) + (byStatus.sending ?? 0) + (byStatus.failed ?? 0));
    copy.close();

    // Restore into a fresh location, then serve it.
    const target = join(tmp.dir, 'restored', 'paperboy.db');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(tmp.dir, 'restored'));
    const restore = runCli(['restore', file, '--json'], { DATABASE_PATH: target });
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ subscribers: 150, previous: null });
    const stats = runCli(['stats', '--json'], { DATABASE_PATH: target });
    expect(JSON.parse(stats.stdout).digests.sent).toBe(byStatus.sent);
    // The next run on the restored database resumes what was in flight: nobody gets a second digest for the day.
    const restored = new Database(target);
    expect((restored.prepare("SELECT count(*) AS n FROM deliveries WHERE status = 'sending'").get() as { n: number }).n).toBe(byStatus.sending ?? 0);
    restored.close();
  }, 90_000);

  it('when the file is not a Paperboy database or is damaged, then restore refuses it with exit 2 and leaves the database alone', async () => {
    const env = { DATABASE_PATH: join(app.dir, 'paperboy.db') };
    const junk = join(tmp.dir, 'junk.db');
    writeFileSync(junk, 'hello, not sqlite');
    const r1 = runCli(['restore', junk], env);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('not a SQLite database');
    const other = join(tmp.dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const r2 = runCli(['restore', other], env);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('not a Paperboy database');
    const newer = join(tmp.dir, 'newer.db');
    expect(runCli(['backup', newer], env).code).toBe(0);
    const n = new Database(newer);
    n.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', '2030-01-01')").run();
    n.close();
    const r3 = runCli(['restore', newer], env);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('newer Paperboy');
    expect((await app.database.get<{ n: number }>('SELECT count(*) AS n FROM subscribers'))!.n).toBe(150);
  });

  it('when the database is being written, then restore refuses rather than pull it from under the server', async () => {
    const env = { DATABASE_PATH: join(app.dir, 'paperboy.db') };
    const file = join(tmp.dir, 'b.db');
    expect(runCli(['backup', file], env).code).toBe(0);
    app.database.sqlite!.exec('BEGIN IMMEDIATE');
    try {
      const r = await cliAsync(['restore', file], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('stop `paperboy serve`');
    } finally {
      app.database.sqlite!.exec('ROLLBACK');
    }
  });
});

// SQLite only, like the block above. No server here: with every connection closed the live files must not change by a byte.
describe.skipIf(onPostgres)('paperboy backup and restore given a bad FILE', () => {
  let tmp: ReturnType<typeof tempDir>;
  let live: string;
  let env: Record<string, string>;

  beforeEach(() => {
    tmp = tempDir();
    live = join(tmp.dir, 'db.sqlite');
    const db = openSqlite(live);
    const insert = db.prepare(
      `INSERT INTO subscribers (email, status, topics, hour, timezone, created_at, updated_at, confirmed_at)
       VALUES (?, 'active', '["optimizers"]', 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
    );
    for (let i = 0; i < 3; i++) insert.run(`reader${i}@example.org`);
    db.close();
    env = { DATABASE_PATH: live };
  });
  afterEach(() => tmp.cleanup());

  /** Every file in the folder with its SHA-256: the same before and after means nothing was written, replaced or removed. */
  const snapshot = () =>
    Object.fromEntries(
      readdirSync(tmp.dir, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => [e.name, createHash('sha256').update(readFileSync(join(tmp.dir, e.name))).digest('hex')]),
    );
  const subscribers = () => {
    const db = new Database(live, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM subscribers').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  /** Exit 2 with one line naming the file and the reason, no stack. */
  function expectRefused(r: { code: number | null; stderr: string }, file: string, reason: string) {
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('\n    at ');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`paperboy: ${file}: ${reason}`);
  }

  it('when the folder of the backup file does not exist, then backup says so in one line, exit 2, and leaves no .partial behind', () => {
    const before = snapshot();
    const file = join(tmp.dir, 'missing', 'dir', 'b.sqlite');
    expectRefused(runCli(['backup', file], env), file, `the folder ${join(tmp.dir, 'missing', 'dir')} does not exist`);
    expect(existsSync(join(tmp.dir, 'missing'))).toBe(false);
    // FILE naming a folder: the old code renamed onto it, failed with a stack and left <folder>.partial.
    const folder = join(tmp.dir, 'sub');
    mkdirSync(folder);
    expectRefused(runCli(['backup', folder], env), folder, 'is a folder');
    expect(existsSync(`${folder}.partial`)).toBe(false);
    expect(snapshot()).toEqual(before);
    expect(subscribers()).toBe(3);
  });

  it('when the backup file is the live database under any spelling, or its -wal, -shm or unsubscribe queue, then backup refuses with exit 2 and changes nothing', () => {
    symlinkSync(live, join(tmp.dir, 'link.sqlite'));
    linkSync(live, join(tmp.dir, 'hard.sqlite'));
    const before = snapshot();
    const fromRoot = relative(ROOT, live);
    // Relative ones are read from the CLI's working directory, ROOT; join() would tidy away the `..`.
    const spellings = [live, fromRoot, `./${fromRoot}`, `${tmp.dir}/../${basename(tmp.dir)}/./db.sqlite`, join(tmp.dir, 'link.sqlite'), join(tmp.dir, 'hard.sqlite')];
    const parts = [
      ['-wal', "the live database's -wal file"],
      ['-shm', "the live database's -shm file"],
      ['.unsubscribe-queue', "the live database's unsubscribe queue"],
    ];
    const cases = [...spellings.map((file) => [file, 'the live database']), ...parts.map(([suffix, what]) => [live + suffix, what])];
    for (const [file, what] of cases) expectRefused(runCli(['backup', file!], env), file!, `is ${what}; choose another file`);
    expect(snapshot()).toEqual(before);
    expect(subscribers()).toBe(3);
  }, 90_000);

  it('when the backup would put its .partial copy on the live database, then backup refuses rather than delete it', () => {
    const livePartial = join(tmp.dir, 'db.sqlite.partial');
    const db = openSqlite(livePartial);
    db.close();
    const before = snapshot();
    expectRefused(runCli(['backup', live], { DATABASE_PATH: livePartial }), live, `backing up here would write over the live database (${livePartial})`);
    expect(snapshot()).toEqual(before);
  });

  it('when the backup is truncated or not a database inside, then restore says it is not a valid, complete backup, exit 2, and leaves the live database alone', () => {
    const backup = join(tmp.dir, 'b.sqlite');
    expect(runCli(['backup', backup], env).code).toBe(0);
    const truncated = join(tmp.dir, 't.sqlite');
    writeFileSync(truncated, readFileSync(backup).subarray(0, 20000));
    // A SQLite header over pages that are not a database.
    const notADatabase = join(tmp.dir, 'nad.sqlite');
    writeFileSync(notADatabase, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4080, 7)]));
    const before = snapshot();
    expectRefused(runCli(['restore', truncated], env), truncated, 'not a valid, complete backup (corrupt or truncated: database disk image is malformed)');
    expectRefused(runCli(['restore', notADatabase], env), notADatabase, 'not a valid, complete backup (corrupt or truncated: file is not a database)');
    expectRefused(runCli(['restore', tmp.dir], env), tmp.dir, 'is a folder, not a backup file');
    expect(snapshot()).toEqual(before);
    expect(subscribers()).toBe(3);
    }, 60_000);
});

describe('paperboy backup and restore with DATABASE_URL', () => {
  it('refuse with exit 2, naming pg_dump and pg_restore, and write nothing', async () => {
    const tmp = tempDir();
    try {
      // On SQLite's pass an unreachable URL shows the refusal comes before any connection.
      const env = onPostgres ? await databaseEnv(tmp.dir) : { DATABASE_URL: 'postgres://paperboy@127.0.0.1:9/nowhere' };
      const backup = runCli(['backup', join(tmp.dir, 'b.db')], env);
      expect(backup.code, backup.stderr).toBe(2);
      expect(backup.stderr).toContain('backup works on SQLite only');
      expect(backup.stderr).toContain('pg_dump');
      expect(backup.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(tmp.dir, 'b.db'))).toBe(false);
      writeFileSync(join(tmp.dir, 'r.db'), 'whatever');
      const restore = runCli(['restore', join(tmp.dir, 'r.db')], env);
      expect(restore.code, restore.stderr).toBe(2);
      expect(restore.stderr).toContain('restore works on SQLite only');
      expect(restore.stderr).toContain('pg_restore');
      expect(restore.stderr + backup.stderr).not.toContain('127.0.0.1');
    } finally {
      tmp.cleanup();
    }
  });
});
