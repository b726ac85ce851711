import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueSilenceNotes } from '../../src/email/silence-notes.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { firstDelivery, formatDelivery } from '../../src/web/first-delivery.js';
import { linkIn, startPaperboy, startSmtp } from '../helpers.js';

type App = Awaited<ReturnType<typeof startPaperboy>>;

describe('no silent failure', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: App;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example' });
    await loadSampleIfEmpty(app.database, new Date());
  });
  afterAll(async () => {
    await app.stop();
    await smtp.close();
  });

  const preview = (q: string) => fetch(`${app.url}/api/preview?${q}`);

  it('the live preview counts last week\'s papers for typed interests, with the top titles, and warns on none', async () => {
    const res = await preview('keywords=sparse%20autoencoders,%20GRPO&topics=diffusion-models');
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { days: number; count: number; papers: { title: string }[]; warning: string | null };
    expect(answer.days).toBe(7);
    expect(answer.count).toBeGreaterThan(3);
    expect(answer.papers.length).toBe(3);
    expect(answer.papers[0]!.title).toEqual(expect.any(String));
    expect(answer.warning).toBeNull();
    const none = (await (await preview("keywords=zzqx%20flibbertigibbet")).json()) as { warning: string };
    expect(none).toMatchObject({ count: 0, papers: [] });
    expect(none.warning).toMatch(/no digest/);
    // Bad input: 400 naming the field; no interest at all: 400 too.
    const bad = await preview('topics=no-such-topic');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { issues: { field: string }[] } }).error.issues[0]!.field).toMatch(/^topics/);
    expect((await preview('')).status).toBe(400);
    // It takes no address: nothing about subscribers can be learned from it.
    expect((await preview('email=someone@example.org&keywords=GRPO')).status).toBe(200);
  });

  it('the live preview is rate-limited per client', async () => {
    let limited = 0;
    for (let i = 0; i < 125; i++) if ((await preview(`keywords=GRPO${i % 3 ? '' : ',agents'}`)).status === 429) limited++;
    expect(limited).toBeGreaterThan(0);
  });

  it('the confirmed page states the first delivery in the reader\'s time zone', async () => {
    // Daily at 08:00 in Berlin, confirming at 09:00 Berlin time: tomorrow 08:00; at 07:00: today.
    const s = { frequency: 'daily' as const, weekday: 1, hour: 8, timezone: 'Europe/Berlin' };
    expect(firstDelivery(s, new Date('2026-12-01T08:00:00Z'))!.toISOString()).toBe('2026-12-02T07:00:00.000Z');
    expect(firstDelivery(s, new Date('2026-12-01T06:00:00Z'))!.toISOString()).toBe('2026-12-01T07:00:00.000Z');
    expect(formatDelivery(new Date('2026-12-02T07:00:00Z'), 'Europe/Berlin')).toBe('Wednesday 2 December at 08:00 (Europe/Berlin)');
    // Weekly on Friday at 07:00 in Kolkata (UTC+5:30).
    const w = firstDelivery({ frequency: 'weekly', weekday: 5, hour: 7, timezone: 'Asia/Kolkata' }, new Date('2026-12-01T08:00:00Z'))!;
    expect(formatDelivery(w, 'Asia/Kolkata')).toBe('Friday 4 December at 07:00 (Asia/Kolkata)');

    await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'first@example.org', topics: ['agents'], hour: 7, timezone: 'America/New_York' }) });
    const [mail] = await smtp.waitFor(1);
    const confirm = linkIn(mail!.parsed.text, 'confirm').replace('https://paperboy.example', app.url);
    const page = await (await fetch(confirm, { method: 'POST' })).text();
    expect(page).toMatch(/Your first digest arrives <strong id="first-delivery">\w+day \d+ \w+ at 07:00 \(America\/New_York\)<\/strong>/);
  });

  it('a reader whose digests found nothing for 7 days gets one note with a link to widen interests, once per stretch, and can turn it off', async () => {
    const before = smtp.received.length;
    const insert = (...args: string[]) =>
      app.database.run(
        `INSERT INTO subscribers (email, status, topics, keywords, exclude, hour, timezone, frequency, created_at, updated_at, confirmed_at, link_key)
         VALUES (?, 'active', '[]', '["zzqx"]', '[]', 8, 'UTC', ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', ?)`,
        args,
      );
    await insert('quiet@example.org', 'daily', 'quietquietquietquiet01');
    await insert('almost@example.org', 'daily', 'almostalmostalmost0001');
    await insert('weekly@example.org', 'weekly', 'weeklyweeklyweekly0001');
    const skip = (...args: (string | number)[]) =>
      app.database.run("INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, created_at, finished_at) VALUES (?, ?, ?, '', '[]', '2026-11-01', ?, ?)", args);
    const ids = new Map<string, number>();
    for (const e of ['quiet@example.org', 'almost@example.org', 'weekly@example.org']) ids.set(e, (await findByEmail(app.database, e))!.id);
    const id = (e: string) => ids.get(e)!;
    const day = (n: number) => `2026-11-${String(n).padStart(2, '0')}`;
    for (let d = 24; d <= 30; d++) await skip(id('quiet@example.org'), day(d), 'skipped', `${day(d)}T08:00:00Z`, `${day(d)}T08:00:00Z`);
    // Six silent days after a digest: not a whole week yet.
    await skip(id('almost@example.org'), day(24), 'sent', `${day(24)}T08:00:00Z`, `${day(24)}T08:00:00Z`);
    for (let d = 25; d <= 30; d++) await skip(id('almost@example.org'), day(d), 'skipped', `${day(d)}T08:00:00Z`, `${day(d)}T08:00:00Z`);
    for (const w of [45, 46, 47, 48]) await skip(id('weekly@example.org'), `2026-W${w}`, 'skipped', `2026-11-30T08:00:00Z`, `2026-11-30T08:00:00Z`);

    const now = new Date('2026-11-30T12:00:00Z');
    expect(await queueSilenceNotes(app.database, now)).toBe(2);
    await app.outbound.run();
    const notes = (await smtp.waitFor(before + 2)).slice(before);
    expect(notes.map((m) => m.envelopeTo[0]).sort()).toEqual(['quiet@example.org', 'weekly@example.org']);
    const note = notes.find((m) => m.envelopeTo[0] === 'quiet@example.org')!;
    expect(note.parsed.subject).toBe('Paperboy found nothing for you lately');
    expect(note.parsed.text).toContain('“zzqx”');
    const manage = linkIn(note.parsed.text, 'manage');
    expect(note.parsed.html).toContain('Widen my interests');

    // Once per stretch: the next day's check sends nothing more.
    await skip(id('quiet@example.org'), '2026-12-01', 'skipped', '2026-12-01T08:00:00Z', '2026-12-01T08:00:00Z');
    expect(await queueSilenceNotes(app.database, new Date('2026-12-01T12:00:00Z'))).toBe(0);

    // Turned off on the manage page (the box unticked), a new stretch stays quiet.
    const page = await (await fetch(manage.replace('https://paperboy.example', app.url))).text();
    expect(page).toMatch(/name="silenceNotes" value="on" checked/);
    const save = await fetch(manage.replace('https://paperboy.example', app.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=save&keywords=zzqx' });
    expect(save.status).toBe(200);
    expect(await save.text()).not.toMatch(/name="silenceNotes" value="on" checked/);
    await skip(id('quiet@example.org'), '2026-12-02', 'sent', '2026-12-02T08:00:00Z', '2026-12-02T08:00:00Z');
    for (let d = 3; d <= 9; d++) await skip(id('quiet@example.org'), `2026-12-0${d}`, 'skipped', '2026-12-09T08:00:00Z', '2026-12-09T08:00:00Z');
    expect(await queueSilenceNotes(app.database, new Date('2026-12-09T12:00:00Z'))).toBe(0);
  });
});
