import { existsSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { isPostgresUrl, openDatabase, openSqlite, type Sqlite } from './client.js';
import type { Sql } from './sql.js';

// `paperboy db copy --to postgres://…` (issue 12): a SQLite database into an
// empty, migrated PostgreSQL one, in one PostgreSQL transaction. The target's
// catalogue decides what is copied (its tables, its non-generated columns, its
// foreign keys for the order), so a table added to both schemas later is
// copied without a change here.

/** Runtime state rather than data: not copied (a copied job lease would hold a tick back until it expired). */
const NOT_COPIED = new Set(['schema_migrations', 'rate_limits', 'job_leases']);
/** Rows per INSERT, kept under PostgreSQL's 65,535 parameters per statement. */
const DEFAULT_BATCH = 500;
const MAX_PARAMS = 60_000;

/** One table's outcome: rows read from SQLite and rows counted in PostgreSQL afterwards. */
export interface TableCopy {
  table: string;
  source: number;
  copied: number;
}

/** What `db copy` did. */
export interface CopyReport {
  from: string;
  /** The target URL without its password. */
  to: string;
  tables: TableCopy[];
  rows: number;
  ms: number;
}

/** The URL as it may be printed: no password. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

interface Target {
  table: string;
  columns: string[];
  identity: string | null;
}

/** The target's tables, parents before children (foreign keys), with their insertable columns. */
async function targetTables(sql: Sql): Promise<Target[]> {
  const cols = await sql.all<{ table: string; column: string; identity: string }>(
    `SELECT c.table_name AS "table", c.column_name AS "column", c.is_identity AS "identity"
       FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.is_generated = 'NEVER'
      ORDER BY c.table_name, c.ordinal_position`,
  );
  const byTable = new Map<string, Target>();
  for (const c of cols) {
    if (NOT_COPIED.has(c.table)) continue;
    const t = byTable.get(c.table) ?? { table: c.table, columns: [], identity: null };
    t.columns.push(c.column);
    if (c.identity === 'YES') t.identity = c.column;
    byTable.set(c.table, t);
  }
  const edges = await sql.all<{ child: string; parent: string }>(
    `SELECT ch.relname AS child, pa.relname AS parent FROM pg_constraint k
       JOIN pg_class ch ON ch.oid = k.conrelid JOIN pg_class pa ON pa.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = ch.relnamespace
      WHERE k.contype = 'f' AND n.nspname = current_schema()`,
  );
  const ordered: Target[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || !byTable.has(name)) return;
    seen.add(name);
    for (const e of edges) if (e.child === name && e.parent !== name) visit(e.parent);
    ordered.push(byTable.get(name)!);
  };
  for (const name of [...byTable.keys()].sort()) visit(name);
  return ordered;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Columns of a SQLite table (empty when the table is not there). */
function sqliteColumns(sqlite: Sqlite, table: string): Set<string> {
  return new Set((sqlite.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((r) => r.name));
}

/**
 * Copies the SQLite database at `sqlitePath` into the (migrated, empty)
 * PostgreSQL database at `url`: every table, ids kept, identity sequences moved
 * past them, row counts checked; one transaction, so a failure leaves the target
 * as it was. Refuses (ConfigError, exit 2) when the target already holds rows.
 */
export async function copyToPostgres(sqlitePath: string, url: string, options: { batch?: number } = {}): Promise<CopyReport> {
  const started = Date.now();
  if (!isPostgresUrl(url)) throw new ConfigError(`--to must be a postgres:// URL (got ${JSON.stringify(url.slice(0, 40))})`);
  if (sqlitePath === ':memory:' || !existsSync(sqlitePath)) throw new ConfigError(`DATABASE_PATH: no SQLite database at ${sqlitePath}`);
  // Migrated like any command would (a copy needs the schema the target has).
  const sqlite = openSqlite(sqlitePath);
  const broken = sqlite.pragma('foreign_key_check') as unknown[];
  if (broken.length) {
    sqlite.close();
    throw new Error(`${sqlitePath}: ${broken.length} rows with a broken foreign key (PRAGMA foreign_key_check); nothing copied`);
  }
  let target;
  try {
    target = await openDatabase(url, { poolSize: 1 });
  } catch (err) {
    sqlite.close();
    throw err;
  }
  try {
    const tables = await targetTables(target);
    // One read transaction: a snapshot of the source even if it is being written.
    sqlite.exec('BEGIN');
    try {
      const copies = await target.tx((t) => copyTables(t, sqlite, tables, options.batch ?? DEFAULT_BATCH));
      return { from: sqlitePath, to: redactUrl(url), tables: copies, rows: copies.reduce((n, c) => n + c.copied, 0), ms: Date.now() - started };
    } finally {
      sqlite.exec('COMMIT');
    }
  } finally {
    await target.close();
    sqlite.close();
  }
}

async function copyTables(t: Sql, sqlite: Sqlite, tables: Target[], batch: number): Promise<TableCopy[]> {
  const names = tables.map((x) => quote(x.table)).join(', ');
  // Nobody else writes these tables until the copy commits; a second copy
  // waits here and then finds rows.
  await t.exec(`LOCK TABLE ${names} IN EXCLUSIVE MODE`);
  const full: string[] = [];
  for (const { table } of tables) if (await t.get(`SELECT 1 AS x FROM ${quote(table)} LIMIT 1`)) full.push(table);
  if (full.length) throw new ConfigError(`the target database is not empty (rows in ${full.join(', ')}); db copy only fills an empty, migrated database`);

  // The rollups and the webhook queue are copied as they are, so the triggers
  // that keep them must not fire for the copied rows. DISABLE TRIGGER USER
  // (table owner, in this transaction, re-enabled before commit) keeps the
  // foreign-key checks, unlike session_replication_role = replica.
  const triggered = (
    await t.all<{ table: string }>(
      `SELECT DISTINCT c.relname AS "table" FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT g.tgisinternal AND n.nspname = current_schema()`,
    )
  ).map((r) => r.table);
  for (const table of triggered) await t.exec(`ALTER TABLE ${quote(table)} DISABLE TRIGGER USER`);

  // A SQLite table the target lacks would be left behind without a word.
  const known = new Set([...tables.map((x) => x.table), ...NOT_COPIED]);
  const extra = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
    .map((r) => r.name)
    .filter((n) => !known.has(n) && !n.startsWith('sqlite_') && !n.startsWith('papers_fts'));
  if (extra.length) throw new Error(`SQLite has tables the PostgreSQL schema lacks (${extra.join(', ')}); migrate both to the same version`);

  const copies: TableCopy[] = [];
  for (const target of tables) {
    const present = sqliteColumns(sqlite, target.table);
    if (!present.size) {
      copies.push({ table: target.table, source: 0, copied: 0 });
      continue;
    }
    const columns = target.columns.filter((c) => present.has(c));
    const missing = [...present].filter((c) => !target.columns.includes(c));
    if (missing.length) throw new Error(`${target.table}: SQLite has columns the PostgreSQL schema lacks (${missing.join(', ')}); migrate both to the same version`);
    const source = (sqlite.prepare(`SELECT count(*) AS n FROM ${quote(target.table)}`).get() as { n: number }).n;
    const per = Math.max(1, Math.min(batch, Math.floor(MAX_PARAMS / columns.length)));
    const head = `INSERT INTO ${quote(target.table)} (${columns.map(quote).join(', ')}) OVERRIDING SYSTEM VALUE VALUES `;
    const row = `(${columns.map(() => '?').join(', ')})`;
    let rows: unknown[][] = [];
    let done = 0;
    const flush = async () => {
      if (!rows.length) return;
      try {
        await t.run(head + rows.map(() => row).join(', '), rows.flat());
      } catch (err) {
        throw new Error(`${target.table}: rows ${done + 1}-${done + rows.length}: ${(err as Error).message}; nothing was copied`, { cause: err });
      }
      done += rows.length;
      rows = [];
    };
    const read = sqlite.prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(target.table)}`).raw(true);
    for (const r of read.iterate() as IterableIterator<unknown[]>) {
      rows.push(r);
      if (rows.length >= per) await flush();
    }
    await flush();
    const copied = (await t.get<{ n: number }>(`SELECT count(*) AS n FROM ${quote(target.table)}`))!.n;
    if (copied !== source) throw new Error(`${target.table}: ${source} rows in SQLite but ${copied} in PostgreSQL after the copy; rolled back`);
    if (target.identity) {
      const id = quote(target.identity);
      await t.get(`SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max(${id}), 0) + 1, false) AS v FROM ${quote(target.table)}`, [target.table, target.identity]);
    }
    copies.push({ table: target.table, source, copied });
  }
  for (const table of triggered) await t.exec(`ALTER TABLE ${quote(table)} ENABLE TRIGGER USER`);
  return copies;
}
