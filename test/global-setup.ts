// In the suite's PostgreSQL pass: one migrated template database that every
// test database is copied from (fast), and every test database dropped at the
// end. Names carry this run's id, so two runs on one server never touch each
// other's databases.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool } from '../src/db/sql.js';
import { migratePostgres } from '../src/db/client.js';

const url = process.env.PAPERBOY_TEST_PG_URL;
// Inherited by the test workers (test/helpers.ts reads it).
const run = (process.env.PAPERBOY_TEST_PG_RUN ??= randomBytes(4).toString('hex'));
const TEMPLATE = `paperboy_template_${run}`;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function dropTestDatabases(c: pg.Client) {
  const { rows } = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`, [`pb\\_${run}\\_%`, TEMPLATE]);
  for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
}

export async function setup() {
  if (!url) return;
  await admin((c) => c.query(`CREATE DATABASE ${TEMPLATE}`));
  const templateUrl = new URL(url);
  templateUrl.pathname = `/${TEMPLATE}`;
  const pool = createPool(templateUrl.toString(), 1);
  try {
    await migratePostgres(pool);
  } finally {
    await pool.end();
  }
}

export async function teardown() {
  if (url) await admin(dropTestDatabases);
}
