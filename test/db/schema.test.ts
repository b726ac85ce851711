import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, openDatabase, type Database_ } from '../../src/db/client.js';
import { LEDGER_SQL } from '../../src/digests/delivery-ledger.js';
import { onPostgres, tempDatabase, tempDir } from '../helpers.js';

/** Every table and its columns, as the engine reports them (SQLite's FTS5 tables and PostgreSQL's tsvector left out: each engine's own search). */
async function columnsOf(db: Database_): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  if (db.dialect === 'postgres') {
    const rows = await db.all<{ t: string; c: string }>(
      "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name",
    );
    for (const { t, c } of rows) if (!(t === 'papers' && c === 'search')) (out[t] ??= []).push(c);
  } else {
    const names = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'papers_fts%'");
    for (const { name } of names) out[name] = (await db.all<{ name: string }>(`PRAGMA table_info(${name})`)).map((c) => c.name).sort();
  }
  return out;
}

describe('database', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  beforeAll(async () => {
    db = await tempDatabase();
  });
  afterAll(() => db.cleanup());

  // The PostgreSQL pass compares its schema with a SQLite file migrated beside it.
  it.runIf(onPostgres)('has the same tables and columns on PostgreSQL as on SQLite', async () => {
    const tmp = tempDir();
    const sqlite = await openDatabase(`${tmp.dir}/compare.db`);
    try {
      expect(await columnsOf(db)).toEqual(await columnsOf(sqlite));
    } finally {
      await sqlite.close();
      tmp.cleanup();
    }
  });

  it('migrates only once', async () => {
    expect(await applyMigrations(db)).toEqual([]);
  });

  // SQLite only: pragmas and SQLite's query plans (PostgreSQL plans small test tables with scans by design).
  describe.skipIf(onPostgres)('on SQLite', () => {
    it('runs with WAL, foreign keys and a busy timeout', () => {
      expect(db.sqlite!.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.sqlite!.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.sqlite!.pragma('busy_timeout', { simple: true })).toBe(5000);
    });

    it('answers every ledger statement through an index, never a scan of a ledger table', () => {
      // The ledger grows by one row per reader per day; a scan per reader makes a run quadratic.
      for (const [name, sql] of Object.entries(LEDGER_SQL)) {
        const positional = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
        const plan = db.sqlite!.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...positional) as { detail: string }[];
        for (const { detail } of plan) expect(detail, name).not.toMatch(/^SCAN (deliveries|sent_papers)\b/);
      }
      const lastSent = db.sqlite!.prepare(`EXPLAIN QUERY PLAN ${LEDGER_SQL.lastSent}`).all(1) as { detail: string }[];
      expect(lastSent.map((r) => r.detail).join('\n')).toContain('deliveries_last_sent');
    });
  });
});
