import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordBounce } from '../../src/bounces/suppression.js';
import { eraseByEmail } from '../../src/privacy/reader-data.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { MAX_ATTEMPTS } from '../../src/webhooks/webhook-sender.js';
import { listen, runCli, startPaperboy } from '../helpers.js';

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

  beforeAll(async () => {
    receiver = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
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
  beforeEach(() => {
    got.length = 0;
    failNext = 0;
    app.database.sqlite.exec('DELETE FROM webhook_queue');
  });

  const events = () => got.map((g) => JSON.parse(g.body) as { event: string; email: string; method?: string });

  it('when a reader subscribes, confirms and unsubscribes, then each is sent once, signed with a timestamp', async () => {
    expect((await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'hook@example.org', topics: ['interpretability'] }) })).status).toBe(202);
    const s = findByEmail(app.database, 'hook@example.org')!;
    const confirm = app.links.confirmUrl(s, new Date()).replace(/^https?:\/\/[^/]+/, app.url);
    await fetch(confirm, { method: 'POST', redirect: 'manual' });
    const unsub = app.links.unsubscribeUrl(findByEmail(app.database, 'hook@example.org')!).replace(/^https?:\/\/[^/]+/, app.url);
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
    const { sqlite } = app.database;
    const at = new Date().toISOString();
    for (const e of ['b@example.org', 'c@example.org']) sqlite.prepare("INSERT INTO subscribers (email, status, created_at, updated_at, confirmed_at) VALUES (?, 'active', ?, ?, ?)").run(e, at, at, at);
    const rule = { count: 3, windowDays: 7 };
    recordBounce(app.database, { provider: 'ses', eventId: 'w1', kind: 'hard_bounce', email: 'b@example.org' }, rule, new Date());
    recordBounce(app.database, { provider: 'mailgun', eventId: 'w2', kind: 'complaint', email: 'c@example.org' }, rule, new Date());
    const id = findByEmail(app.database, 'c@example.org')!.id;
    sqlite.prepare("INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, created_at) VALUES (?, '2026-12-01', 'sending', '<m@x>', '[{\"pk\":1},{\"pk\":2}]', ?, ?)").run(id, at, at);
    sqlite.prepare("UPDATE deliveries SET status = 'sent', finished_at = ? WHERE subscriber_id = ?").run(at, id);
    await app.webhooks.run();
    expect(events().map((e) => e.event).sort()).toEqual(['bounced', 'complained', 'digest_sent']);
    expect(events().find((e) => e.event === 'digest_sent')).toMatchObject({ email: 'c@example.org', period: '2026-12-01', papers: 2 });
  });

  it('when the receiver fails, then the event is retried with growing backoff from the queue and delivered once it answers, and given up after the last try', async () => {
    const { sqlite } = app.database;
    const at = new Date().toISOString();
    sqlite.prepare("INSERT INTO subscribers (email, status, created_at, updated_at) VALUES ('r@example.org', 'pending', ?, ?)").run(at, at);
    sqlite.prepare("INSERT INTO consent_events (subscriber_id, event, method, at) SELECT id, 'subscribe_requested', 'web', ? FROM subscribers WHERE email = 'r@example.org'").run(at);
    failNext = 2;
    let clock = Date.now();
    const run = () => app.webhooks.run(() => new Date(clock));
    expect(await run()).toMatchObject({ sent: 0, retried: 1 });
    expect(await run()).toMatchObject({ sent: 0, retried: 0 }); // not due yet
    clock += 30_000;
    expect(await run()).toMatchObject({ retried: 1 });
    const second = sqlite.prepare('SELECT attempts, next_attempt_at AS next FROM webhook_queue').get() as { attempts: number; next: string };
    expect(second.attempts).toBe(2);
    expect(Date.parse(second.next) - clock).toBe(60_000);
    clock += 60_000;
    expect(await run()).toMatchObject({ sent: 1 });
    expect(got).toHaveLength(1);

    failNext = 1000;
    sqlite.prepare("INSERT INTO consent_events (subscriber_id, event, method, at) SELECT id, 'confirmed', 'web', ? FROM subscribers WHERE email = 'r@example.org'").run(at);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await run();
      clock += 7 * 3600_000;
    }
    expect(sqlite.prepare("SELECT status, attempts FROM webhook_queue WHERE event = 'confirmed'").get()).toEqual({ status: 'failed', attempts: MAX_ATTEMPTS });
  });

  it("when a reader's data is deleted, then their undelivered events go with it", () => {
    const { sqlite } = app.database;
    const at = new Date().toISOString();
    sqlite.prepare("INSERT INTO subscribers (email, status, created_at, updated_at) VALUES ('del@example.org', 'pending', ?, ?)").run(at, at);
    sqlite.prepare("INSERT INTO consent_events (subscriber_id, event, method, at) SELECT id, 'subscribe_requested', 'web', ? FROM subscribers WHERE email = 'del@example.org'").run(at);
    expect((sqlite.prepare('SELECT count(*) AS n FROM webhook_queue').get() as { n: number }).n).toBe(1);
    eraseByEmail(app.database, 'del@example.org', new Date());
    expect((sqlite.prepare('SELECT count(*) AS n FROM webhook_queue').get() as { n: number }).n).toBe(0);
  });

  it('when WEBHOOK_URLS is set without WEBHOOK_SECRET, then start-up refuses with exit 2', () => {
    const r = runCli(['stats'], { WEBHOOK_URLS: 'https://hooks.example/x', DATABASE_PATH: `${app.dir}/other.db` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('WEBHOOK_SECRET');
  });
});
