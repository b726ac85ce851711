import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailHash, recordBounce } from '../../src/bounces/suppression.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { runCli, startPaperboy } from '../helpers.js';

describe("readers' data rights", () => {
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  beforeAll(async () => {
    app = await startPaperboy({ RATE_LIMITS: 'false' });
    loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
  });
  afterAll(() => app.stop());

  /** An active reader with a consent log and one delivered digest of two papers. */
  function reader(email: string) {
    const { sqlite } = app.database;
    const at = '2026-11-01T08:00:00.000Z';
    const id = Number(
      sqlite.prepare("INSERT INTO subscribers (email, status, topics, keywords, created_at, updated_at, confirmed_at) VALUES (?, 'active', '[\"interpretability\"]', '[\"sparse autoencoders\"]', ?, ?, ?)").run(email, at, at, at).lastInsertRowid,
    );
    sqlite.prepare("INSERT INTO consent_events (subscriber_id, event, method, ip, at) VALUES (?, 'subscribe_requested', 'web', '192.0.2.7', ?), (?, 'confirmed', 'web', '192.0.2.7', ?)").run(id, at, id, at);
    const papers = sqlite.prepare('SELECT pk, title FROM papers ORDER BY pk LIMIT 2').all() as { pk: number; title: string }[];
    const items = JSON.stringify(papers.map((p) => ({ pk: p.pk, score: 1, why: 'x', words: [], interests: [] })));
    const d = Number(sqlite.prepare("INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, created_at, finished_at) VALUES (?, '2026-11-02', 'sent', 'm', ?, ?, ?, ?)").run(id, items, at, at, at).lastInsertRowid);
    for (const p of papers) sqlite.prepare('INSERT INTO sent_papers (subscriber_id, paper_pk, delivery_id) VALUES (?, ?, ?)').run(id, p.pk, d);
    const s = findByEmail(app.database, email)!;
    return { id, papers, manage: app.links.manageUrl(s).replace(/^https?:\/\/[^/]+/, app.url) };
  }

  /** Whether the address appears anywhere in the database, in any column of any table. */
  function addressAnywhere(email: string): string[] {
    const { sqlite } = app.database;
    const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'papers_fts%' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
    return tables.filter((t) => {
      const cols = (sqlite.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name);
      return cols.some((c) => sqlite.prepare(`SELECT 1 FROM ${t} WHERE CAST(${c} AS TEXT) LIKE ? LIMIT 1`).get(`%${email}%`));
    });
  }

  it('when a reader downloads their data from the manage link, then they get everything as a JSON attachment; the manage page itself is unchanged', async () => {
    const r = reader('ada@example.org');
    const res = await fetch(`${r.manage}?data`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const data = (await res.json()) as { subscriber: unknown; consentLog: { event: string; ip: string }[]; deliveries: { papers: { title: string }[] }[] };
    expect(data.subscriber).toMatchObject({ email: 'ada@example.org', status: 'active', topics: ['interpretability'], keywords: ['sparse autoencoders'] });
    expect(data.consentLog.map((e: { event: string }) => e.event)).toEqual(['subscribe_requested', 'confirmed']);
    expect(data.consentLog[0]!.ip).toBe('192.0.2.7');
    expect(data.deliveries[0]!.papers.map((p: { title: string }) => p.title).sort()).toEqual(r.papers.map((p) => p.title).sort());
    const page = await fetch(r.manage);
    expect(await page.text()).toContain('Your subscription');
    expect((await fetch(`${app.url}/manage/not-a-token?data`)).status).toBe(400);
  });

  it('when a reader deletes their data, then it asks first, and after the confirmed POST nothing about them is left and the link is dead', async () => {
    const r = reader('grace@example.org');
    const ask = await (await fetch(`${r.manage}?delete`)).text();
    expect(ask).toContain('Yes, delete everything');
    const unconfirmed = await fetch(`${r.manage}?delete`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(unconfirmed.status).toBe(400);
    expect(findByEmail(app.database, 'grace@example.org')).toBeDefined();
    const done = await fetch(`${r.manage}?delete`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Your data is deleted');
    expect(addressAnywhere('grace@example.org')).toEqual([]);
    const { sqlite } = app.database;
    for (const t of ['consent_events', 'deliveries', 'sent_papers', 'outbound_mail']) expect(sqlite.prepare(`SELECT count(*) AS n FROM ${t} WHERE subscriber_id = ?`).get(r.id)).toEqual({ n: 0 });
    expect((await fetch(`${r.manage}?data`)).status).toBe(400);
  });

  it('when a bounced reader is deleted, then only a hash of the address stays on the suppression list', async () => {
    const r = reader('gone@example.org');
    recordBounce(app.database, { provider: 'postmark', eventId: 'x1', kind: 'hard_bounce', email: 'gone@example.org' }, { count: 3, windowDays: 7 }, new Date());
    const res = await fetch(`${r.manage}?delete`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(res.status).toBe(200);
    expect(addressAnywhere('gone@example.org')).toEqual([]);
    expect(app.database.sqlite.prepare('SELECT reason, source, subscriber_id AS sid FROM suppressions WHERE email_hash = ?').get(emailHash('gone@example.org'))).toEqual({ reason: 'hard_bounce', source: 'postmark', sid: null });
  });

  it('when an operator exports or removes a reader from the CLI, then they get the same JSON and the same deletion', () => {
    reader('cli@example.org');
    const env = { DATABASE_PATH: join(app.dir, 'paperboy.db') };
    const exported = runCli(['subscribers', 'export', '--email', 'cli@example.org', '--json'], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ subscriber: { email: 'cli@example.org' }, consentLog: [{ event: 'subscribe_requested' }, { event: 'confirmed' }] });
    expect(runCli(['subscribers', 'export', '--email', 'cli@example.org'], env).code).toBe(2);
    expect(runCli(['subscribers', 'export', '--email', 'nobody@example.org', '--json'], env).code).toBe(2);
    app.database.sqlite.prepare("UPDATE subscribers SET status = 'bounced' WHERE email = 'cli@example.org'").run();
    expect(runCli(['subscribers', 'remove', 'cli@example.org'], env).code).toBe(0);
    expect(addressAnywhere('cli@example.org')).toEqual([]);
    expect(app.database.sqlite.prepare('SELECT reason, source FROM suppressions WHERE email_hash = ?').get(emailHash('cli@example.org'))).toEqual({ reason: 'hard_bounce', source: 'smtp' });
  });
});

describe('the manage page links to the data requests', () => {
  it('when a reader opens their manage page, then it links to the download and the deletion on the same link', async () => {
    const app = await startPaperboy({ RATE_LIMITS: 'false' });
    try {
      const at = '2026-11-01T08:00:00.000Z';
      app.database.sqlite.prepare("INSERT INTO subscribers (email, status, topics, created_at, updated_at, confirmed_at) VALUES ('link@example.org', 'active', '[\"interpretability\"]', ?, ?, ?)").run(at, at, at);
      const manage = app.links.manageUrl(findByEmail(app.database, 'link@example.org')!).replace(/^https?:\/\/[^/]+/, app.url);
      const html = await (await fetch(manage)).text();
      expect(html).toContain('href="?data"');
      expect(html).toContain('href="?delete"');
    } finally {
      await app.stop();
    }
  });
});
