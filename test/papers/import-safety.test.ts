import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { parseFile } from '../../src/papers/import-service.js';
import { runIngest } from '../../src/papers/ingest-service.js';
import { getPaper, searchPapers, upsertPapers } from '../../src/papers/paper-repo.js';
import { collectStats } from '../../src/stats-service.js';
import { databaseEnv, FIXTURES, listen, onPostgres, runCli, silentLog, tempDatabase, tempDir } from '../helpers.js';

const read = (f: string) => readFileSync(join(FIXTURES, f), 'utf8');
const parse = (f: string, text = read(f)) => parseFile(f, text, undefined, '2026-08-11').papers;
const NOW = '2026-08-11T08:00:00.000Z';

describe('storing what real feeds deliver', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  beforeEach(async () => {
    db = await tempDatabase();
  });
  afterEach(() => db.cleanup());

  it('finds a paper whose title was written in TeX by "Schrödinger" and by "Schrodinger"', async () => {
    await upsertPapers(db, parse('arxiv-rss-affiliations-tex.xml'), NOW);
    for (const q of ['Schrödinger bridges', 'Schrodinger bridges', 'Rényi', 'Renyi']) {
      expect((await searchPapers(db, q, 10)).map((p) => p.id), q).toContain('2608.06900');
    }
  });

  it('corrects an author list split wrongly before, and lets a better source replace a worse one but not the reverse', async () => {
    const [rss] = parse('arxiv-rss-affiliations-tex.xml').filter((p) => p.arxivId === '2608.06900');
    // What the old parser stored: every comma split, affiliations as "authors" (rank 0, as migration 0005 leaves such rows).
    await upsertPapers(db, [{ ...rss!, authors: ['Ana Lima (University of Birmingham', 'Edgbaston', 'United Kingdom)'], authorCount: 3 }], NOW);
    await db.run("UPDATE papers SET authors_rank = 0 WHERE id = '2608.06900'");
    await upsertPapers(db, [rss!], NOW);
    expect(await getPaper(db, '2608.06900')).toMatchObject({ authors: ['Ana Lima', 'Rémy Dupont', 'Jörg Müller', 'Li Wei', 'François Girard'], authorCount: 5 });

    const hf = { ...rss!, source: 'hf', authorRank: undefined, authors: ['Ana Lima', 'Rémy Dupont', 'Jörg Müller', 'Wei Li', 'François Girard'] };
    await upsertPapers(db, [hf], NOW);
    expect((await getPaper(db, '2608.06900'))!.authors[3]).toBe('Wei Li');
    await upsertPapers(db, [rss!], NOW); // the RSS listing ranks below Hugging Face
    expect((await getPaper(db, '2608.06900'))!.authors[3]).toBe('Wei Li');
    const [api] = parse('arxiv-api-astro-ph-0601001.xml'); // the API ranks above both
    await upsertPapers(db, [{ ...api!, arxivId: '2608.06900', title: rss!.title, authors: ['Ana Lima', 'Rémy Dupont'], authorCount: 2 }], NOW);
    expect(await getPaper(db, '2608.06900')).toMatchObject({ authors: ['Ana Lima', 'Rémy Dupont'], authorCount: 2 });
  });

  it('writes a large import in transactions of 500, committing (and on SQLite releasing the write lock) between them', async () => {
    const base = parse('arxiv-rss-affiliations-tex.xml')[0]!;
    const inputs = Array.from({ length: 1200 }, (_, i) => ({ ...base, arxivId: `2608.${String(10000 + i)}`, title: `Paper ${i}` }));
    const other = db.sqlite ? new Database(db.env.DATABASE_PATH!) : null;
    other?.pragma('busy_timeout = 0');
    const between: number[] = [];
    const committed: Promise<unknown>[] = [];
    const counts = await upsertPapers(db, inputs, NOW, {
      afterBatch: (done) => {
        // Another SQLite writer gets the lock at once between batches (busy_timeout 0 would throw otherwise).
        other?.prepare("INSERT INTO source_status (source, last_run_at, ok) VALUES (?, 'x', 1)").run(`probe-${done}`);
        // What a batch wrote is committed before the next begins: another connection sees it.
        committed.push(db.get<{ n: number }>('SELECT count(*) AS n FROM papers').then((r) => r!.n));
        between.push(done);
      },
    });
    other?.close();
    expect(between).toEqual([500, 1000, 1200]);
    expect(await Promise.all(committed)).toEqual([500, 1000, 1200]);
    expect(counts).toMatchObject({ read: 1200, inserted: 1200 });
  });
});

describe('text stays text, within limits', () => {
  it('strips control characters and bidirectional overrides from imported text', () => {
    const record = { id: '2501.00001', title: 'Tit\u0007le\u202E with\u0000 controls', abstract: 'Line one\r\nline\u001B two', authors: ['Ana\u0008 Lima'] };
    const [p] = parse('p.json', JSON.stringify([record]));
    expect(p).toMatchObject({ title: 'Title with controls', abstract: 'Line one\nline two', authors: ['Ana Lima'] });
  });

  it('refuses a 100 kB title from any format, naming file, entry and field', () => {
    const long = 'x'.repeat(100_000);
    expect(() => parse('p.json', JSON.stringify([{ title: long }]))).toThrow(/p\.json: entry 1: title/);
    const hf = JSON.parse(read('hf-daily-line-breaks.json'));
    hf[0].paper.title = long;
    expect(() => parse('hf.json', JSON.stringify(hf))).toThrow('hf.json: entry 1: title: longer than 1000 characters (100000)');
    const rss = read('arxiv-rss-affiliations-tex.xml').replace('<title>0.50</title>', `<title>${long}</title>`);
    expect(() => parse('rss.xml', rss)).toThrow('rss.xml: entry 3: title: longer than 1000 characters (100000)');
    const name = read('arxiv-rss-affiliations-tex.xml').replace('Kim Park', 'K'.repeat(400));
    expect(() => parse('rss.xml', name)).toThrow('rss.xml: entry 3: authors.0: longer than 300 characters (400)');
  });

  it('keeps the first 2000 authors of a longer list and the true count', () => {
    const names = Array.from({ length: 2500 }, (_, i) => `Author ${i}`).join(', ');
    const rss = read('arxiv-rss-affiliations-tex.xml').replace('Kim Park', names);
    const p = parse('rss.xml', rss).find((x) => x.arxivId === '2608.06901')!;
    expect(p.authors).toHaveLength(2000);
    expect(p.authorCount).toBe(2500);
  });
});

describe('the import and stats commands', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('exits 2 naming the problem when the file is an arXiv error answer', async () => {
    const env = await databaseEnv(tmp.dir, 'errors');
    for (const [file, reason] of [['arxiv-api-error-abc.xml', 'incorrect id format for abc'], ['arxiv-rss-error-astroph.xml', "Bad archive 'astroph'"]]) {
      const r = runCli(['import', join(FIXTURES, file!)], env);
      expect(r.code, file).toBe(2);
      expect(r.stderr).toContain(`arXiv answered with an error: ${reason}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  // SQLite only: a second connection holds SQLite's one write lock (PostgreSQL has no such lock).
  it.skipIf(onPostgres)('says "database is busy, retry" with exit 1 when another process holds the write lock', () => {
    const path = join(tmp.dir, 'busy.db');
    const file = join(tmp.dir, 'one.jsonl');
    writeFileSync(file, `${JSON.stringify({ id: '2501.00001', title: 'A paper' })}\n`);
    expect(runCli(['import', file], { DATABASE_PATH: path }).code).toBe(0);
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const r = runCli(['import', file], { DATABASE_PATH: path });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the database is busy');
      expect(r.stderr).toContain('retry');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });
});

describe('a failing ingest source is visible in stats', () => {
  let fake: Awaited<ReturnType<typeof listen>>;
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  beforeAll(async () => {
    fake = await listen((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.searchParams.get('search_query') === 'cat:astroph') res.writeHead(400, { 'content-type': 'application/atom+xml' }).end(read('arxiv-api-error-abc.xml'));
      else res.writeHead(200, { 'content-type': 'application/atom+xml' }).end(read('arxiv-rss-error-astroph.xml'));
    });
    db = await tempDatabase();
  });
  afterAll(async () => {
    await fake.close();
    await db.cleanup();
  });

  it('records each source\'s error with its time, and keeps the other stats fields', async () => {
    const config = loadConfig({ ARXIV_API_URL: fake.url, HF_API_URL: fake.url, SOURCES: 'arxiv', ARXIV_CATEGORIES: 'astroph,cs.LG', FETCH_TIMEOUT_MS: '2000' });
    const results = await runIngest(db, config, silentLog, { now: new Date(NOW), retries: 0, arxivIntervalMs: 0 });
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    expect(results[0]!.error).toContain('incorrect id format for abc');
    const stats = await collectStats(db);
    expect(Object.keys(stats)).toEqual(expect.arrayContaining(['papers', 'subscribers', 'digests', 'sources']));
    expect(stats.sources['arxiv:cs.LG']).toEqual({ ok: false, lastRunAt: NOW, fetched: 0, lastError: expect.stringContaining("Bad archive 'astroph'"), lastErrorAt: NOW, lastOkAt: null });
    expect(stats.sources['arxiv:astroph']!.lastError).toContain('HTTP 400');
  });
});
