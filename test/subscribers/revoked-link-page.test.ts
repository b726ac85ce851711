import { describe, expect, it } from 'vitest';
import { removeSubscriber } from '../../src/subscribers/subscriber-admin.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { appWithRelay } from '../helpers.js';

// The page of a revoked link sends the reader somewhere real (the start page), not to "your most recent email".

const ctx = appWithRelay();

const { local } = ctx;

async function readerLinks(email: string) {
  const res = await fetch(`${ctx.app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, topics: ['agents'] }) });
  expect(res.status).toBe(202);
  const pending = (await findByEmail(ctx.app.database, email))!;
  expect((await fetch(local(ctx.app.links.confirmUrl(pending, new Date())), { method: 'POST' })).status).toBe(200);
  const s = (await findByEmail(ctx.app.database, email))!;
  return { unsubscribe: ctx.app.links.unsubscribeUrl(s), old: [ctx.app.links.manageUrl(s), ctx.app.links.feedUrl(s), ctx.app.links.feedbackUrl(s, '2401.00001', 'more')] };
}

async function expectPointsToStart(urls: string[], why: RegExp) {
  for (const url of urls) {
    const res = await fetch(local(url));
    expect(res.status, url).toBe(400);
    const html = await res.text();
    expect(html, url).not.toContain('most recent email');
    expect(html, url).toMatch(why);
    expect(html, url).toContain('start page');
    expect(html, url).toMatch(/<a class="button" href="\/">Go to the start page<\/a>/);
  }
}

describe('the page of a revoked link', () => {
  it('when the reader unsubscribed, then old manage, feed and feedback links say unsubscribing revoked them and link to the start page', async () => {
    const { unsubscribe, old } = await readerLinks('revoked-unsub@example.org');
    expect((await fetch(local(unsubscribe), { method: 'POST', body: new URLSearchParams() })).status).toBe(200);
    await expectPointsToStart(old, /Unsubscribing, deleting your data or “Invalidate old links” turns off the links in earlier emails/);
  });

  it('when the reader was removed, then the same links say deleting revoked them and link to the start page', async () => {
    const { old } = await readerLinks('revoked-removed@example.org');
    expect(await removeSubscriber(ctx.app.database, 'revoked-removed@example.org')).toBe(true);
    await expectPointsToStart(old, /deleting your data/);
  });
});
