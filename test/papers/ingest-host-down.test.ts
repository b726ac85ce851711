import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runIngest } from '../../src/papers/ingest-service.js';
import { sourceStatuses } from '../../src/papers/source-status.js';
import { FIXTURES, databaseEnv, listen, runCliAsync, silentLog, tempDatabase, tempDir } from '../helpers.js';

// export.arxiv.org stand-ins: one that accepts a connection and closes it without an answer,
// one whose port refuses connections. Both count as "no HTTP answer at all".
let closing: Server;
let closingUrl = '';
let connections = 0;
let refusedUrl = '';
// huggingface.co serving its recorded day, so a run can be partly good.
let hf: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  closing = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
  closingUrl = `http://127.0.0.1:${(closing.address() as AddressInfo).port}`;
  // A port that was just free and is closed again: connecting to it is refused.
  const gone = createServer();
  await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
  refusedUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => gone.close(() => resolve()));
  hf = await listen((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/api/daily_papers' && url.searchParams.get('date') === '2025-12-29') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(join(FIXTURES, 'hf-daily-2025-12-29.json')));
    } else res.writeHead(404).end();
  });
});
afterAll(async () => {
  await hf.close();
  await new Promise<void>((resolve) => closing.close(() => resolve()));
});

const CATEGORIES = ['cs.LG', 'cs.CL', 'cs.CV', 'cs.AI'];

describe('ingest when the arXiv host is down', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  beforeEach(async () => {
    db = await tempDatabase();
    connections = 0;
  });
  afterEach(() => db.cleanup());

  it('asks the host once, then reports and records every untried category as failed with the reason', async () => {
    const config = loadConfig({ SOURCES: 'arxiv', ARXIV_API_URL: closingUrl, ARXIV_CATEGORIES: CATEGORIES.join(','), FETCH_TIMEOUT_MS: '2000' });
    const reported: string[] = [];
    const results = await runIngest(db, config, silentLog, { now: new Date('2025-12-30T09:00:00Z'), retries: 0, arxivIntervalMs: 0, onSource: (r) => reported.push(r.source) });
    // The host was not hammered: one connection for cs.LG and none for the rest.
    expect(connections).toBe(1);
    expect(reported).toEqual(CATEGORIES.map((c) => `arxiv:${c}`));
    expect(results.map((r) => [r.source, r.ok])).toEqual(CATEGORIES.map((c) => [`arxiv:${c}`, false]));
    expect(results[0]!.error).toContain(closingUrl);
    const host = new URL(closingUrl).host;
    for (const r of results.slice(1)) expect(r.error).toBe(`not tried: ${host} unreachable after cs.LG failed`);

    const statuses = await sourceStatuses(db);
    expect(Object.keys(statuses).sort()).toEqual(CATEGORIES.map((c) => `arxiv:${c}`).sort());
    expect(statuses['arxiv:cs.LG']).toMatchObject({ ok: false, fetched: 0, lastError: results[0]!.error, lastRunAt: '2025-12-30T09:00:00.000Z' });
    expect(statuses['arxiv:cs.AI']).toMatchObject({ ok: false, fetched: 0, lastError: `not tried: ${host} unreachable after cs.LG failed` });
  });

  it('still tries every category when the host answers, even with an error', async () => {
    const busy = await listen((_req, res) => res.writeHead(503).end('busy'));
    try {
      const config = loadConfig({ SOURCES: 'arxiv', ARXIV_API_URL: busy.url, ARXIV_CATEGORIES: CATEGORIES.join(','), FETCH_TIMEOUT_MS: '2000' });
      const results = await runIngest(db, config, silentLog, { now: new Date(), retries: 0, arxivIntervalMs: 0 });
      expect(results.map((r) => [r.source, r.ok])).toEqual(CATEGORIES.map((c) => [`arxiv:${c}`, false]));
      for (const r of results) expect(r.error).toContain('HTTP 503');
    } finally {
      await busy.close();
    }
  });

  it('`paperboy ingest --json` lists every configured category and `stats` shows each as failed', { timeout: 60_000 }, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const env = { ...(await databaseEnv(dir, 'ingest')), HF_API_URL: hf.url, ARXIV_API_URL: refusedUrl, FETCH_TIMEOUT_MS: '2000' };
      const r = await runCliAsync(['ingest', '--json', '--date', '2025-12-29'], env);
      // HF answered, so not every source failed.
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { source: string; ok: boolean; error?: string }[];
      expect(out.map((x) => [x.source, x.ok])).toEqual([['hf:2025-12-29', true], ...CATEGORIES.map((c) => [`arxiv:${c}`, false])]);
      const host = new URL(refusedUrl).host;
      for (const c of CATEGORIES.slice(1)) expect(r.stderr).toContain(`arxiv:${c}: FAILED not tried: ${host} unreachable after cs.LG failed`);
      expect(r.stderr).toMatch(/arxiv:cs\.LG: FAILED .*ECONNREFUSED/);

      const stats = await runCliAsync(['stats', '--json'], env);
      const sources = JSON.parse(stats.stdout).sources as Record<string, { ok: boolean; lastError: string | null }>;
      expect(Object.keys(sources).sort()).toEqual(['hf', ...CATEGORIES.map((c) => `arxiv:${c}`)].sort());
      expect(sources.hf!.ok).toBe(true);
      for (const c of CATEGORIES) expect(sources[`arxiv:${c}`]).toMatchObject({ ok: false, lastError: expect.any(String) });
      expect(sources['arxiv:cs.CV']!.lastError).toBe(`not tried: ${host} unreachable after cs.LG failed`);
    } finally {
      cleanup();
    }
  });
});
