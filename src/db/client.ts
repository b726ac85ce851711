import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { errorCode, OperatorError } from '../errors.js';
import { createPool, postgresSql, sqliteSql, type Sql } from './sql.js';

export type Sqlite = Database.Database;

/**
 * The database the services use: the shared SQL interface, plus the raw
 * better-sqlite3 handle on SQLite (backups, pragmas; null on PostgreSQL).
 */
export interface Database_ extends Sql {
  readonly sqlite: Sqlite | null;
  readonly pool: pg.Pool | null;
  close(): Promise<void>;
}

/** True for a postgres:// (or postgresql://) URL rather than a SQLite path. */
export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/**
 * Opens the database at `location`: a SQLite file path (created if needed, with
 * the pragmas Paperboy relies on) or a postgres:// URL; applies pending
 * migrations unless told not to.
 */
export async function openDatabase(
  location: string,
  options: { migrate?: boolean; busyTimeoutMs?: number; poolSize?: number } = {},
): Promise<Database_> {
  if (isPostgresUrl(location)) {
    const pool = createPool(location, options.poolSize);
    try {
      // Reached now, so a wrong URL fails here in one line, not in the first query.
      if (options.migrate !== false) await migratePostgres(pool);
      else await pool.query('SELECT 1');
    } catch (err) {
      await pool.end();
      throw unreachable(location, err) ?? err;
    }
    return { ...postgresSql(pool), sqlite: null, pool, close: () => pool.end() };
  }
  const sqlite = openSqlite(location, options);
  return { ...sqliteSql(sqlite), sqlite, pool: null, close: async () => void sqlite.close() };
}

// Network failures, and PostgreSQL's refusals before any statement runs
// (wrong password, unknown role or database, too many connections).
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', '28P01', '28000', '3D000', '53300']);

/** A failure to reach the PostgreSQL at `url`, said in one line without the password; undefined for any other error. */
function unreachable(url: string, err: unknown): OperatorError | undefined {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : '';
  // node-postgres's own refusal when the URL asks for TLS the server lacks (sslmode=require).
  const ssl = /does not support SSL/i.test(message);
  if (!ssl && (code === undefined || !CONNECT_CODES.has(code))) return undefined;
  let where = 'the database in DATABASE_URL';
  try {
    const u = new URL(url);
    if (u.hostname) where = `the database at ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    // A form node-postgres reads but URL does not (a socket: postgres://user@/db?host=/run/postgresql).
  }
  // A SQLSTATE (28P01, 3D000…) says less than PostgreSQL's own message; a network code says enough.
  const why = code && !ssl && !/^\d/.test(code) ? code : message;
  return new OperatorError(`cannot reach ${where} (${why}); check DATABASE_URL; nothing was changed`);
}

/** Applies the pending migrations of the database's engine; returns the names applied. */
export async function applyMigrations(database: Database_): Promise<string[]> {
  return database.sqlite ? migrate(database.sqlite) : migratePostgres(database.pool!);
}

/** Opens (creating if needed) the SQLite file with the pragmas Paperboy relies on. */
export function openSqlite(path: string, options: { migrate?: boolean; busyTimeoutMs?: number } = {}): Sqlite {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  if (options.migrate !== false) migrate(sqlite);
  return sqlite;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const PG_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/postgres/', import.meta.url));

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

/**
 * Applies pending PostgreSQL migrations (migrations/postgres), each in its own
 * transaction, under an advisory lock so nodes starting together apply each once.
 */
export async function migratePostgres(pool: pg.Pool, dir = PG_MIGRATIONS_DIR): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock(hashtext('paperboy:migrate'))");
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const m of listMigrations(dir)) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext('paperboy:migrate'))").catch(() => undefined);
    client.release();
  }
  return applied;
}
