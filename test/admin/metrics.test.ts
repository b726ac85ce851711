import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPaperboy } from '../helpers.js';

const METRICS = 'metrics-token-for-tests-0123456';
const ADMIN = 'admin-token-for-tests-0123456789';

/** Parses the Prometheus text format into samples (name, labels, value); refuses any line it cannot read. */
function parseExposition(text: string) {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('/metrics and /readyz', () => {
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  beforeAll(async () => {
    app = await startPaperboy({ ADMIN_TOKEN: ADMIN, METRICS_TOKEN: METRICS, RATE_LIMITS: 'false' });
  });
  afterAll(() => app.stop());

  const scrape = async (token = METRICS) => {
    const res = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };
  const value = (s: ReturnType<typeof parseExposition>['samples'], name: string, labels: Record<string, string> = {}) =>
    s.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);

  it('when asked without the bearer token or with a wrong one, then it answers 401 and shows nothing', async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer not-the-token-000000' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('paperboy_');
  });

  it('when asked with METRICS_TOKEN or ADMIN_TOKEN, then it answers in the Prometheus format', async () => {
    const { types } = await scrape(ADMIN);
    expect(types.get('paperboy_http_requests_total')).toBe('counter');
    expect(types.get('paperboy_http_request_duration_seconds')).toBe('histogram');
  });

  it('when readers sign up, confirm and unsubscribe, then the counters move by method, and requests are counted by route pattern', async () => {
    const before = (await scrape()).samples;
    const res = await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ada@example.org', topics: ['interpretability'] }) });
    expect(res.status).toBe(202);
    const s = (await app.database.get<{ id: number; link_key: string; token_version: number }>("SELECT * FROM subscribers WHERE email = 'ada@example.org'"))!;
    const confirm = app.links.confirmUrl({ linkKey: s.link_key, tokenVersion: s.token_version }, new Date()).replace(/^https?:\/\/[^/]+/, app.url);
    expect((await fetch(confirm, { method: 'POST', redirect: 'manual' })).status).toBeLessThan(400);
    const unsub = app.links.unsubscribeUrl({ linkKey: s.link_key, tokenVersion: s.token_version }).replace(/^https?:\/\/[^/]+/, app.url);
    expect((await fetch(unsub, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })).status).toBe(200);
    const after = (await scrape()).samples;
    expect(value(after, 'paperboy_signups_total', { method: 'api' }) - value(before, 'paperboy_signups_total', { method: 'api' })).toBe(1);
    expect(value(after, 'paperboy_confirmations_total') - value(before, 'paperboy_confirmations_total')).toBe(1);
    expect(value(after, 'paperboy_unsubscribes_total', { method: 'one-click' })).toBe(1);
    expect(value(after, 'paperboy_http_requests_total', { route: '/api/subscriptions', status: '202' })).toBe(1);
    expect(value(after, 'paperboy_http_requests_total', { route: '/unsubscribe/:token' })).toBe(1);
    // Raw paths (with tokens) never become labels.
    expect(after.some((x) => Object.values(x.labels).some((v) => v.includes(s.link_key) || /\/unsubscribe\/[A-Za-z0-9]/.test(v)))).toBe(false);
    expect(value(after, 'paperboy_http_request_duration_seconds_count', { route: '/api/subscriptions' })).toBe(1);
    expect(after.some((x) => x.name === 'paperboy_queue_depth' && x.labels.queue === 'outbound_mail')).toBe(true);
  });

  it('when a digest run and an ingest are in the database, then outcomes, SMTP classes and timestamps show', async () => {
    const db = app.database;
    const { id } = (await db.get<{ id: number }>(
      "INSERT INTO subscribers (email, status, created_at, updated_at) VALUES ('m@example.org', 'active', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z') RETURNING id",
    ))!;
    for (const period of ['p1', 'p2']) {
      await db.run("INSERT INTO deliveries (subscriber_id, period_key, status, message_id, since, created_at) VALUES (?, ?, 'sending', 'm', 'x', '2026-11-30T08:00:00.000Z')", [id, period]);
    }
    await db.run("UPDATE deliveries SET status = 'sent', finished_at = '2026-11-30T08:00:01.000Z' WHERE period_key = 'p1'");
    await db.run("UPDATE deliveries SET status = 'failed', finished_at = '2026-11-30T08:00:02.000Z', error = '550 5.1.1 <m@…> no such user' WHERE period_key = 'p2'");
    await db.run("INSERT INTO source_status (source, last_run_at, ok, fetched) VALUES ('hf', '2026-11-30T07:07:00.000Z', 1, 12)");
    const { samples } = await scrape();
    expect(value(samples, 'paperboy_digests_total', { outcome: 'sent' })).toBe(1);
    expect(value(samples, 'paperboy_digests_total', { outcome: 'failed' })).toBe(1);
    expect(value(samples, 'paperboy_smtp_replies_total', { sender: 'digest', class: '2xx' })).toBe(1);
    expect(value(samples, 'paperboy_smtp_replies_total', { sender: 'digest', class: '5xx' })).toBe(1);
    expect(value(samples, 'paperboy_digest_last_run_timestamp_seconds')).toBe(Date.parse('2026-11-30T08:00:00.000Z') / 1000);
    expect(value(samples, 'paperboy_ingest_last_success_timestamp_seconds', { source: 'hf' })).toBe(Date.parse('2026-11-30T07:07:00.000Z') / 1000);
    expect(value(samples, 'paperboy_ingest_fetched', { source: 'hf' })).toBe(12);
  });

  it('when the database answers and is migrated, then /readyz is 200; /healthz stays public', async () => {
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  it('when the schema is behind this version, then /readyz answers 503', async () => {
    const db = app.database;
    const last = (await db.get<{ version: number; name: string; applied_at: string }>('SELECT * FROM schema_migrations ORDER BY version DESC LIMIT 1'))!;
    await db.run('DELETE FROM schema_migrations WHERE version = ?', [last.version]);
    try {
      const res = await fetch(`${app.url}/readyz`);
      expect(res.status).toBe(503);
    } finally {
      await db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [last.version, last.name, last.applied_at]);
    }
  });

  it('when the database does not answer, then /readyz answers 503 (either engine)', async () => {
    const other = await startPaperboy({ RATE_LIMITS: 'false' });
    try {
      expect((await fetch(`${other.url}/readyz`)).status).toBe(200);
      await other.database.close();
      const res = await fetch(`${other.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ ok: false, error: 'database not answering' });
    } finally {
      // Closing an already closed PostgreSQL pool rejects; that is this test's doing.
      await other.stop().catch(() => undefined);
    }
  });
});
