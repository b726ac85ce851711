// Scheduled jobs on several nodes: one tick runs once (issue 12 item 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withJobLease } from '../../src/db/job-lease.js';
import { tempDatabase } from '../helpers.js';

describe('job leases', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  beforeAll(async () => {
    db = await tempDatabase();
  });
  afterAll(() => db.cleanup());

  it('when two nodes start the same job at once, then only one runs it, and the lease is free again afterwards', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const job = async () => {
      runs++;
      await gate;
      return 'ran';
    };
    const first = withJobLease(db, 'ingest', job);
    // Let the first take the lease before the second asks.
    await new Promise((r) => setTimeout(r, 50));
    const second = await withJobLease(db, 'ingest', job);
    expect(second).toEqual({ ran: false });
    release();
    expect(await first).toEqual({ ran: true, result: 'ran' });
    expect(runs).toBe(1);
    expect(await db.all('SELECT name FROM job_leases')).toEqual([]);
    expect((await withJobLease(db, 'ingest', async () => 'again')).ran).toBe(true);
  });

  it('when a holder died without letting go, then its lease is taken over once it has expired, not before', async () => {
    const at = new Date('2026-12-01T08:00:00Z');
    await db.run("INSERT INTO job_leases (name, owner, until) VALUES ('digests', 'gone-host:1:dead', ?)", [new Date(at.getTime() + 60_000).toISOString()]);
    expect(await withJobLease(db, 'digests', async () => 1, { now: () => at })).toEqual({ ran: false });
    expect(await withJobLease(db, 'digests', async () => 2, { now: () => new Date(at.getTime() + 61_000) })).toEqual({ ran: true, result: 2 });
  });

  it('when a holder dies, then its lease runs out after three minutes, and a live holder keeps renewing it', async () => {
    const at = new Date('2026-12-01T09:00:00Z');
    const held = await withJobLease(db, 'ingest', async () => db.get<{ until: string }>("SELECT until FROM job_leases WHERE name = 'ingest'"), { now: () => at });
    expect(held.ran && held.result!.until).toBe(new Date(at.getTime() + 3 * 60_000).toISOString());
    let renewed = '';
    await withJobLease(db, 'ingest', async () => {
      const first = (await db.get<{ until: string }>("SELECT until FROM job_leases WHERE name = 'ingest'"))!.until;
      await new Promise((r) => setTimeout(r, 1300));
      renewed = (await db.get<{ until: string }>("SELECT until FROM job_leases WHERE name = 'ingest'"))!.until;
      expect(renewed > first).toBe(true);
    }, { ttlMs: 1500 });
    expect(renewed).not.toBe('');
  });

  it('when a job fails, then the lease is let go and the error reaches the caller', async () => {
    await expect(withJobLease(db, 'silence-notes', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await db.all("SELECT name FROM job_leases WHERE name = 'silence-notes'")).toEqual([]);
  });
});
