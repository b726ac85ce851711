import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runIngest } from '../../src/papers/ingest-service.js';
import { countPapers, getPaper } from '../../src/papers/paper-repo.js';
import { FIXTURES, listen, silentLog, tempDatabase } from '../helpers.js';

// A stand-in for huggingface.co and export.arxiv.org serving recorded answers.
const hits: { path: string; at: number }[] = [];
let failuresLeft = 0;
let failStatus = 503;
let fake: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  fake = await listen((req, res) => {
    const url = new URL(req.url!, 'http://x');
    hits.push({ path: url.pathname + url.search, at: Date.now() });
    if (failuresLeft > 0) {
      failuresLeft--;
      res.writeHead(failStatus, { 'retry-after': '0' }).end('busy');
    } else if (url.pathname === '/api/daily_papers') {
      if (url.searchParams.get('date') === '2025-12-29') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(join(FIXTURES, 'hf-daily-2025-12-29.json')));
      } else res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"no daily papers for this date"}');
    } else if (url.pathname === '/api/query') {
      res.writeHead(200, { 'content-type': 'application/atom+xml' }).end(readFileSync(join(FIXTURES, 'arxiv-query-cs.LG.xml')));
    } else res.writeHead(404).end();
  });
});
afterAll(() => fake.close());

const config = (env: Record<string, string> = {}) =>
  loadConfig({ HF_API_URL: fake.url, ARXIV_API_URL: fake.url, ARXIV_CATEGORIES: 'cs.LG,cs.CL', FETCH_TIMEOUT_MS: '2000', ...env });

describe('ingest from the Hugging Face and arXiv APIs', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  beforeEach(async () => {
    db = await tempDatabase();
    hits.length = 0;
    failuresLeft = 0;
  });
  afterEach(() => db.cleanup());

  it('fetches the latest complete day of Daily Papers and each arXiv category, spaced apart', async () => {
    const results = await runIngest(db, config(), silentLog, { now: new Date('2025-12-30T09:00:00Z'), arxivIntervalMs: 300, retries: 0 });
    expect(results.map((r) => [r.source, r.ok, r.fetched])).toEqual([
      ['hf:2025-12-29', true, 2],
      ['arxiv:cs.LG', true, 2],
      ['arxiv:cs.CL', true, 2],
    ]);
    expect(hits[0]!.path).toBe('/api/daily_papers?date=2025-12-29');
    expect(hits[1]!.path).toContain('search_query=cat%3Acs.LG');
    // Spacing is measured where the requests arrive: on a loaded machine the first one can take tens of ms longer to get here.
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(250);
    expect(await countPapers(db)).toBe(4);
    expect((await getPaper(db, '2512.20001'))?.upvotes).toBe(54);
  });

  it('treats a date with no list yet as empty', async () => {
    const results = await runIngest(db, config({ SOURCES: 'hf' }), silentLog, { now: new Date(), date: '2030-01-01', retries: 0 });
    expect(results).toEqual([{ source: 'hf:2030-01-01', ok: true, fetched: 0, inserted: 0, updated: 0 }]);
  });

  it('retries 429 and 5xx answers with backoff, then succeeds', async () => {
    failuresLeft = 2;
    failStatus = 429;
    const results = await runIngest(db, config({ SOURCES: 'hf' }), silentLog, { now: new Date('2025-12-30T09:00:00Z'), retries: 3, backoffMs: 20 });
    expect(results[0]).toMatchObject({ ok: true, fetched: 2 });
    expect(hits).toHaveLength(3);
  });

  it('logs an unreachable or failing source and leaves stored papers alone', async () => {
    await runIngest(db, config({ SOURCES: 'hf' }), silentLog, { now: new Date('2025-12-30T09:00:00Z'), retries: 0 });
    const before = await db.all('SELECT * FROM papers ORDER BY pk');
    failuresLeft = 10;
    failStatus = 500;
    const failed = await runIngest(db, config({ SOURCES: 'hf' }), silentLog, { now: new Date('2025-12-30T09:00:00Z'), retries: 1, backoffMs: 20 });
    expect(failed[0]).toMatchObject({ ok: false, error: expect.stringContaining('HTTP 500') });
    const down = await runIngest(db, config({ HF_API_URL: 'http://127.0.0.1:9', ARXIV_API_URL: 'http://127.0.0.1:9' }), silentLog, { now: new Date(), retries: 0, arxivIntervalMs: 0 });
    // arXiv is asked once; the category it never got to is still reported, as not tried.
    expect(down.map((r) => [r.source.split(':')[0], r.ok])).toEqual([['hf', false], ['arxiv', false], ['arxiv', false]]);
    expect(down[2]!.error).toBe('not tried: 127.0.0.1:9 unreachable after cs.LG failed');
    expect(await db.all('SELECT * FROM papers ORDER BY pk')).toEqual(before);
  });
});
