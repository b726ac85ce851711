import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailHash, recordBounce } from '../../src/bounces/suppression.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { runCli, startPaperboy } from '../helpers.js';

describe("readers' data rights", () => {
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  beforeAll(async () => {
    app = await startPaperboy({ RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
  });
  afterAll(() => app.stop());

  /** An active reader with a consent log and one delivered digest of two papers. */
  async function reader(email: string) {
    const db = app.database;
    const at = '2026-11-01T08:00:00.000Z';
    const { id } = (await db.get<{ id: number }>(
      "INSERT INTO subscribers (email, status, topics, keywords, created_at, updated_at, confirmed_at) VALUES (?, 'active', '[\"interpretability\"]', '[\"sparse autoencoders\"]', ?, ?, ?) RETURNING id",
      [email, at, at, at],
    ))!;
    await db.run("INSERT INTO consent_events (subscriber_id, event, method, ip, at) VALUES (?, 'subscribe_requested', 'web', '192.0.2.7', ?), (?, 'confirmed', 'web', '192.0.2.7', ?)", [id, at, id, at]);
    const papers = await db.all<{ pk: number; title: string }>('SELECT pk, title FROM papers ORDER BY pk LIMIT 2');
    const items = JSON.stringify(papers.map((p) => ({ pk: p.pk, score: 1, why: 'x', words: [], interests: [] })));
    const d = (await db.get<{ id: number }>(
      "INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, created_at, finished_at) VALUES (?, '2026-11-02', 'sent', 'm', ?, ?, ?, ?) RETURNING id",
      [id, items, at, at, at],
    ))!.id;
    for (const p of papers) await db.run('INSERT INTO sent_papers (subscriber_id, paper_pk, delivery_id) VALUES (?, ?, ?)', [id, p.pk, d]);
    const s = (await findByEmail(app.database, email))!;
    return { id, papers, manage: app.links.manageUrl(s).replace(/^https?:\/\/[^/]+/, app.url) };
  }

  /** Whether the address appears anywhere in the database, in any column of any table (of either engine's catalogue). */
  async function addressAnywhere(email: string): Promise<string[]> {
    const db = app.database;
    const columns =
      db.dialect === 'sqlite'
        ? await db.all<{ t: string; c: string }>(
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'papers_fts%' AND m.name NOT LIKE 'sqlite_%'",
          )
        : await db.all<{ t: string; c: string }>('SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = current_schema()');
    const found = new Set<string>();
    for (const { t, c } of columns) {
      if (await db.get(`SELECT 1 AS hit FROM "${t}" WHERE lower(CAST("${c}" AS TEXT)) LIKE lower(?) LIMIT 1`, [`%${email}%`])) found.add(t);
    }
    return [...found];
  }

  it('when a reader downloads their data from the manage link, then they get everything as a JSON attachment; the manage page itself is unchanged', async () => {
    const r = await reader('ada@example.org');
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
    const r = await reader('grace@example.org');
    const ask = await (await fetch(`${r.manage}?delete`)).text();
    expect(ask).toContain('Yes, delete everything');
    const unconfirmed = await fetch(`${r.manage}?delete`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(unconfirmed.status).toBe(400);
    expect(await findByEmail(app.database, 'grace@example.org')).toBeDefined();
    const done = await fetch(`${r.manage}?delete`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Your data is deleted');
    expect(await addressAnywhere('grace@example.org')).toEqual([]);
    for (const t of ['consent_events', 'deliveries', 'sent_papers', 'outbound_mail']) expect(await app.database.get(`SELECT count(*) AS n FROM ${t} WHERE subscriber_id = ?`, [r.id])).toEqual({ n: 0 });
    expect((await fetch(`${r.manage}?data`)).status).toBe(400);
  });

  it('when a bounced reader is deleted, then only a hash of the address stays on the suppression list', async () => {
    const r = await reader('gone@example.org');
    await recordBounce(app.database, { provider: 'postmark', eventId: 'x1', kind: 'hard_bounce', email: 'gone@example.org' }, { count: 3, windowDays: 7 }, new Date());
    const res = await fetch(`${r.manage}?delete`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(res.status).toBe(200);
    expect(await addressAnywhere('gone@example.org')).toEqual([]);
    expect(await app.database.get('SELECT reason, source, subscriber_id AS sid FROM suppressions WHERE email_hash = ?', [emailHash('gone@example.org')])).toEqual({ reason: 'hard_bounce', source: 'postmark', sid: null });
  });

  it('when an operator exports or removes a reader from the CLI, then they get the same JSON and the same deletion', async () => {
    await reader('cli@example.org');
    const env = app.dbEnv;
    const exported = runCli(['subscribers', 'export', '--email', 'cli@example.org', '--json'], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ subscriber: { email: 'cli@example.org' }, consentLog: [{ event: 'subscribe_requested' }, { event: 'confirmed' }] });
    expect(runCli(['subscribers', 'export', '--email', 'cli@example.org'], env).code).toBe(2);
    expect(runCli(['subscribers', 'export', '--email', 'nobody@example.org', '--json'], env).code).toBe(2);
    await app.database.run("UPDATE subscribers SET status = 'bounced' WHERE email = 'cli@example.org'");
    expect(runCli(['subscribers', 'remove', 'cli@example.org'], env).code).toBe(0);
    expect(await addressAnywhere('cli@example.org')).toEqual([]);
    expect(await app.database.get('SELECT reason, source FROM suppressions WHERE email_hash = ?', [emailHash('cli@example.org')])).toEqual({ reason: 'hard_bounce', source: 'smtp' });
  });
});

describe('the manage page links to the data requests', () => {
  it('when a reader opens their manage page, then it links to the download and the deletion on the same link', async () => {
    const app = await startPaperboy({ RATE_LIMITS: 'false' });
    try {
      const at = '2026-11-01T08:00:00.000Z';
      await app.database.run("INSERT INTO subscribers (email, status, topics, created_at, updated_at, confirmed_at) VALUES ('link@example.org', 'active', '[\"interpretability\"]', ?, ?, ?)", [at, at, at]);
      const manage = app.links.manageUrl((await findByEmail(app.database, 'link@example.org'))!).replace(/^https?:\/\/[^/]+/, app.url);
      const html = await (await fetch(manage)).text();
      expect(html).toContain('href="?data"');
      expect(html).toContain('href="?delete"');
    } finally {
      await app.stop();
    }
  });
});
