import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeSubscriber } from '../../src/subscribers/subscriber-admin.js';
import { consentLog, findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { linkIn, startPaperboy, startSmtp } from '../helpers.js';

// Issue 10, items 1 and 3: a link belongs to one person forever, and revoking links revokes them.

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let app: Awaited<ReturnType<typeof startPaperboy>>;
const SECRET = 'test-secret-test-secret-test-secret-0123';

beforeEach(async () => {
  smtp = await startSmtp();
  app = await startPaperboy({ SMTP_URL: smtp.url, RATE_LIMITS: 'false', PUBLIC_URL: 'https://paperboy.example' });
});
afterEach(async () => {
  await app.stop();
  await smtp.close();
});

const local = (url: string) => url.replace('https://paperboy.example', app.url);
const get = (url: string) => fetch(local(url), { redirect: 'manual' });
const form = (url: string, fields: Record<string, string> = {}) => fetch(local(url), { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });

/** Signs up through the API and returns the confirmation link from the mail. */
async function signUp(email: string, body: object = { topics: ['interpretability'] }): Promise<string> {
  const before = smtp.received.length;
  const res = await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, ...body }) });
  expect(res.status).toBe(202);
  const mails = (await smtp.waitFor(before + 1)).slice(before);
  return linkIn(mails.find((m) => m.envelopeTo[0] === email)!.parsed.text, 'confirm');
}

/** Every kind of link a reader holds: confirm (while pending), manage, unsubscribe, digest. */
async function linksOf(email: string, confirm: string) {
  const s = (await findByEmail(app.database, email))!;
  return { id: s.id, confirm, manage: app.links.manageUrl(s), unsubscribe: app.links.unsubscribeUrl(s), digest: app.links.digestUrl(s, '2026-11-24') };
}

async function expectDeadLinks(old: Awaited<ReturnType<typeof linksOf>>, victim: string) {
  const victimBefore = (await findByEmail(app.database, victim))!;
  for (const url of [old.confirm, old.manage, old.digest]) {
    const page = await get(url);
    expect(page.status, url).toBe(400);
    const html = await page.text();
    expect(html).toMatch(/no longer valid/);
    expect(html).not.toContain(victim);
  }
  expect((await form(old.confirm)).status).toBe(400);
  // Unsubscribe links keep working forever: a deleted reader's says "not subscribed" (200) and acts on nobody.
  for (const res of [await get(old.unsubscribe), await form(old.unsubscribe)]) {
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('You are not subscribed');
    expect(html).not.toContain(victim);
  }
  expect((await form(old.manage, { action: 'save', topics: 'agents' })).status).toBe(400);
  expect((await form(old.manage, { action: 'reset-links' })).status).toBe(400);
  const victimAfter = (await findByEmail(app.database, victim))!;
  expect(victimAfter).toEqual(victimBefore);
  expect((await consentLog(app.database, victimAfter.id)).map((e) => e.event)).toEqual(['subscribe_requested']);
}

describe('a deleted subscriber\'s links', () => {
  it('when a different address signs up after the deletion, then the old links do nothing for it', async () => {
    const confirm = await signUp('gone@example.org');
    const old = await linksOf('gone@example.org', confirm);
    expect(await removeSubscriber(app.database, 'gone@example.org')).toBe(true);
    await signUp('next@example.org', { topics: ['agents'], keywords: ['muon'] });
    const next = (await findByEmail(app.database, 'next@example.org'))!;
    expect(next.id).toBeGreaterThan(old.id); // ids are never reused
    await expectDeadLinks(old, 'next@example.org');
    expect(next.status).toBe('pending');
  });

  it('when the same address signs up again after the deletion, then the old links do nothing either', async () => {
    const confirm = await signUp('back@example.org');
    await form(confirm);
    const old = await linksOf('back@example.org', confirm);
    expect(await removeSubscriber(app.database, 'back@example.org')).toBe(true);
    await signUp('back@example.org');
    await expectDeadLinks(old, 'back@example.org');
  });

  it('when links were signed before link keys existed, then only an unsubscribe link of a row from then still works', async () => {
    // The pre-0003 format: "<id>|purpose|version|expires|extra", signed the same way.
    const legacy = (id: number, purpose: string) => {
      const payload = Buffer.from(`${id}|${purpose}|1|0|`).toString('base64url');
      return `${payload}.${createHmac('sha256', SECRET).update(`paperboy-token:${payload}`).digest('base64url')}`;
    };
    await form(await signUp('old@example.org'));
    const s = (await findByEmail(app.database, 'old@example.org'))!;
    // A new row never accepts id-named links; a row that existed at the migration does, for unsubscribing only.
    // (The id-named link's own reader is gone: "not subscribed", and the row with that id is left alone.)
    const notHis = await form(`${app.url}/unsubscribe/${legacy(s.id, 'unsubscribe')}`);
    expect([notHis.status, await notHis.text()]).toEqual([200, expect.stringContaining('You are not subscribed')]);
    expect((await findByEmail(app.database, 'old@example.org'))!.status).toBe('active');
    await app.database.run('UPDATE subscribers SET legacy_links = 1 WHERE id = ?', [s.id]);
    expect((await get(`${app.url}/manage/${legacy(s.id, 'manage')}`)).status).toBe(400);
    expect((await form(`${app.url}/unsubscribe/${legacy(s.id, 'unsubscribe')}`)).status).toBe(200);
    expect((await findByEmail(app.database, 'old@example.org'))!.status).toBe('unsubscribed');
  });
});

describe('revoked links and resubscribing', () => {
  async function activeReader(email: string) {
    await form(await signUp(email));
    return (await findByEmail(app.database, email))!;
  }

  it('when an old unsubscribe link is used after "Invalidate old links", then no page shows a manage link', async () => {
    const s = await activeReader('forwarded@example.org');
    const oldUnsubscribe = app.links.unsubscribeUrl(s);
    const oldManage = app.links.manageUrl(s);
    expect((await form(oldManage, { action: 'reset-links' })).status).toBe(303);
    const page = await get(oldUnsubscribe);
    expect(page.status).toBe(200);
    expect(await page.text()).not.toMatch(/\/manage\//);
    const done = await form(oldUnsubscribe);
    expect(done.status).toBe(200);
    const html = await done.text();
    expect(html).toContain('unsubscribed');
    expect(html).not.toMatch(/\/manage\//);
    expect((await get(oldUnsubscribe)).status).toBe(200);
    expect(await (await get(oldUnsubscribe)).text()).not.toMatch(/\/manage\//);
    expect((await get(oldManage)).status).toBe(400);
  });

  it('when "Subscribe again" is pressed on the unsubscribe page, then a confirmation is mailed and nothing starts until it is clicked', async () => {
    const s = await activeReader('regret@example.org');
    const unsubscribe = app.links.unsubscribeUrl(s);
    await form(unsubscribe);
    const before = smtp.received.length;
    const res = await form(`${unsubscribe}/resubscribe`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Check your inbox');
    const [mail] = (await smtp.waitFor(before + 1)).slice(before);
    expect(mail!.parsed.subject).toBe('Confirm your Paperboy subscription');
    expect((await findByEmail(app.database, 'regret@example.org'))!.status).not.toBe('active');
    await form(linkIn(mail!.parsed.text, 'confirm'));
    expect((await findByEmail(app.database, 'regret@example.org'))!.status).toBe('active');
    expect((await consentLog(app.database, s.id)).map((e) => e.event)).toEqual(['subscribe_requested', 'confirmed', 'unsubscribed', 'resubscribe_requested', 'confirmed']);
  });

  it('when "Subscribe again" is pressed on the manage page of an unsubscribed reader, then it needs a fresh confirmation too', async () => {
    const s = await activeReader('manage-back@example.org');
    await form(app.links.unsubscribeUrl(s));
    const current = (await findByEmail(app.database, 'manage-back@example.org'))!;
    const before = smtp.received.length;
    const res = await form(app.links.manageUrl(current), { action: 'resubscribe' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('confirmation link');
    const [mail] = (await smtp.waitFor(before + 1)).slice(before);
    expect(mail!.envelopeTo).toEqual(['manage-back@example.org']);
    expect((await findByEmail(app.database, 'manage-back@example.org'))!.status).toBe('pending');
    await form(linkIn(mail!.parsed.text, 'confirm'));
    expect((await findByEmail(app.database, 'manage-back@example.org'))!.status).toBe('active');
  });
});
