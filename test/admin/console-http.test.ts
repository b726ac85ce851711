import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFor, createServices } from '../../src/main.js';
import { listen, silentLog, startPaperboy } from '../helpers.js';

const TOKEN = 'admin-token-for-tests-0123456789';

/** Signs in through the form and returns the session cookie and the CSRF token of the overview. */
async function signIn(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: `token=${TOKEN}` });
  expect(res.status).toBe(303);
  const setCookie = res.headers.get('set-cookie')!;
  const cookie = setCookie.split(';')[0]!;
  const page = await (await fetch(`${url}/admin`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
  return { cookie, csrf, setCookie, page };
}

describe('the admin console over HTTP', () => {
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  beforeAll(async () => {
    app = await startPaperboy({ ADMIN_TOKEN: TOKEN, RATE_LIMITS: 'false' });
  });
  afterAll(() => app.stop());

  it('when not signed in, then every page sends the browser to the sign-in form with a password field', async () => {
    for (const path of ['/admin', '/admin/subscribers', '/admin/runs', '/admin/suppressions']) {
      const res = await fetch(app.url + path, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/admin/login');
    }
    const login = await (await fetch(`${app.url}/admin/login`)).text();
    expect(login).toMatch(/<input id="token" name="token" type="password"/);
  });

  it('when signed in, then the cookie is HttpOnly, SameSite=Strict, scoped to /admin, and Secure only behind https', async () => {
    const { setCookie, page } = await signIn(app.url);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/admin/);
    expect(setCookie).not.toMatch(/Secure/);
    expect(page).toContain('Subscribers by status');
    const https = await signIn(app.url, { 'x-forwarded-proto': 'https' });
    expect(https.setCookie).toMatch(/Secure/);
  });

  it('when an admin POST lacks the CSRF token or carries a wrong one, then it is refused and nothing changes', async () => {
    const { cookie, csrf } = await signIn(app.url);
    const { id } = (await app.database.get<{ id: number }>(
      "INSERT INTO subscribers (email, status, created_at, updated_at, confirmed_at) VALUES ('csrf@example.org', 'active', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z') RETURNING id",
    ))!;
    const status = async () => (await app.database.get<{ status: string }>('SELECT status FROM subscribers WHERE id = ?', [id]))!.status;
    const post = (body: string) =>
      fetch(`${app.url}/admin/subscribers/${id}/pause`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect((await post('')).status).toBe(403);
    expect((await post('_csrf=nope')).status).toBe(403);
    expect(await status()).toBe('active');
    expect((await post(`_csrf=${csrf}`)).status).toBe(303);
    expect(await status()).toBe('paused');
    const log = await app.database.all('SELECT event, method FROM consent_events WHERE subscriber_id = ?', [id]);
    expect(log).toContainEqual({ event: 'paused', method: 'admin' });
  });

  it('when a POST comes without a session, then it is refused', async () => {
    const res = await fetch(`${app.url}/admin/suppressions/lift`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'subscriberId=1' });
    expect(res.status).toBe(401);
  });

  it('when a sign-in comes from another site, then it is refused', async () => {
    const res = await fetch(`${app.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: `token=${TOKEN}` });
    expect(res.status).toBe(403);
  });

  it('when one address guesses wrong five times, then it is locked out even with the right token, and others are not', async () => {
    const from = { 'x-forwarded-for': '203.0.113.9' };
    const attempt = (token: string, headers = from) =>
      fetch(`${app.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: `token=${encodeURIComponent(token)}` });
    for (let i = 0; i < 5; i++) expect((await attempt('wrong-token-guess-000')).status).toBe(401);
    const locked = await attempt(TOKEN);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await attempt(TOKEN, { 'x-forwarded-for': '203.0.113.10' })).status).toBe(303);
  });

  it('when signed out, then the old cookie no longer opens the console', async () => {
    const { cookie, csrf } = await signIn(app.url);
    const out = await fetch(`${app.url}/admin/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrf}` });
    expect(out.status).toBe(303);
    expect((await fetch(`${app.url}/admin`, { redirect: 'manual', headers: { cookie } })).status).toBe(303);
  });

  it('when searching, opening, and removing a subscriber, then the pages show what the database holds', async () => {
    const { cookie, csrf } = await signIn(app.url);
    const res = await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'grace@example.org', topics: ['interpretability'] }) });
    expect(res.status).toBe(202);
    const list = await (await fetch(`${app.url}/admin/subscribers?q=grace%40&status=pending`, { headers: { cookie } })).text();
    const id = /href="\/admin\/subscribers\/(\d+)">grace@example.org/.exec(list)![1];
    const detail = await (await fetch(`${app.url}/admin/subscribers/${id}`, { headers: { cookie } })).text();
    expect(detail).toContain('subscribe_requested');
    const topics = await (await fetch(`${app.url}/admin/topics`, { headers: { cookie } })).text();
    expect(topics).toContain('Active readers');
    const noConfirm = await fetch(`${app.url}/admin/subscribers/${id}/remove`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrf}` });
    expect(noConfirm.status).toBe(400);
    const removed = await fetch(`${app.url}/admin/subscribers/${id}/remove`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrf}&confirm=yes` });
    expect(removed.status).toBe(303);
    expect(await app.database.get("SELECT 1 FROM subscribers WHERE email = 'grace@example.org'")).toBeUndefined();
  });

  it('when two web nodes share the database, then a lock-out and a session made on one hold on the other', async () => {
    // A second node: its own services, connections and HTTP server on the same database.
    const other = await createServices(app.config, silentLog);
    const node2 = await listen(appFor(other));
    try {
      const from = { 'x-forwarded-for': '203.0.113.77' };
      const attempt = (url: string, token: string) =>
        fetch(`${url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...from }, body: `token=${encodeURIComponent(token)}` });
      for (let i = 0; i < 5; i++) expect((await attempt(i % 2 ? app.url : node2.url, 'wrong-token-guess-111')).status).toBe(401);
      expect((await attempt(node2.url, TOKEN)).status).toBe(429);
      expect((await attempt(app.url, TOKEN)).status).toBe(429);

      const { cookie, csrf } = await signIn(app.url);
      expect((await fetch(`${node2.url}/admin`, { redirect: 'manual', headers: { cookie } })).status).toBe(200);
      const out = await fetch(`${node2.url}/admin/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrf}` });
      expect(out.status).toBe(303);
      expect((await fetch(`${app.url}/admin`, { redirect: 'manual', headers: { cookie } })).status).toBe(303);
    } finally {
      await node2.close();
      await other.close();
    }
  });
});
