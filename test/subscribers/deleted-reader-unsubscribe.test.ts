import { describe, expect, it } from 'vitest';
import { removeSubscriber } from '../../src/subscribers/subscriber-admin.js';
import { consentLog, findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { signToken } from '../../src/subscribers/tokens.js';
import { appWithRelay } from '../helpers.js';

// Unsubscribe links keep working forever, even after the reader's data is deleted;
// forged or tampered tokens still fail and change nothing.

const ctx = appWithRelay();

const { local } = ctx;
const oneClick = (url: string) => fetch(local(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
const webPost = (url: string) => fetch(local(url), { method: 'POST', body: new URLSearchParams() });
const counts = async () => {
  const n = async (table: string) => Number((await ctx.app.database.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n);
  return { subscribers: await n('subscribers'), consent: await n('consent_events'), mail: await n('outbound_mail') };
};

async function activeReader(email: string) {
  const res = await fetch(`${ctx.app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, topics: ['agents'] }) });
  expect(res.status).toBe(202);
  const s = (await findByEmail(ctx.app.database, email))!;
  expect((await fetch(local(ctx.app.links.confirmUrl(s, new Date())), { method: 'POST' })).status).toBe(200);
  return (await findByEmail(ctx.app.database, email))!;
}

describe("a deleted reader's unsubscribe link", () => {
  it('when the reader deleted their data, then GET, HEAD, one-click POST, the page POST and "Subscribe again" answer 200 "not subscribed" and change nothing', async () => {
    const email = 'deleted-self@example.org';
    const s = await activeReader(email);
    const unsubscribe = ctx.app.links.unsubscribeUrl(s);
    const erase = await fetch(`${local(ctx.app.links.manageUrl(s))}?delete`, { method: 'POST', body: new URLSearchParams({ confirm: 'yes' }) });
    expect(erase.status).toBe(200);
    expect(await findByEmail(ctx.app.database, email)).toBeUndefined();
    const before = await counts();

    const page = await fetch(local(unsubscribe));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('You are not subscribed; Paperboy holds nothing about this address.');
    expect(html).not.toContain(email);
    expect(html).not.toContain('Unsubscribe?');
    expect((await fetch(local(unsubscribe), { method: 'HEAD' })).status).toBe(200);

    const provider = await oneClick(unsubscribe);
    expect(provider.status).toBe(200);
    expect(await provider.text()).toBe('You are not subscribed; Paperboy holds nothing about this address.');
    const button = await webPost(unsubscribe);
    expect(button.status).toBe(200);
    expect(await button.text()).toContain('You are not subscribed');
    const again = await webPost(`${unsubscribe}/resubscribe`);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('You are not subscribed');

    expect(await counts()).toEqual(before);
    expect(await findByEmail(ctx.app.database, email)).toBeUndefined();
  });

  it('when an operator removed the reader and the address signed up again, then the old link says "not subscribed" and leaves the new row alone', async () => {
    const email = 'removed-back@example.org';
    const old = await activeReader(email);
    expect(await removeSubscriber(ctx.app.database, email)).toBe(true);
    const now = await activeReader(email);
    const before = await counts();
    const res = await oneClick(ctx.app.links.unsubscribeUrl(old));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are not subscribed');
    expect(await findByEmail(ctx.app.database, email)).toEqual(now);
    expect((await consentLog(ctx.app.database, now.id)).map((e) => e.event)).not.toContain('unsubscribed');
    expect(await counts()).toEqual(before);
  });
});

describe('forged and tampered unsubscribe tokens', () => {
  it('when an existing reader\'s token is tampered with or signed with another secret, then it fails with 400 and changes nothing', async () => {
    const email = 'still-here@example.org';
    const s = await activeReader(email);
    const good = ctx.app.links.unsubscribeUrl(s).split('/').pop()!;
    const [payload, sig] = good.split('.') as [string, string];
    const flipped = `${payload}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    const forged = signToken('another-secret-another-secret-another-0', { key: s.linkKey, purpose: 'unsubscribe', version: s.tokenVersion, expires: 0, extra: '' });
    const unknownKeyForged = signToken('another-secret-another-secret-another-0', { key: 'x'.repeat(32), purpose: 'unsubscribe', version: 0, expires: 0, extra: '' });
    const before = await counts();
    for (const t of [flipped, forged, unknownKeyForged, `${payload}x.${sig}`]) {
      const url = `${ctx.app.url}/unsubscribe/${t}`;
      for (const res of [await fetch(url), await oneClick(url), await webPost(url)]) {
        expect(res.status, t).toBe(400);
        const text = await res.text();
        expect(text).not.toContain(email);
        expect(text).not.toContain('not subscribed');
      }
    }
    expect(await findByEmail(ctx.app.database, email)).toEqual(s);
    expect(await counts()).toEqual(before);
  });
});
