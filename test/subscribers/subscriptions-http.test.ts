import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { consentLog, findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { signToken } from '../../src/subscribers/tokens.js';
import { linkIn, startPaperboy, startSmtp } from '../helpers.js';

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let app: Awaited<ReturnType<typeof startPaperboy>>;

beforeAll(async () => {
  smtp = await startSmtp();
  app = await startPaperboy({ SMTP_URL: smtp.url, RATE_LIMITS: 'false', PUBLIC_URL: 'https://paperboy.example' });
});
afterAll(async () => {
  await app.stop();
  await smtp.close();
});
beforeEach(() => {
  smtp.received.length = 0;
});

const post = (path: string, body: unknown) =>
  fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const form = (url: string, fields: Record<string, string | string[]> = {}) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) body.append(k, x);
  return fetch(url.replace('https://paperboy.example', app.url), { method: 'POST', body, redirect: 'manual' });
};
const get = (url: string) => fetch(url.replace('https://paperboy.example', app.url), { redirect: 'manual' });

async function subscribeAndReadMail(email: string, extra: object = {}) {
  const before = smtp.received.length;
  const res = await post('/api/subscriptions', { email, topics: ['interpretability'], ...extra });
  expect(res.status).toBe(202);
  const [mail] = (await smtp.waitFor(before + 1)).slice(before);
  return mail!;
}

describe('POST /api/subscriptions', () => {
  it('when the input is valid, then it answers 202 and sends a confirmation email with a signed link', async () => {
    const mail = await subscribeAndReadMail('reader1@example.org', { keywords: ['sparse autoencoders'], frequency: 'weekly', weekday: 3, hour: 7, timezone: 'Europe/Berlin', maxPapers: 5 });
    expect(mail.envelopeTo).toEqual(['reader1@example.org']);
    expect(mail.parsed.subject).toBe('Confirm your Paperboy subscription');
    expect(mail.parsed.html).toContain('https://paperboy.example/confirm/');
    expect(linkIn(mail.parsed.text, 'confirm')).toMatch(/^https:\/\/paperboy\.example\/confirm\//);
    // Typed text is never quoted back in a confirmation (it goes to an address whose owner typed nothing).
    expect(mail.parsed.text).not.toContain('sparse autoencoders');
    expect(mail.parsed.html).not.toContain('sparse autoencoders');
    const s = (await findByEmail(app.database, 'reader1@example.org'))!;
    expect(s).toMatchObject({ status: 'pending', topics: ['interpretability'], keywords: ['sparse autoencoders'], frequency: 'weekly', weekday: 3, hour: 7, timezone: 'Europe/Berlin', maxPapers: 5 });
  });

  it('when the address is new, pending, active or unsubscribed, then the answer is byte-identical', async () => {
    const bodies = new Set<string>();
    const answer = async (email: string) => {
      const res = await post('/api/subscriptions', { email, topics: ['agents'] });
      expect(res.status).toBe(202);
      bodies.add(`${res.headers.get('content-type')}|${await res.text()}`);
    };
    await answer('brand-new@example.org');
    await answer('brand-new@example.org'); // now pending
    const mail = await subscribeAndReadMail('active@example.org');
    await form(linkIn(mail.parsed.text, 'confirm'));
    await answer('active@example.org');
    await form(app.links.unsubscribeUrl((await findByEmail(app.database, 'active@example.org'))!));
    await answer('active@example.org'); // unsubscribed
    expect(bodies.size).toBe(1);
  });

  it('when the input is bad, then it answers 400 naming each field', async () => {
    const cases: [object, string][] = [
      [{ email: 'not-an-email', topics: ['agents'] }, 'email'],
      [{ email: `${'a'.repeat(250)}@example.org`, topics: ['agents'] }, 'email'],
      [{ email: 'x@example.org', topics: ['astrology'] }, 'topics.0'],
      [{ email: 'x@example.org' }, 'topics'],
      [{ email: 'x@example.org', keywords: Array.from({ length: 21 }, (_, i) => `kw${i}`) }, 'keywords'],
      [{ email: 'x@example.org', topics: ['agents'], timezone: 'Mars/Olympus' }, 'timezone'],
      [{ email: 'x@example.org', topics: ['agents'], hour: 24 }, 'hour'],
      [{ email: 'x@example.org', topics: ['agents'], weekday: 0 }, 'weekday'],
      [{ email: 'x@example.org', topics: ['agents'], frequency: 'hourly' }, 'frequency'],
      [{ email: 'x@example.org', topics: ['agents'], maxPapers: 500 }, 'maxPapers'],
      [{ email: 'x@example.org', topics: ['agents'], admin: true }, '(body)'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/api/subscriptions', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const json = (await res.json()) as { error: { code: string; issues: { field: string; message: string }[] } };
      expect(json.error.code).toBe('validation');
      expect(json.error.issues.map((i) => i.field), JSON.stringify(body)).toContain(field);
    }
    expect(await findByEmail(app.database, 'x@example.org')).toBeUndefined();
  });

  it('when the body is malformed or too large, then it answers 400 or 413, never 500', async () => {
    const bad = await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email": ' });
    expect(bad.status).toBe(400);
    const big = await post('/api/subscriptions', { email: 'big@example.org', keywords: ['x'.repeat(40_000)] });
    expect(big.status).toBe(413);
  });

  it('when the honeypot is filled, then it answers the same and does nothing', async () => {
    const res = await post('/api/subscriptions', { email: 'bot@example.org', topics: ['agents'], website: 'http://spam' });
    expect(res.status).toBe(202);
    expect(await findByEmail(app.database, 'bot@example.org')).toBeUndefined();
  });

  it('when one address signs up again and again, then at most 3 emails go out per day', async () => {
    for (let i = 0; i < 6; i++) await post('/api/subscriptions', { email: 'eager@example.org', topics: ['agents'] });
    await smtp.waitFor(3);
    await app.outbound.run();
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received.filter((m) => m.envelopeTo[0] === 'eager@example.org')).toHaveLength(3);
  });
});

describe('double opt-in and links', () => {
  it('when the confirm link is opened with GET, then nothing changes until the button is pressed', async () => {
    const mail = await subscribeAndReadMail('scanner@example.org');
    const link = linkIn(mail.parsed.text, 'confirm');
    const page = await get(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Confirm my subscription');
    await fetch(link.replace('https://paperboy.example', app.url), { method: 'HEAD' });
    expect((await findByEmail(app.database, 'scanner@example.org'))!.status).toBe('pending');
    const done = await form(link);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('subscribed');
    const s = (await findByEmail(app.database, 'scanner@example.org'))!;
    expect(s.status).toBe('active');
    expect((await consentLog(app.database, s.id)).map((e) => [e.event, e.method])).toEqual([
      ['subscribe_requested', 'api'],
      ['confirmed', 'web'],
    ]);
  });

  it('when an active reader subscribes again, then they get a manage email and no duplicate subscriber', async () => {
    const mail = await subscribeAndReadMail('twice@example.org');
    await form(linkIn(mail.parsed.text, 'confirm'));
    const second = await subscribeAndReadMail('TWICE@example.org');
    expect(second.parsed.subject).toBe('Your Paperboy subscription');
    expect(linkIn(second.parsed.text, 'manage')).toContain('/manage/');
    expect(await app.database.get("SELECT count(*) AS n FROM subscribers WHERE email = 'twice@example.org'")).toEqual({ n: 1 });
  });

  it('when a token is tampered, forged, of the wrong purpose or expired, then a friendly 400 page answers', async () => {
    const mail = await subscribeAndReadMail('tamper@example.org');
    const link = linkIn(mail.parsed.text, 'confirm');
    const s = (await findByEmail(app.database, 'tamper@example.org'))!;
    const tampered = link.slice(0, -3) + (link.endsWith('AAA') ? 'BBB' : 'AAA');
    const forged = `${app.url}/confirm/${signToken('some-other-secret-some-other-secret', { key: s.linkKey, purpose: 'confirm', version: 1, expires: 0, extra: '' })}`;
    const wrongPurpose = app.links.unsubscribeUrl(s).replace('/unsubscribe/', '/confirm/');
    const expired = `${app.url}/confirm/${app.links.token(s, 'confirm', Math.floor(Date.now() / 1000) - 60)}`;
    for (const url of [tampered, forged, wrongPurpose, `${app.url}/confirm/garbage`, `${app.url}/confirm/${'x'.repeat(600)}`]) {
      const res = await form(url);
      expect(res.status, url).toBe(400);
      const html = await res.text();
      expect(html).toMatch(/not valid|no longer valid/);
      expect(html).not.toMatch(/at .*\.ts:\d+/);
    }
    const res = await get(expired);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('expired');
    expect((await findByEmail(app.database, 'tamper@example.org'))!.status).toBe('pending');
  });

  it('when a reader unsubscribes with one click (RFC 8058), then it answers 200 and logs it', async () => {
    const mail = await subscribeAndReadMail('oneclick@example.org');
    await form(linkIn(mail.parsed.text, 'confirm'));
    const s = (await findByEmail(app.database, 'oneclick@example.org'))!;
    const url = app.links.unsubscribeUrl(s);
    const get1 = await get(url);
    expect(await get1.text()).toContain('Unsubscribe?');
    expect((await findByEmail(app.database, 'oneclick@example.org'))!.status).toBe('active');
    const res = await fetch(url.replace('https://paperboy.example', app.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    const after = (await findByEmail(app.database, 'oneclick@example.org'))!;
    expect(after.status).toBe('unsubscribed');
    expect((await consentLog(app.database, s.id)).at(-1)).toMatchObject({ event: 'unsubscribed', method: 'one-click', ip: expect.any(String) });
    // The old link keeps working (and stays harmless) even though the token version moved on.
    const again = await fetch(url.replace('https://paperboy.example', app.url), { method: 'POST', body: new FormData() });
    expect(again.status).toBe(200);
    // Old manage links are revoked by the unsubscribe.
    expect((await get(app.links.manageUrl(s))).status).toBe(400);
  });

  it('when a reader changes preferences and pauses at the manage link, then it sticks', async () => {
    const mail = await subscribeAndReadMail('prefs@example.org');
    await form(linkIn(mail.parsed.text, 'confirm'));
    const manage = app.links.manageUrl((await findByEmail(app.database, 'prefs@example.org'))!);
    const page = await get(manage);
    expect(await page.text()).toContain('value="interpretability" checked');
    const saved = await form(manage, { action: 'save', topics: ['diffusion-models', 'agents'], keywords: 'muon, "flow matching"', exclude: 'medical', frequency: 'weekly', weekday: '5', hour: '18', timezone: 'America/New_York', maxPapers: '15' });
    expect(saved.status).toBe(200);
    expect(await findByEmail(app.database, 'prefs@example.org')).toMatchObject({ topics: ['diffusion-models', 'agents'], keywords: ['muon', '"flow matching"'], exclude: ['medical'], frequency: 'weekly', weekday: 5, hour: 18, timezone: 'America/New_York', maxPapers: 15 });
    const bad = await form(manage, { action: 'save', timezone: 'Nowhere/Land' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('IANA');
    await form(manage, { action: 'pause' });
    expect((await findByEmail(app.database, 'prefs@example.org'))!.status).toBe('paused');
    await form(manage, { action: 'resume' });
    expect((await findByEmail(app.database, 'prefs@example.org'))!.status).toBe('active');
  });
});

describe('the subscribe page', () => {
  it('when the form is posted, then the visitor sees "check your inbox" and a confirmation is mailed', async () => {
    const res = await form(`${app.url}/subscribe`, { email: 'form@example.org', topics: ['llm-reasoning'], keywords: 'GRPO, test-time compute', website: '' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Check your inbox');
    await smtp.waitFor(1);
    expect(await findByEmail(app.database, 'form@example.org')).toMatchObject({ keywords: ['GRPO', 'test-time compute'] });
  });

  it('when the form is invalid, then the page comes back with the field errors and the values kept', async () => {
    const res = await form(`${app.url}/subscribe`, { email: 'nope', keywords: '<script>alert(1)</script>' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('must be a valid email address');
    const none = await (await form(`${app.url}/subscribe`, { email: 'ok@example.org' })).text();
    expect(none).toContain('pick at least one topic');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)');
  });
});

describe('rate limits', () => {
  it('when one IP signs up too often, then it gets a clear 429', async () => {
    const limited = await startPaperboy({ SMTP_URL: smtp.url });
    try {
      let last: Response | undefined;
      for (let i = 0; i < 21; i++) last = await fetch(`${limited.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `r${i}@example.org`, topics: ['agents'] }) });
      expect(last!.status).toBe(429);
      expect(await last!.json()).toMatchObject({ error: { code: 'rate_limited' } });
    } finally {
      await limited.stop();
    }
  });
});
