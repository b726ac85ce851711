import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import pg from 'pg';

// One small asynchronous way to speak SQL to either engine. Stores write their
// statements once, in the SQL both engines share (`?` placeholders, camelCase
// aliases after AS, RETURNING, ON CONFLICT); the few places where the engines
// differ branch on `dialect` inside the store, never in a service.

export type Dialect = 'sqlite' | 'postgres';
export type Params = readonly unknown[];

/** A connection (or a transaction on one) to SQLite or PostgreSQL. */
export interface Sql {
  readonly dialect: Dialect;
  /** Every row of a query. */
  all<T = Record<string, unknown>>(text: string, params?: Params): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T = Record<string, unknown>>(text: string, params?: Params): Promise<T | undefined>;
  /** A statement without rows; resolves to how many rows it changed. */
  run(text: string, params?: Params): Promise<{ changes: number }>;
  /** Several statements without parameters (migrations, DDL). */
  exec(script: string): Promise<void>;
  /**
   * Runs `fn` in one transaction (BEGIN IMMEDIATE on SQLite, so writers queue
   * at the start rather than fail at the end); a call inside a transaction
   * joins it. Everything `fn` does must go through the `Sql` it is given.
   */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
}

// ---------------------------------------------------------------- SQLite

const MAX_CACHED = 1000;

/**
 * better-sqlite3 underneath: statements run synchronously, results come back
 * as promises. While a transaction is open, statements from outside it wait
 * for it to end, so concurrent requests never write into each other's
 * transaction on the shared connection.
 */
export function sqliteSql(db: Database.Database): Sql {
  const cache = new Map<string, Statement>();
  let open: Promise<void> | null = null;

  const prepare = (text: string): Statement => {
    let stmt = cache.get(text);
    if (!stmt) {
      if (cache.size >= MAX_CACHED) cache.clear(); // statements built from lists of varying length
      cache.set(text, (stmt = db.prepare(text)));
    }
    return stmt;
  };

  const direct: Sql = {
    dialect: 'sqlite',
    all: async <T>(text: string, params: Params = []) => prepare(text).all(...params) as T[],
    get: async <T>(text: string, params: Params = []) => prepare(text).get(...params) as T | undefined,
    run: async (text, params = []) => ({ changes: prepare(text).run(...params).changes }),
    exec: async (script) => void db.exec(script),
    tx: (fn) => fn(direct),
  };

  return {
    dialect: 'sqlite',
    // The wait is re-checked right before each statement runs: another
    // transaction may have begun between the wake-up and this turn.
    async all(text, params) {
      while (open) await open;
      return direct.all(text, params);
    },
    async get(text, params) {
      while (open) await open;
      return direct.get(text, params);
    },
    async run(text, params) {
      while (open) await open;
      return direct.run(text, params);
    },
    async exec(script) {
      while (open) await open;
      return direct.exec(script);
    },
    async tx(fn) {
      while (open) await open;
      let release!: () => void;
      open = new Promise<void>((r) => (release = r));
      try {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(direct);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      } finally {
        open = null;
        release();
      }
    },
  };
}

// ---------------------------------------------------------------- PostgreSQL

const pgText = new Map<string, string>();

/**
 * Rewrites the shared SQL for PostgreSQL: `?` becomes `$1, $2, …` (outside
 * quotes and comments) and camelCase aliases are quoted, since PostgreSQL
 * folds unquoted names to lower case.
 */
export function toPostgres(text: string): string {
  let out = pgText.get(text);
  if (out !== undefined) return out;
  let n = 0;
  out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      const stop = end < 0 ? text.length : end + 1;
      out += text.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') out += `$${++n}`;
    else out += c;
  }
  out = out.replace(/\bAS\s+([a-z_][a-z0-9_]*[A-Z][A-Za-z0-9_]*)\b/g, 'AS "$1"');
  if (pgText.size < MAX_CACHED) pgText.set(text, out);
  return out;
}

const INT8 = 20;
const NUMERIC = 1700;
/** COUNT and SUM answer int8/numeric, which node-postgres returns as strings; our counts fit in a double. */
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

type Queryable = pg.Pool | pg.PoolClient;

function pgOn(client: Queryable, inTx: boolean): Sql {
  const query = (text: string, params: Params = []) => client.query({ text: toPostgres(text), values: params as unknown[], types });
  const self: Sql = {
    dialect: 'postgres',
    all: async <T>(text: string, params?: Params) => (await query(text, params)).rows as T[],
    get: async <T>(text: string, params?: Params) => (await query(text, params)).rows[0] as T | undefined,
    run: async (text, params) => ({ changes: (await query(text, params)).rowCount ?? 0 }),
    exec: async (script) => void (await client.query(script)),
    async tx(fn) {
      if (inTx) return fn(self);
      const conn = await (client as pg.Pool).connect();
      try {
        await conn.query('BEGIN');
        const result = await fn(pgOn(conn, true));
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        conn.release();
      }
    },
  };
  return self;
}

/** A PostgreSQL pool behind the same interface. */
export function postgresSql(pool: pg.Pool): Sql {
  return pgOn(pool, false);
}

/** A pool for a postgres:// URL (timestamps stay text; see migrations/postgres). */
export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 10_000 });
  // An idle connection dropped by the server must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
