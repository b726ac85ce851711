import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Sql } from './sql.js';

const JOB_LEASE_MS = 3 * 60_000;

/** This process, as named in job leases. */
const OWNER = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/**
 * Runs `fn` only if no other process (on any node) is running the job `name`:
 * a lease row, taken with one compare-and-set statement and renewed while the
 * job runs. Resolves to { ran: false } when another holder has it, so a
 * scheduled tick on several nodes runs once. A holder that dies leaves a lease
 * that expires after `ttlMs`: three minutes by default, renewed every 30 s while
 * the holder lives (five renewals may fail, or clocks differ by minutes, before
 * a live lease lapses), so a node killed mid-job holds the next ticks up
 * briefly (with ten minutes, serve-only clusters skipped a whole digest tick).
 */
export async function withJobLease<T>(sql: Sql, name: string, fn: () => Promise<T>, opts: { ttlMs?: number; now?: () => Date } = {}): Promise<{ ran: true; result: T } | { ran: false }> {
  const ttlMs = opts.ttlMs ?? JOB_LEASE_MS;
  const now = opts.now ?? (() => new Date());
  const until = () => new Date(now().getTime() + ttlMs).toISOString();
  const taken = await sql.run(
    `INSERT INTO job_leases (name, owner, until) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
     WHERE job_leases.until <= ?`,
    [name, OWNER, until(), now().toISOString()],
  );
  if (taken.changes === 0) return { ran: false };
  const renew = setInterval(() => {
    sql.run('UPDATE job_leases SET until = ? WHERE name = ? AND owner = ?', [until(), name, OWNER]).catch(() => undefined);
  }, Math.max(1000, ttlMs / 6));
  renew.unref();
  try {
    return { ran: true, result: await fn() };
  } finally {
    clearInterval(renew);
    await sql.run('DELETE FROM job_leases WHERE name = ? AND owner = ?', [name, OWNER]).catch(() => undefined);
  }
}
