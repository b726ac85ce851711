import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFile } from '../../src/papers/import-service.js';
import { findPaperUrl, type PaperInput } from '../../src/papers/paper-record.js';
import { countPapers, getPaper, searchPapers, upsertPapers } from '../../src/papers/paper-repo.js';
import { CORPUS_DIR, FIXTURES, onPostgres, tempDatabase } from '../helpers.js';

const page = (n: number) => {
  const file = ['000_e93a26dbba89c34d.txt', '001_86b5729aa67f73eb.txt', '002_268e26c7047ff591.txt'][n]!;
  return parseFile(file, readFileSync(join(CORPUS_DIR, file), 'utf8'), 'page', '2025-12-31').papers;
};
const fixture = (file: string) => parseFile(file, readFileSync(join(FIXTURES, file), 'utf8'), undefined, '2025-12-31').papers;

function paper(over: Partial<PaperInput> = {}): PaperInput {
  return {
    arxivId: null, title: 'A Paper', abstract: 'About things.', authors: [], authorCount: null, organization: null,
    publishedAt: null, listedOn: null, upvotes: 0, comments: 0, keywords: [],
    urls: { page: null, abs: null, pdf: null, code: null }, source: 'test', ...over,
  };
}

describe('paper storage', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  beforeEach(async () => {
    db = await tempDatabase();
  });
  afterEach(() => db.cleanup());

  it('stores a re-import as a no-op', async () => {
    const first = await upsertPapers(db, page(0), '2025-12-30T10:00:00.000Z');
    expect(first).toMatchObject({ read: 33, inserted: 33 });
    const before = await db.all('SELECT * FROM papers ORDER BY pk');
    const again = await upsertPapers(db, page(0), '2025-12-31T10:00:00.000Z');
    expect(again).toEqual({ read: 33, inserted: 0, updated: 0, unchanged: 33 });
    expect(await db.all('SELECT * FROM papers ORDER BY pk')).toEqual(before);
  });

  it('refreshes counters but never moves the first-seen time', async () => {
    await upsertPapers(db, [paper({ arxivId: '2401.00001', upvotes: 3 })], '2025-01-01T00:00:00.000Z');
    const outcome = await upsertPapers(db, [paper({ arxivId: '2401.00001', upvotes: 9, comments: 2 })], '2025-02-01T00:00:00.000Z');
    expect(outcome.updated).toBe(1);
    expect(await getPaper(db, '2401.00001')).toMatchObject({ upvotes: 9, comments: 2, firstSeenAt: '2025-01-01T00:00:00.000Z' });
  });

  it('recognises one paper seen on two pages', async () => {
    await upsertPapers(db, page(0), '2025-12-30T10:00:00.000Z');
    await upsertPapers(db, page(1), '2025-12-30T11:00:00.000Z');
    const titles = await db.all('SELECT title_key, count(*) AS n FROM papers GROUP BY title_key HAVING count(*) > 1');
    expect(titles).toEqual([]);
    const tract = (await searchPapers(db, 'TrAct first-layer pre-activations', 5))[0]!;
    expect(tract.title).toBe('TrAct: Making First-layer Pre-Activations Trainable');
    expect(tract.firstSeenAt).toBe('2025-12-30T10:00:00.000Z');
  });

  it('merges a title-only paper with the same paper from an arXiv source, keeping one id', async () => {
    await upsertPapers(db, page(1), '2025-12-30T10:00:00.000Z'); // has "Layer Normalization" without an id
    const before = (await searchPapers(db, '"layer normalization"', 1))[0]!;
    expect(before.id).toMatch(/^title-/);
    await upsertPapers(db, fixture('hf-daily-2025-12-29.json'), '2025-12-31T10:00:00.000Z');
    const after = (await getPaper(db, '1607.06450'))!;
    expect(after).toMatchObject({ title: 'Layer Normalization', upvotes: 17, comments: 3, firstSeenAt: before.firstSeenAt });
    expect(after.authors).toHaveLength(3);
    expect(after.urls.abs).toBe('https://arxiv.org/abs/1607.06450');
    expect(await getPaper(db, before.id)).toBeUndefined();
  });

  it('keeps the full-text index in step with the table', async () => {
    await upsertPapers(db, [paper({ arxivId: '2401.00002', title: 'Quantum Widgets' })], '2025-01-01T00:00:00.000Z');
    expect((await searchPapers(db, 'widget', 5)).map((p) => p.id)).toEqual(['2401.00002']);
    await db.run("UPDATE papers SET title = 'Classical Gadgets' WHERE id = '2401.00002'");
    expect(await searchPapers(db, 'widget', 5)).toEqual([]);
    expect(await searchPapers(db, 'gadgets', 5)).toHaveLength(1);
    await db.run("DELETE FROM papers WHERE id = '2401.00002'");
    expect(await searchPapers(db, 'gadgets', 5)).toEqual([]);
    // FTS5 keeps a separate index (PostgreSQL's tsvector is a generated column of the row itself).
    if (!onPostgres) expect((await db.run("INSERT INTO papers_fts(papers_fts) VALUES ('integrity-check')")).changes).toBeGreaterThanOrEqual(0);
  });

  it('matches a prefix term and falls back to any word when not all match', async () => {
    await upsertPapers(db, [paper({ arxivId: '2401.00005', title: 'Quantum Widgets', keywords: ['tensor networks'] })], '2025-01-01T00:00:00.000Z');
    expect((await searchPapers(db, 'quantum widg*', 5)).map((p) => p.id)).toEqual(['2401.00005']);
    expect((await searchPapers(db, 'widgets zebras', 5)).map((p) => p.id)).toEqual(['2401.00005']);
    expect((await searchPapers(db, '"tensor network"', 5)).map((p) => p.id)).toEqual(['2401.00005']);
    expect(await searchPapers(db, '"network tensor"', 5)).toEqual([]);
  });

  it('searches with stemming and weighs titles above abstracts', async () => {
    await upsertPapers(db, [
      paper({ arxivId: '2401.00003', title: 'Something Else', abstract: 'We use diffusion models for denoising.' }),
      paper({ arxivId: '2401.00004', title: 'Diffusion Models for Audio', abstract: 'We study audio.' }),
    ], '2025-01-01T00:00:00.000Z');
    expect((await searchPapers(db, 'diffusion model', 5)).map((p) => p.id)).toEqual(['2401.00004', '2401.00003']);
  });

  it('treats hostile search input as plain words', async () => {
    await upsertPapers(db, page(0), '2025-12-30T10:00:00.000Z');
    for (const q of ['"unbalanced', 'title:foo', 'a AND OR NOT', '*', '(((', 'NEAR(x y', "'; DROP TABLE papers; --", '^gradient', 'x:* & !y', 'graph<->*', "it's*", 'the*']) {
      await expect(searchPapers(db, q, 5), q).resolves.toBeInstanceOf(Array);
    }
    expect(await countPapers(db)).toBe(33);
  });

  it('stores one row when two writers store the same new paper at once', async () => {
    // On PostgreSQL the two transactions run on two connections and both miss the
    // paper at first; the second waits on the first's insert and merges instead.
    const p = paper({ arxivId: '2401.00009', upvotes: 4 });
    const outcomes = await Promise.all([upsertPapers(db, [p], '2025-01-01T00:00:00.000Z'), upsertPapers(db, [p], '2025-01-01T00:00:00.000Z')]);
    expect(outcomes.map((o) => o.inserted).sort()).toEqual([0, 1]);
    expect(outcomes.map((o) => o.unchanged).sort()).toEqual([0, 1]);
    expect(await countPapers(db)).toBe(1);
  });
});

describe('a link for a paper whose record has none', () => {
  it('searches arXiv for the title, with everything that could break out of a URL or an attribute encoded', () => {
    const title = `<script>"x"</script> it's (a) test*!~\r\nBcc: victim@example.org ${'long '.repeat(100)}`;
    const url = findPaperUrl(title);
    expect(url).toMatch(/^https:\/\/arxiv\.org\/search\/\?query=[^&]+&searchtype=title$/);
    expect(url).not.toMatch(/[<>'"()*!~\s]/);
    const query = decodeURIComponent(/query=([^&]+)/.exec(url)![1]!);
    expect(query).toBe(title.replace(/\s+/g, ' ').trim().slice(0, 300));
  });
});
