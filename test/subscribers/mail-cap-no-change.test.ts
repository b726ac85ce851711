import { beforeEach, describe, expect, it } from 'vitest';
import { consentLog, findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { appWithRelay } from '../helpers.js';

// A request the daily mail cap refuses changes nothing: status, consent log, waiting preferences, links.

const ctx = appWithRelay();
beforeEach(() => {
  ctx.smtp.received.length = 0;
});

const { local } = ctx;
const signup = async (email: string, extra: object = {}) => {
  const res = await fetch(`${ctx.app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, topics: ['agents'], ...extra }) });
  expect(res.status).toBe(202);
};
const mailCount = async (email: string) => Number((await ctx.app.database.get<{ n: number }>('SELECT count(*) AS n FROM outbound_mail WHERE recipient = ?', [email]))!.n);
const snapshot = async (email: string) => {
  const s = (await findByEmail(ctx.app.database, email))!;
  return { row: s, consent: (await consentLog(ctx.app.database, s.id)).map((e) => e.event), mails: await mailCount(email) };
};

async function cappedAndUnsubscribed(email: string) {
  for (let i = 0; i < 3; i++) await signup(email); // 1 signup + 2 re-signups: the cap of 3 is reached
  expect(await mailCount(email)).toBe(3);
  const unsubscribeUrl = local(ctx.app.links.unsubscribeUrl((await findByEmail(ctx.app.database, email))!));
  const oneClick = await fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  expect(oneClick.status).toBe(200);
  expect((await findByEmail(ctx.app.database, email))!.status).toBe('unsubscribed');
  return unsubscribeUrl;
}

describe('the daily mail cap refuses a request', () => {
  it('when "Subscribe again" on the unsubscribe page hits the cap, then nothing changes and the page says to try tomorrow', async () => {
    const email = 'capped-resub@example.org';
    const unsubscribeUrl = await cappedAndUnsubscribed(email);
    const before = await snapshot(email);
    const res = await fetch(`${unsubscribeUrl}/resubscribe`, { method: 'POST' });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toMatch(/try again tomorrow/i);
    expect(page).toContain('still unsubscribed');
    expect(page).not.toContain('most recent confirmation link');
    const after = await snapshot(email);
    expect(after).toEqual(before);
    expect(after.row.status).toBe('unsubscribed');
    expect(after.consent).not.toContain('resubscribe_requested');
    // The unsubscribe link still shows the reader as unsubscribed (GET changes nothing either).
    const again = await (await fetch(unsubscribeUrl)).text();
    expect(again).toContain('unsubscribed');
    expect(again).not.toContain('Unsubscribe?');
  });

  it('when a web signup of an unsubscribed address hits the cap, then the row, its waiting preferences and the consent log stay as they were', async () => {
    const email = 'capped-signup@example.org';
    await cappedAndUnsubscribed(email);
    const before = await snapshot(email);
    const body = new URLSearchParams({ email, keywords: 'new interest', frequency: 'weekly' });
    const res = await fetch(`${ctx.app.url}/subscribe`, { method: 'POST', body });
    expect(res.status).toBe(200);
    expect(await snapshot(email)).toEqual(before);
    expect(before.row.requestedPrefs).toBeNull();
  });

  it('when a signup for an active address hits the cap, then its interests are not left waiting on the row', async () => {
    const email = 'capped-active@example.org';
    await signup(email);
    const s = (await findByEmail(ctx.app.database, email))!;
    const confirmed = await fetch(local(ctx.app.links.confirmUrl(s, new Date())), { method: 'POST' });
    expect(confirmed.status).toBe(200);
    await signup(email, { keywords: ['first request'] }); // manage mail 2
    await signup(email, { keywords: ['second request'] }); // manage mail 3: the cap
    const before = await snapshot(email);
    expect(before.row.requestedPrefs).toMatchObject({ keywords: ['second request'] });
    await signup(email, { keywords: ['capped request'] });
    expect(await snapshot(email)).toEqual(before);
  });
});
