import { getTableConfig } from 'drizzle-orm/sqlite-core';
import { afterAll, describe, expect, it } from 'vitest';
import { tables } from '../../src/db/schema.js';
import { migrate } from '../../src/db/client.js';
import { LEDGER_SQL } from '../../src/digests/delivery-ledger.js';
import { tempDatabase } from '../helpers.js';

describe('database', () => {
  const db = tempDatabase();
  afterAll(() => db.cleanup());

  it('has every column of src/db/schema.ts after the migrations', () => {
    for (const table of Object.values(tables)) {
      const { name, columns } = getTableConfig(table);
      const actual = (db.sqlite.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name);
      expect(actual.sort(), name).toEqual(columns.map((c) => c.name).sort());
    }
  });

  it('runs with WAL, foreign keys and a busy timeout, and migrates only once', () => {
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(migrate(db.sqlite)).toEqual([]);
  });

  it('answers every ledger statement through an index, never a scan of a ledger table', () => {
    // The ledger grows by one row per reader per day; a scan per reader makes a run quadratic.
    for (const [name, sql] of Object.entries(LEDGER_SQL)) {
      const named = Object.fromEntries([...sql.matchAll(/@(\w+)/g)].map((m) => [m[1], 1]));
      const positional = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
      const plan = db.sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(Object.keys(named).length ? [named] : positional)) as { detail: string }[];
      for (const { detail } of plan) expect(detail, name).not.toMatch(/^SCAN (deliveries|sent_papers)\b/);
    }
    const lastSent = db.sqlite.prepare(`EXPLAIN QUERY PLAN ${LEDGER_SQL.lastSent}`).all(1) as { detail: string }[];
    expect(lastSent.map((r) => r.detail).join('\n')).toContain('deliveries_last_sent');
  });
});
