import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/main.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { onPostgres, silentLog, startPaperboy, startSmtp } from '../helpers.js';

/** A pending subscriber whose confirmation is queued and due now, after `attempts` earlier tries. */
async function queueConfirmation(app: Awaited<ReturnType<typeof startPaperboy>>, email: string, attempts: number) {
  const now = new Date().toISOString();
  const s = (await app.database.get<{ id: number }>("INSERT INTO subscribers (email, status, topics, created_at, updated_at) VALUES (?, 'pending', '[\"agents\"]', ?, ?) RETURNING id", [email, now, now]))!;
  await app.database.run(
    "INSERT INTO outbound_mail (subscriber_id, kind, recipient, status, attempts, next_attempt_at, created_at) VALUES (?, 'confirm', ?, 'queued', ?, ?, ?)",
    [s.id, email, attempts, now, now],
  );
}

describe('the outbound mail queue', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  beforeAll(async () => (smtp = await startSmtp({ reject: (rcpt) => (rcpt.startsWith('nobody@') ? { code: 550, message: 'No such user' } : null) })));
  afterAll(() => smtp.close());

  it('when SMTP is down, then signups still answer at once and the mail stays queued for a retry', async () => {
    // Port 9 (discard) on loopback: connection refused.
    const app = await startPaperboy({ SMTP_URL: 'smtp://127.0.0.1:9', RATE_LIMITS: 'false' });
    try {
      const started = Date.now();
      const res = await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'patient@example.org', topics: ['agents'] }) });
      expect(res.status).toBe(202);
      expect(Date.now() - started).toBeLessThan(2000);
      await app.outbound.run();
      const row = (await app.database.get<{ status: string; attempts: number; last_error: string }>('SELECT status, attempts, last_error FROM outbound_mail'))!;
      expect(row).toMatchObject({ status: 'queued', attempts: 1 });
      expect(row.last_error).toMatch(/ECONNREFUSED/);
    } finally {
      await app.stop().catch(() => undefined);
    }
  });

  it('when a queued mail is due again and SMTP answers, then it is delivered exactly once', async () => {
    const app = await startPaperboy({ SMTP_URL: smtp.url, RATE_LIMITS: 'false' });
    try {
      await queueConfirmation(app, 'queued@example.org', 3);
      await Promise.all([app.outbound.run(), app.outbound.run()]);
      await app.outbound.run();
      expect(smtp.received.filter((m) => m.envelopeTo[0] === 'queued@example.org')).toHaveLength(1);
      expect(await app.database.get('SELECT status, attempts FROM outbound_mail')).toEqual({ status: 'sent', attempts: 4 });
    } finally {
      await app.stop();
    }
  });

  it('when the queue cannot record that a mail was accepted, then the mail is not sent again at once', async () => {
    const app = await startPaperboy({ SMTP_URL: smtp.url, RATE_LIMITS: 'false' });
    try {
      await queueConfirmation(app, 'once@example.org', 0);
      // The queue refuses to record 'sent' (a trigger in each engine's own dialect: test setup, not product SQL).
      await app.database.exec(
        onPostgres
          ? `CREATE FUNCTION queue_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'queue unavailable'; END $$;
             CREATE TRIGGER queue_down BEFORE UPDATE OF status ON outbound_mail FOR EACH ROW WHEN (NEW.status = 'sent') EXECUTE FUNCTION queue_down();`
          : "CREATE TRIGGER queue_down BEFORE UPDATE OF status ON outbound_mail WHEN NEW.status = 'sent' BEGIN SELECT RAISE(ABORT, 'queue unavailable'); END",
      );
      await expect(app.outbound.run()).rejects.toThrow(/queue unavailable/);
      await app.database.exec(onPostgres ? 'DROP TRIGGER queue_down ON outbound_mail' : 'DROP TRIGGER queue_down');
      await app.outbound.run();
      expect(smtp.received.filter((m) => m.envelopeTo[0] === 'once@example.org')).toHaveLength(1);
      // Left 'sending': only a stale claim (10 minutes) is picked up again.
      expect(await app.database.get('SELECT status FROM outbound_mail')).toEqual({ status: 'sending' });
    } finally {
      await app.stop();
    }
  });

  it('when the relay answers 5xx for an address, then it is marked bounced and not retried', async () => {
    const app = await startPaperboy({ SMTP_URL: smtp.url, RATE_LIMITS: 'false' });
    try {
      await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'nobody@example.org', topics: ['agents'] }) });
      await app.outbound.run();
      expect((await findByEmail(app.database, 'nobody@example.org'))!.status).toBe('bounced');
      expect(await app.database.get('SELECT status FROM outbound_mail')).toEqual({ status: 'failed' });
    } finally {
      await app.stop();
    }
  });

  // Several nodes means PostgreSQL: two SQLite connections in one thread would wait on each other's lock synchronously.
  it.skipIf(!onPostgres)('when two nodes drain one queue at once, then each mail is sent exactly once', async () => {
    const app = await startPaperboy({ SMTP_URL: smtp.url, RATE_LIMITS: 'false' });
    // A second node: its own services, pool and outbound worker on the same database.
    const other = await createServices(app.config, silentLog);
    try {
      const readers = Array.from({ length: 30 }, (_, i) => `node${i}@example.org`);
      for (const r of readers) await queueConfirmation(app, r, 0);
      const [a, b] = await Promise.all([app.outbound.run(), other.outbound.run()]);
      expect(a + b).toBe(30);
      for (const r of readers) expect(smtp.received.filter((m) => m.envelopeTo[0] === r), r).toHaveLength(1);
      expect(await app.database.get("SELECT count(*) AS n FROM outbound_mail WHERE status = 'sent'")).toEqual({ n: 30 });
    } finally {
      await other.close();
      await app.stop();
    }
  });
});
