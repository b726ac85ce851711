import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importSubscribers } from '../../src/subscribers/subscriber-admin.js';
import { parseSubscriberCsv } from '../../src/subscribers/subscriber-csv.js';
import { consentLog, findByEmail, insertSubscriber, updateSubscriber } from '../../src/subscribers/subscriber-repo.js';
import { Preferences } from '../../src/subscribers/subscription-input.js';
import { databaseEnv, linkIn, runCli, startPaperboy, startSmtp, tempDatabase, tempDir } from '../helpers.js';

// Issue 10, item 4: suppressed stays suppressed.

describe('POST /api/subscriptions for suppressed addresses', () => {
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
  beforeEach(() => void (smtp.received.length = 0));

  const api = (body: object) => fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const form = (url: string) => fetch(url.replace('https://paperboy.example', app.url), { method: 'POST', body: new URLSearchParams() });
  const ACCEPTED = '{"status":"accepted","message":"If this address can receive mail, a message from Paperboy is on its way."}';

  it('when the address bounced, then the answer is the same 202, no mail goes out and nothing changes', async () => {
    const now = new Date().toISOString();
    const s = await insertSubscriber(app.database, 'bounced@example.org', 'active', Preferences.parse({ topics: ['interpretability'] }), now);
    await updateSubscriber(app.database, s.id, { status: 'bounced' }, now);
    const before = (await findByEmail(app.database, 'bounced@example.org'))!;
    const res = await api({ email: 'bounced@example.org', topics: ['agents'], keywords: ['Call +1 555 0100 to claim a prize'] });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe(ACCEPTED);
    await app.outbound.run();
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received).toHaveLength(0);
    expect(await findByEmail(app.database, 'bounced@example.org')).toEqual(before);
    expect(await app.database.get("SELECT count(*) AS n FROM outbound_mail WHERE recipient = 'bounced@example.org'")).toEqual({ n: 0 });
  });

  it('when the address unsubscribed, then its preferences change only once the confirmation is clicked, and the mail quotes none of the typed text', async () => {
    await api({ email: 'left@example.org', topics: ['interpretability'] });
    const [first] = await smtp.waitFor(1);
    await form(linkIn(first!.parsed.text, 'confirm'));
    await form(app.links.unsubscribeUrl((await findByEmail(app.database, 'left@example.org'))!));
    const unsubscribed = (await findByEmail(app.database, 'left@example.org'))!;
    const typed = 'Call +1 555 0100 to claim a prize';
    const res = await api({ email: 'left@example.org', topics: ['agents'], keywords: [typed], exclude: ['visit evil.example now'], frequency: 'weekly' });
    expect(await res.text()).toBe(ACCEPTED);
    const [, mail] = await smtp.waitFor(2);
    expect(mail!.parsed.subject).toBe('Confirm your Paperboy subscription');
    for (const part of [mail!.parsed.text, mail!.parsed.html as string, mail!.parsed.subject]) {
      expect(part).not.toContain('555 0100');
      expect(part).not.toContain('evil.example');
    }
    const waiting = (await findByEmail(app.database, 'left@example.org'))!;
    expect(waiting.status).not.toBe('active');
    expect(waiting).toMatchObject({ topics: unsubscribed.topics, keywords: [], exclude: [], frequency: 'daily', unsubscribedAt: unsubscribed.unsubscribedAt });
    // The confirm page names catalogue topics but not typed text either.
    const link = linkIn(mail!.parsed.text, 'confirm');
    const page = await (await fetch(link.replace('https://paperboy.example', app.url))).text();
    expect(page).toContain('LLM agents &amp; tool use and 1 keyword of your own');
    expect(page).not.toContain('555 0100');
    await form(link);
    expect(await findByEmail(app.database, 'left@example.org')).toMatchObject({ status: 'active', topics: ['agents'], keywords: [typed], exclude: ['visit evil.example now'], frequency: 'weekly', unsubscribedAt: null, requestedPrefs: null });
  });

  it('when someone else asked for an unsubscribed address with their preferences, then the reader\'s own "Subscribe again" drops them', async () => {
    await api({ email: 'mine@example.org', topics: ['interpretability'] });
    const [first] = await smtp.waitFor(1);
    await form(linkIn(first!.parsed.text, 'confirm'));
    const unsubscribe = app.links.unsubscribeUrl((await findByEmail(app.database, 'mine@example.org'))!);
    await form(unsubscribe);
    await api({ email: 'mine@example.org', topics: ['agents'], keywords: ['someone else typed this'] });
    await smtp.waitFor(2);
    await form(`${unsubscribe}/resubscribe`);
    const [, , mail] = await smtp.waitFor(3);
    await form(linkIn(mail!.parsed.text, 'confirm'));
    expect(await findByEmail(app.database, 'mine@example.org')).toMatchObject({ status: 'active', topics: ['interpretability'], keywords: [] });
  });
});

describe('subscribers import never overrides an unsubscribe or a bounce', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  const at = '2026-11-01T00:00:00.000Z';
  beforeEach(async () => {
    db = await tempDatabase();
    const prefs = Preferences.parse({ topics: ['interpretability'] });
    for (const [email, status] of [['unsub@example.org', 'unsubscribed'], ['bounce@example.org', 'bounced'], ['asked-back@example.org', 'unsubscribed']] as const) {
      const s = await insertSubscriber(db, email, 'active', prefs, at);
      await updateSubscriber(db, s.id, { status, unsubscribedAt: status === 'unsubscribed' ? at : null }, at);
    }
    // Unsubscribed, then someone asked for it back and nobody clicked the confirmation yet.
    await updateSubscriber(db, (await findByEmail(db, 'asked-back@example.org'))!.id, { status: 'pending' }, at);
  });
  afterEach(() => db.cleanup());

  const EMAILS = ['unsub@example.org', 'bounce@example.org', 'asked-back@example.org'];
  const snapshot = () => Promise.all(EMAILS.map((e) => findByEmail(db, e)));
  const csvs = {
    'no status column': 'email,topics\nunsub@example.org,agents\nbounce@example.org,agents\nasked-back@example.org,agents\nnew@example.org,agents\n',
    'status active': 'email,status,topics\nunsub@example.org,active,agents\nbounce@example.org,active,agents\nasked-back@example.org,active,agents\nnew@example.org,active,agents\n',
    'status pending': 'email,status,topics\nunsub@example.org,pending,agents\nbounce@example.org,pending,agents\nasked-back@example.org,pending,agents\nnew@example.org,pending,agents\n',
  };

  for (const [name, csv] of Object.entries(csvs)) {
    for (const confirmed of [false, true]) {
      it(`when the CSV has ${name}${confirmed ? ' and --confirmed is given' : ''}, then suppressed rows are left exactly as they are`, async () => {
        const before = await snapshot();
        const counts = (await importSubscribers(db, parseSubscriberCsv(csv, 'in.csv'), { confirmed }, new Date()));
        expect(counts).toMatchObject({ added: 1, updated: 0, suppressed: 3 });
        expect(await snapshot()).toEqual(before);
        const mailed = (await db.all<{ recipient: string }>('SELECT recipient FROM outbound_mail ORDER BY id')).map((r) => r.recipient);
        expect(mailed).toEqual(confirmed && name !== 'status pending' ? [] : ['new@example.org']);
      });
    }
  }

  it('when --override-suppression is given, then the rows are re-added and the consent log says so', async () => {
    const counts = (await importSubscribers(db, parseSubscriberCsv(csvs['no status column'], 'in.csv'), { confirmed: true, overrideSuppression: true }, new Date()));
    expect(counts).toMatchObject({ added: 1, updated: 3, suppressed: 0, overridden: 3 });
    for (const e of EMAILS) {
      const s = (await findByEmail(db, e))!;
      expect(s).toMatchObject({ status: 'active', topics: ['agents'], unsubscribedAt: null });
      const log = (await consentLog(db, s.id)).map((x) => [x.event, x.method]);
      expect(log.some(([event, method]) => event!.startsWith('suppression_overridden_') && method === 'csv-confirmed-override-suppression')).toBe(true);
    }
  });

  it('when a CSV marks a row unsubscribed or bounced, then that is applied (suppressing is always allowed)', async () => {
    await importSubscribers(db, parseSubscriberCsv('email,status,topics\nnew@example.org,bounced,agents\n', 'in.csv'), { confirmed: true }, new Date());
    expect((await findByEmail(db, 'new@example.org'))!.status).toBe('bounced');
  });
});

describe('paperboy subscribers import (CLI)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  let env: Record<string, string>;
  beforeAll(async () => void (env = { ...(await databaseEnv(tmp.dir, 'subs')), OUTBOX_DIR: join(tmp.dir, 'outbox') }));

  it('keeps an unsubscribed reader unsubscribed with --confirmed, and re-adds it only with --override-suppression', () => {
    const file = join(tmp.dir, 'list.csv');
    writeFileSync(file, 'email,status,topics\nkeep@example.org,unsubscribed,agents\n');
    expect(runCli(['subscribers', 'import', file, '--confirmed'], env).code).toBe(0);
    writeFileSync(file, 'email,topics\nkeep@example.org,agents\n');
    const plain = runCli(['subscribers', 'import', file, '--confirmed'], env);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('1 unsubscribed or bounced addresses left as they are (--override-suppression re-adds them)');
    const list = () => JSON.parse(runCli(['subscribers', 'list', '--json'], env).stdout) as { email: string; status: string }[];
    expect(list()).toMatchObject([{ email: 'keep@example.org', status: 'unsubscribed' }]);
    const forced = runCli(['subscribers', 'import', file, '--confirmed', '--override-suppression'], env);
    expect(forced.code).toBe(0);
    expect(list()).toMatchObject([{ email: 'keep@example.org', status: 'active' }]);
  });
});
