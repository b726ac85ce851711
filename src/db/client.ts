import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import * as schema from './schema.js';

export type Sqlite = Database.Database;
export type Db = BetterSQLite3Database<typeof schema>;
export interface Database_ {
  sqlite: Sqlite;
  db: Db;
}

const statements = new WeakMap<Database_, Map<string, unknown>>();

/**
 * A query built and prepared once per database. A plain drizzle query is
 * rebuilt and re-prepared on every call, which is most of the cost of the hot
 * paths (a signup, a token lookup); use this for those.
 */
export function preparedOnce<T>(database: Database_, key: string, build: (db: Db) => T): T {
  let cache = statements.get(database);
  if (!cache) statements.set(database, (cache = new Map()));
  let query = cache.get(key) as T | undefined;
  if (query === undefined) cache.set(key, (query = build(database.db)));
  return query;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Opens (creating if needed) the SQLite file with the pragmas Paperboy relies on. */
export function openDatabase(path: string, options: { migrate?: boolean; busyTimeoutMs?: number } = {}): Database_ {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  if (options.migrate !== false) migrate(sqlite);
  return { sqlite, db: drizzle(sqlite, { schema }) };
}

/** The numbered .sql files in migrations/, in order. */
export function listMigrations(dir = MIGRATIONS_DIR): { version: number; name: string; sql: string }[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((name) => ({ version: Number(name.slice(0, 4)), name, sql: readFileSync(`${dir}/${name}`, 'utf8') }));
}

const FK_OFF = '-- migrate: foreign_keys=off';

/** Applies pending migrations, each in its own transaction; returns the names applied. */
export function migrate(sqlite: Sqlite, dir = MIGRATIONS_DIR): string[] {
  sqlite.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const applied: string[] = [];
  // IMMEDIATE: two processes starting together must not both apply a migration.
  const apply = sqlite.transaction((m: { version: number; name: string; sql: string }) => {
    const done = sqlite.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version);
    if (done) return;
    sqlite.exec(m.sql);
    const broken = m.sql.startsWith(FK_OFF) ? (sqlite.pragma('foreign_key_check') as unknown[]) : [];
    if (broken.length) throw new Error(`migration ${m.name} left ${broken.length} rows with a broken foreign key`);
    sqlite
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(m.version, m.name, new Date().toISOString());
    applied.push(m.name);
  });
  for (const m of listMigrations(dir)) {
    // A migration that rebuilds a referenced table (SQLite's documented table
    // rebuild) needs foreign keys off, else DROP TABLE cascades into its children;
    // the pragma is ignored inside a transaction, so it is set around it here.
    const fkOff = m.sql.startsWith(FK_OFF) && sqlite.pragma('foreign_keys', { simple: true }) === 1;
    if (fkOff) sqlite.pragma('foreign_keys = OFF');
    try {
      apply.immediate(m);
    } finally {
      if (fkOff) sqlite.pragma('foreign_keys = ON');
    }
  }
  return applied;
}
