import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertPapers } from '../../src/papers/paper-repo.js';
import type { PaperInput } from '../../src/papers/paper-record.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { linkIn, startPaperboy, startSmtp } from '../helpers.js';

const DAY1 = new Date('2026-11-24T10:00:00Z');
type App = Awaited<ReturnType<typeof startPaperboy>>;

/** A link's URL from an HTML part, by its exact text. */
const hrefOf = (html: string, text: string) => {
  const m = new RegExp(`<a href="([^"]+)"[^>]*>${text}</a>`).exec(html);
  return m ? m[1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&').replace(/&#61;/g, '=') : null;
};

describe('a sent digest: the email, its web copy and the reader\'s feed', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: App;
  let mail: Awaited<ReturnType<typeof smtp.waitFor>>[number];
  const local = (url: string) => url.replace('https://paperboy.example', app.url);

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    // A paper with no authors at all, and one published years before it started trending.
    const paper = (over: Partial<PaperInput>): PaperInput => ({ arxivId: null, title: 'T', abstract: '', authors: [], authorCount: null, organization: null, publishedAt: '2026-11-20', listedOn: null, upvotes: 0, comments: 0, keywords: [], urls: { page: null, abs: null, pdf: null, code: null }, source: 'test', ...over });
    await upsertPapers(app.database, [
      paper({ arxivId: '2611.09991', title: 'Orthogonal widgets for sparse autoencoders', abstract: 'We study widgets of every shape, in many settings, over many years of careful and patient work. Sparse autoencoders learn features of language models; widgets make them orthogonal.' }),
      paper({ arxivId: '1606.09992', title: 'Sparse autoencoders, the 2016 classic', abstract: 'Sparse autoencoders as they were first trained at scale.', publishedAt: '2016-06-01', upvotes: 90, authors: ['Ada Lovelace'] }),
    ], '2026-11-23T13:00:00Z');
    await app.database.run(
      `INSERT INTO subscribers (email, status, topics, keywords, exclude, hour, timezone, created_at, updated_at, confirmed_at, link_key)
       VALUES ('reader@example.org', 'active', '["diffusion-models"]', '["sparse autoencoders"]', '[]', 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'readerkeyreaderkey1234')`,
    );
    expect(await app.runDigests({ now: DAY1 })).toMatchObject({ sent: 1 });
    mail = (await smtp.waitFor(1))[0]!;
  });
  afterAll(async () => {
    await app.stop();
    await smtp.close();
  });

  it('is skimmable: subject leads with the top paper, titles listed first, short excerpts, per-paper feedback links, no stray labels', () => {
    const html = mail!.parsed.html as string;
    const text = mail!.parsed.text!;
    expect(mail!.parsed.subject!.length).toBeLessThanOrEqual(80);
    expect(mail!.parsed.subject).toMatch(/ \+ \d+ more · Tue 24 Nov$/);
    // The list of titles comes first and links to each paper below.
    const toc = [...html.matchAll(/<li[^>]*><a href="#p(\d+)"/g)].map((m) => m[1]);
    expect(toc.length).toBe(10);
    for (const pk of toc) expect(html).toContain(`id="p${pk}"`);
    expect(html.indexOf('href="#p')).toBeLessThan(html.indexOf('class="paper"'));
    expect(text).toMatch(/In this issue:\n 1\. .+\n 2\. /);
    // Every paper carries "More like this" and "Less like this" (HTML and text).
    expect(html.match(/>More like this<\/a>/g)).toHaveLength(10);
    expect(html.match(/>Less like this<\/a>/g)).toHaveLength(10);
    expect(text.match(/More like this: https:\/\/paperboy\.example\/feedback\/\S+choice=more/g)).toHaveLength(10);
    expect(text.match(/Less like this: https:\/\/paperboy\.example\/feedback\/\S+choice=less/g)).toHaveLength(10);
    // The paper without authors has no empty meta line and no "Paper" label.
    const block = text.split('\n• ').find((b) => b.startsWith('Orthogonal widgets'))!;
    expect(block).toBeDefined();
    expect(block.split('\n')[1]).toMatch(/^ {3}\S/);
    expect(block).not.toMatch(/^ +Paper$/m);
    expect(html).not.toMatch(/<p class="meta"[^>]*>\s*(·|<\/p>)/);
    // Excerpts are a couple of lines, centred on the match: the widget paper's excerpt starts at its matching sentence.
    expect(block).toContain('Sparse autoencoders learn features');
    expect(block).not.toContain('We study widgets');
    // The 2016 paper is labelled and does not lead over the fresh one.
    const old = text.split('\n• ').find((b) => b.startsWith('Sparse autoencoders, the 2016 classic'))!;
    expect(old).toContain('2016 · trending again');
    expect(text.indexOf('• Orthogonal widgets')).toBeLessThan(text.indexOf('• Sparse autoencoders, the 2016'));
    // Footer: view in browser and the personal feed.
    expect(hrefOf(html, 'View in browser')).toMatch(/^https:\/\/paperboy\.example\/digest\//);
    expect(hrefOf(html, 'Your Atom feed')).toMatch(/^https:\/\/paperboy\.example\/feed\//);
  });

  it('its feedback links (one signature per digest) rate the paper they sit under, and no paper outside that digest', async () => {
    const html = mail!.parsed.html as string;
    const more = hrefOf(html, 'More like this')!;
    const [, base, paperId] = /^(https:\/\/paperboy\.example\/feedback\/[^/?]+)\/([^/?]+)\?choice=more$/.exec(more) ?? [];
    expect(base && paperId).toBeTruthy();
    // Every paper's links share the digest's token and name their own paper.
    const ids = [...html.matchAll(/<a href="([^"]+)\?choice&#x3D;more"|<a href="([^"]+)\?choice=more"/g)].map((m) => (m[1] ?? m[2])!);
    expect(new Set(ids.map((u) => u.slice(0, u.lastIndexOf('/')))).size).toBe(1);
    expect(new Set(ids).size).toBe(10);
    const ratings = () => app.database.all<{ id: string; choice: string }>('SELECT p.id, f.choice FROM paper_feedback f JOIN papers p ON p.pk = f.paper_pk');
    const page = await fetch(local(more));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('value="more" checked');
    expect(await ratings()).toEqual([]);
    const saved = await fetch(local(more), { method: 'POST', body: new URLSearchParams({ choice: 'more' }) });
    expect(await saved.text()).toContain('More papers like this from now on');
    expect(await ratings()).toEqual([{ id: decodeURIComponent(paperId!), choice: 'more' }]);
    // The same token for a stored paper that was not in this digest, without a paper, or tampered: refused, nothing recorded.
    const sent = new Set(ids.map((u) => decodeURIComponent(u.slice(u.lastIndexOf('/') + 1))));
    const outside = (await app.database.all<{ id: string }>('SELECT id FROM papers')).map((r) => r.id).find((id) => !sent.has(id))!;
    const notInDigest = await fetch(local(`${base}/${encodeURIComponent(outside)}`), { method: 'POST', body: new URLSearchParams({ choice: 'more' }) });
    expect(notInDigest.status).toBe(404);
    expect(await notInDigest.text()).toContain('not in that digest');
    expect((await fetch(local(base!), { method: 'POST', body: new URLSearchParams({ choice: 'more' }) })).status).toBe(400);
    const tampered = base!.replace(/\/feedback\/(.)/, (_m, c: string) => `/feedback/${c === 'A' ? 'B' : 'A'}`);
    expect((await fetch(local(`${tampered}/${paperId}`), { method: 'POST', body: new URLSearchParams({ choice: 'less' }) })).status).toBe(400);
    expect(await ratings()).toHaveLength(1);
    await app.database.run('DELETE FROM paper_feedback');
  });

  it('the personal feed is valid Atom with one entry per paper and its why line', async () => {
    const feedUrl = local(linkIn(mail!.parsed.text, 'feed'));
    const res = await fetch(feedUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/atom\+xml/);
    const xml = await res.text();
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => ['entry', 'link', 'category'].includes(name) }).parse(xml);
    const feed = doc.feed;
    // RFC 4287 §4.1.1: a feed has an id, a title, updated, an author (or every entry has one); the Atom namespace.
    expect(feed['@xmlns']).toBe('http://www.w3.org/2005/Atom');
    for (const k of ['id', 'title', 'updated', 'author']) expect(feed[k], k).toBeTruthy();
    expect(feed.link.find((l: Record<string, string>) => l['@rel'] === 'self')['@href']).toBe(linkIn(mail!.parsed.text, 'feed'));
    expect(feed.entry).toHaveLength(10);
    const whys = [...mail!.parsed.text!.matchAll(/Why: (.+)/g)].map((m) => m[1]);
    const ids = new Set<string>();
    for (const e of feed.entry) {
      for (const k of ['id', 'title', 'updated', 'summary']) expect(e[k], k).toBeTruthy();
      expect(Date.parse(e.updated)).not.toBeNaN();
      expect(e.id).toMatch(/^tag:paperboy\.example,2026:feed\//);
      expect(e.link[0]['@href']).toMatch(/^https:\/\//);
      ids.add(e.id);
    }
    expect(ids.size).toBe(10);
    expect(feed.entry.map((e: { summary: string }) => e.summary)).toEqual(whys);
    // The feed names no address and no personal link.
    expect(xml).not.toContain('reader@example.org');
    expect(xml).not.toMatch(/\/(manage|unsubscribe|feedback)\//);
  });

  it('view in browser is the issue as sent: its date, papers, why lines and preferences then, and no personal links; it survives unsubscribing', async () => {
    const viewUrl = local(linkIn(mail!.parsed.text, 'digest'));
    // The reader changes preferences after the issue went out.
    const s = (await findByEmail(app.database, 'reader@example.org'))!;
    await app.database.run(`UPDATE subscribers SET keywords = '["quantum gravity"]', topics = '[]' WHERE id = ?`, [s.id]);
    const check = async () => {
      const res = await fetch(viewUrl);
      expect(res.status).toBe(200);
      const page = await res.text();
      expect(page).toContain('Tue 24 Nov 2026');
      expect(page).toContain('sparse autoencoders');
      expect(page).not.toContain('quantum gravity');
      expect(page).toContain('Orthogonal widgets for sparse autoencoders');
      for (const why of [...(mail!.parsed.text!.matchAll(/Why: (.+)/g))].map((m) => m[1]!)) {
        expect(page).toContain(why.replace(/&/g, '&amp;').replace(/“/g, '“').replace(/"/g, '&quot;'));
      }
      expect(page).not.toMatch(/\/(manage|unsubscribe|feedback|feed)\//);
      expect(page).not.toContain('reader@example.org');
      expect(page).not.toMatch(/More like this|Less like this/);
    };
    await check();
    const unsubscribe = linkIn(mail!.parsed.text, 'unsubscribe');
    expect((await fetch(local(unsubscribe), { method: 'POST' })).status).toBe(200);
    expect((await findByEmail(app.database, 'reader@example.org'))!.status).toBe('unsubscribed');
    await check();
    // The feed is revoked with the manage links: unsubscribing ends it.
    expect((await fetch(local(linkIn(mail!.parsed.text, 'feed')))).status).toBe(400);
  });
});
