import { getTableConfig } from 'drizzle-orm/sqlite-core';
import { afterAll, describe, expect, it } from 'vitest';
import { tables } from '../../src/db/schema.js';
import { migrate } from '../../src/db/client.js';
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
});
