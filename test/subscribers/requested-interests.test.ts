import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
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

const local = (url: string) => url.replace('https://paperboy.example', app.url);
const post = (path: string, body: unknown) => fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const form = (url: string, fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) body.append(k, x);
  return fetch(local(url), { method: 'POST', body, redirect: 'manual' });
};
async function nextMail(send: () => Promise<Response>) {
  const before = smtp.received.length;
  const res = await send();
  const [mail] = (await smtp.waitFor(before + 1)).slice(before);
  return { res, mail: mail! };
}

describe('an active reader who signs up again with new interests', () => {
  it('gets the same answer as anyone, a manage email that quotes nothing typed, and the interests only after clicking Apply', async () => {
    const first = await nextMail(() => post('/api/subscriptions', { email: 'owner@example.org', topics: ['agents'], frequency: 'weekly', weekday: 4, hour: 7, timezone: 'Europe/Berlin' }));
    expect((await form(linkIn(first.mail.parsed.text, 'confirm'), {})).status).toBe(200);
    expect((await findByEmail(app.database, 'owner@example.org'))!.status).toBe('active');

    // No enumeration: an active address gets the byte-identical answer a new address gets, on the API and the form.
    const fresh = await nextMail(() => post('/api/subscriptions', { email: 'stranger@example.org', topics: ['graphs'] }));
    const again = await nextMail(() => post('/api/subscriptions', { email: 'owner@example.org', topics: ['diffusion-models'], keywords: ['zebra finch song'], exclude: ['medical'] }));
    expect(again.res.status).toBe(fresh.res.status);
    expect(await again.res.text()).toBe(await fresh.res.text());
    const formNew = (await nextMail(() => form(`${app.url}/subscribe`, { email: 'other@example.org', topics: 'graphs' }))).res;
    const formActive = (await nextMail(() => form(`${app.url}/subscribe`, { email: 'owner@example.org', topics: 'diffusion-models', keywords: 'zebra finch song' }))).res;
    expect(formActive.status).toBe(formNew.status);
    expect((await formActive.text()).replace('owner@', 'X@')).toBe((await formNew.text()).replace('other@', 'X@'));

    // The manage email says different interests were asked for, never which: the requester typed them.
    const mail = again.mail.parsed;
    expect(mail.subject).toBe('Your Paperboy subscription');
    expect(mail.text).toContain('Apply the interests you asked for');
    for (const part of [mail.text, String(mail.html)]) {
      expect(part).not.toMatch(/zebra|finch|medical|Diffusion/i);
    }

    // Nothing is applied yet, and showing the page changes nothing.
    const stored = async () => (await findByEmail(app.database, 'owner@example.org'))!;
    expect(await stored()).toMatchObject({ topics: ['agents'], keywords: [], frequency: 'weekly', weekday: 4 });
    const manage = linkIn(mail.text, 'manage');
    const page = await (await fetch(local(manage))).text();
    expect(page).toContain('Apply the interests you asked for');
    expect(page).toContain('zebra finch song');
    expect(await stored()).toMatchObject({ topics: ['agents'], keywords: [] });

    // The click applies the interests; the reader's schedule stays as it was.
    const applied = await (await form(manage, { action: 'apply-requested' })).text();
    expect(applied).toContain('The interests you asked for are now your interests.');
    expect(applied).not.toContain('id="apply-requested"');
    expect(await stored()).toMatchObject({ status: 'active', topics: ['diffusion-models'], keywords: ['zebra finch song'], exclude: [], frequency: 'weekly', weekday: 4, hour: 7, timezone: 'Europe/Berlin', requestedPrefs: null });
    // A second click (an old tab) changes nothing.
    expect(await (await form(manage, { action: 'apply-requested' })).text()).toContain('There were no requested interests to apply.');
  });

  it('a reader who saves their own preferences instead drops the waiting request', async () => {
    const first = await nextMail(() => post('/api/subscriptions', { email: 'saver@example.org', topics: ['agents'] }));
    await form(linkIn(first.mail.parsed.text, 'confirm'), {});
    const again = await nextMail(() => post('/api/subscriptions', { email: 'saver@example.org', topics: ['graphs'] }));
    const manage = linkIn(again.mail.parsed.text, 'manage');
    await form(manage, { action: 'save', topics: 'optimizers' });
    const page = await (await fetch(local(manage))).text();
    expect(page).not.toContain('Apply the interests you asked for');
    expect(await findByEmail(app.database, 'saver@example.org')).toMatchObject({ topics: ['optimizers'], requestedPrefs: null });
  });
});
