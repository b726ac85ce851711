import { createHmac, timingSafeEqual } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordBounce } from '../../src/bounces/suppression.js';
import { eraseByEmail } from '../../src/privacy/reader-data.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { createWebhookSender, MAX_ATTEMPTS } from '../../src/webhooks/webhook-sender.js';
import { openDatabase } from '../../src/db/client.js';
import { listen, runCli, runCliAsync, silentLog, startPaperboy } from '../helpers.js';

const SECRET = 'webhook-secret-webhook-secret-0123456789';

/** What a receiver does with Paperboy-Signature: recompute the HMAC over "<t>.<body>" (written here from the README, not imported). */
function verify(header: string, body: string, nowSeconds: number): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m || Math.abs(nowSeconds - Number(m[1])) > 300) return false;
  const expected = createHmac('sha256', SECRET).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

describe('outgoing webhooks', () => {
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  let receiver: Awaited<ReturnType<typeof listen>>;
  const got: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let failNext = 0;
  let delayMs = 0;

  beforeAll(async () => {
    receiver = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', async () => {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        if (failNext > 0) {
          failNext--;
          res.statusCode = 503;
          return res.end();
        }
        got.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    app = await startPaperboy({ RATE_LIMITS: 'false', WEBHOOK_URLS: `${receiver.url}/hook`, WEBHOOK_SECRET: SECRET });
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });
  beforeEach(async () => {
    got.length = 0;
    failNext = 0;
    delayMs = 0;
    await app.database.run('DELETE FROM webhook_queue');
  });

  const queued = async (where = '1 = 1') => (await app.database.get<{ n: number }>(`SELECT count(*) AS n FROM webhook_queue WHERE ${where}`))!.n;
  const events = () => got.map((g) => JSON.parse(g.body) as { event: string; email: string; method?: string });

  it('when a reader subscribes, confirms and unsubscribes, then each is sent once, signed with a timestamp', async () => {
    expect((await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'hook@example.org', topics: ['interpretability'] }) })).status).toBe(202);
    const s = (await findByEmail(app.database, 'hook@example.org'))!;
    const confirm = app.links.confirmUrl(s, new Date()).replace(/^https?:\/\/[^/]+/, app.url);
    await fetch(confirm, { method: 'POST', redirect: 'manual' });
    const unsub = app.links.unsubscribeUrl((await findByEmail(app.database, 'hook@example.org'))!).replace(/^https?:\/\/[^/]+/, app.url);
    await fetch(unsub, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(await app.webhooks.run()).toMatchObject({ sent: 3, retried: 0 });
    expect(events().map((e) => e.event)).toEqual(['subscribed', 'confirmed', 'unsubscribed']);
    expect(events()[2]).toMatchObject({ email: 'hook@example.org', method: 'one-click' });
    for (const g of got) {
      expect(verify(String(g.headers['paperboy-signature']), g.body, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verify(String(g.headers['paperboy-signature']), g.body.replace('hook@', 'hack@'), Math.floor(Date.now() / 1000))).toBe(false);
    }
    expect(await app.webhooks.run()).toMatchObject({ sent: 0 });
  });

  it('when a bounce, a complaint and a sent digest happen, then they are reported too', async () => {
    const db = app.database;
    const at = new Date().toISOString();
    for (const e of ['b@example.org', 'c@example.org']) await db.run("INSERT INTO subscribers (email, status, created_at, updated_at, confirmed_at) VALUES (?, 'active', ?, ?, ?)", [e, at, at, at]);
    const rule = { count: 3, windowDays: 7 };
    await recordBounce(db, { provider: 'ses', eventId: 'w1', kind: 'hard_bounce', email: 'b@example.org' }, rule, new Date());
    await recordBounce(db, { provider: 'mailgun', eventId: 'w2', kind: 'complaint', email: 'c@example.org' }, rule, new Date());
    const id = (await findByEmail(db, 'c@example.org'))!.id;
    await db.run("INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, created_at) VALUES (?, '2026-12-01', 'sending', '<m@x>', '[{\"pk\":1},{\"pk\":2}]', ?, ?)", [id, at, at]);
    await db.run("UPDATE deliveries SET status = 'sent', finished_at = ? WHERE subscriber_id = ?", [at, id]);
    await app.webhooks.run();
    expect(events().map((e) => e.event).sort()).toEqual(['bounced', 'complained', 'digest_sent']);
    expect(events().find((e) => e.event === 'digest_sent')).toMatchObject({ email: 'c@example.org', period: '2026-12-01', papers: 2 });
  });

  it('when the receiver fails, then the event is retried with growing backoff from the queue and delivered once it answers, and given up after the last try', async () => {
    const db = app.database;
    const at = new Date().toISOString();
    await db.run("INSERT INTO subscribers (email, status, created_at, updated_at) VALUES ('r@example.org', 'pending', ?, ?)", [at, at]);
    await db.run("INSERT INTO consent_events (subscriber_id, event, method, at) SELECT id, 'subscribe_requested', 'web', ? FROM subscribers WHERE email = 'r@example.org'", [at]);
    failNext = 2;
    let clock = Date.now();
    const run = () => app.webhooks.run(() => new Date(clock));
    expect(await run()).toMatchObject({ sent: 0, retried: 1 });
    expect(await run()).toMatchObject({ sent: 0, retried: 0 }); // not due yet
    clock += 30_000;
    expect(await run()).toMatchObject({ retried: 1 });
    const second = (await db.get<{ attempts: number; next: string }>('SELECT attempts, next_attempt_at AS next FROM webhook_queue'))!;
    expect(second.attempts).toBe(2);
    expect(Date.parse(second.next) - clock).toBe(60_000);
    clock += 60_000;
    expect(await run()).toMatchObject({ sent: 1 });
    expect(got).toHaveLength(1);

    failNext = 1000;
    await db.run("INSERT INTO consent_events (subscriber_id, event, method, at) SELECT id, 'confirmed', 'web', ? FROM subscribers WHERE email = 'r@example.org'", [at]);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await run();
      clock += 7 * 3600_000;
    }
    expect(await db.get("SELECT status, attempts FROM webhook_queue WHERE event = 'confirmed'")).toEqual({ status: 'failed', attempts: MAX_ATTEMPTS });
  });

  it("when a reader's data is deleted, then their undelivered events go with it", async () => {
    const db = app.database;
    const at = new Date().toISOString();
    await db.run("INSERT INTO subscribers (email, status, created_at, updated_at) VALUES ('del@example.org', 'pending', ?, ?)", [at, at]);
    await db.run("INSERT INTO consent_events (subscriber_id, event, method, at) SELECT id, 'subscribe_requested', 'web', ? FROM subscribers WHERE email = 'del@example.org'", [at]);
    expect(await queued()).toBe(1);
    await eraseByEmail(db, 'del@example.org', new Date());
    expect(await queued()).toBe(0);
  });

  /** `n` pending readers whose subscribe_requested events were queued `ago` ms back. */
  async function queueEvents(n: number, ago: number) {
    const at = new Date(Date.now() - ago).toISOString();
    for (let i = 0; i < n; i++) {
      const { id } = (await app.database.get<{ id: number }>("INSERT INTO subscribers (email, status, created_at, updated_at) VALUES (?, 'pending', ?, ?) RETURNING id", [`node${ago}-${i}@example.org`, at, at]))!;
      await app.database.run("INSERT INTO consent_events (subscriber_id, event, method, at) VALUES (?, 'subscribe_requested', 'web', ?)", [id, at]);
    }
  }

  it('when two nodes send from one queue at once, then every event goes out once, long-overdue ones too', async () => {
    // A second process's connection to the same database.
    const other = await openDatabase(app.config.database, { migrate: false, poolSize: 2 });
    try {
      await queueEvents(6, 3600_000);
      delayMs = 100;
      const nodes = [app.database, other].map((database) => createWebhookSender({ database, log: silentLog, secret: SECRET }));
      const rounds = await Promise.all(nodes.map((n) => n.run()));
      expect(rounds[0]!.sent + rounds[1]!.sent).toBe(6);
      const ids = got.map((g) => g.headers['paperboy-delivery']);
      expect(new Set(ids).size).toBe(6);
      expect(ids).toHaveLength(6);
    } finally {
      await other.close();
    }
  });

  it('when a sender dies holding claimed rows, then another sends them once their lease is over, not before', async () => {
    await queueEvents(2, 60_000);
    const now = Date.now();
    // What a claim leaves behind: 'sending', next_attempt_at = the lease's end (BATCH × timeout + 1 min).
    await app.database.run("UPDATE webhook_queue SET status = 'sending', next_attempt_at = ?", [new Date(now + 9 * 60_000).toISOString()]);
    expect(await app.webhooks.run(() => new Date(now + 60_000))).toMatchObject({ sent: 0 });
    expect(await app.webhooks.run(() => new Date(now + 10 * 60_000))).toMatchObject({ sent: 2 });
    expect(await queued("status = 'sent'")).toBe(2);
  });

  it('when a process without WEBHOOK_SECRET meets queued events, then it sends none and says so once', async () => {
    await queueEvents(2, 1000);
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const unsigned = createWebhookSender({ database: app.database, log, secret: undefined });
    expect(await unsigned.run()).toEqual({ sent: 0, retried: 0, failed: 0 });
    await unsigned.run();
    expect(lines.filter((l) => l.includes('no WEBHOOK_SECRET'))).toHaveLength(1);
    expect(await queued("status = 'queued'")).toBe(2);
  });

  it('when a command runs without WEBHOOK_URLS, then the endpoints and their queued events stay; WEBHOOK_URLS=none removes them', async () => {
    await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'thin-env@example.org', topics: ['agents'] }) });
    expect(await queued()).toBe(1);
    // A cron job or an operator's shell with a thin environment, on the same database.
    const r = await runCliAsync(['stats'], app.dbEnv);
    expect(r.code, r.stderr).toBe(0);
    expect(await app.database.all('SELECT url FROM webhook_endpoints')).toEqual([{ url: `${receiver.url}/hook` }]);
    expect(await queued()).toBe(1);
    await app.webhooks.run();
    expect(events().map((e) => e.email)).toEqual(['thin-env@example.org']);

    const off = await runCliAsync(['stats'], { ...app.dbEnv, WEBHOOK_URLS: 'none' });
    expect(off.code, off.stderr).toBe(0);
    expect(await app.database.all('SELECT url FROM webhook_endpoints')).toEqual([]);
  });

  it('when WEBHOOK_URLS is set without WEBHOOK_SECRET, then start-up refuses with exit 2', () => {
    const r = runCli(['stats'], { WEBHOOK_URLS: 'https://hooks.example/x', DATABASE_PATH: `${app.dir}/other.db` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('WEBHOOK_SECRET');
  });
});
