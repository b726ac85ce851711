import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseEnv, FIXTURES, listen, ROOT, runCli, runCliAsync, tempDir } from './helpers.js';

describe('the operator\'s terminal', () => {
  const { dir, cleanup } = tempDir();
  let env: Record<string, string>;
  beforeAll(async () => {
    env = { ...(await databaseEnv(dir, 'p')), OUTBOX_DIR: join(dir, 'outbox'), SECRET: 'cli-secret-cli-secret-cli-secret-0123' };
  });
  afterAll(cleanup);

  it('paperboy --version prints the package version', () => {
    const r = runCli(['--version'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('subscribers list --status rejects an unknown status with exit 2, naming the option and the valid ones', () => {
    const r = runCli(['subscribers', 'list', '--status', 'activ'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--status: unknown status "activ"; one of pending, active, paused, unsubscribed, bounced/);
    expect(runCli(['subscribers', 'list', '--status', 'active', '--json'], env)).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('digest run says a reader with nothing matched was skipped because nothing matched', () => {
    expect(runCli(['subscribers', 'add', 'quiet@example.org', '--keywords', 'zzqx', '--confirmed', '--hour', '0'], env).code).toBe(0);
    const r = runCli(['digest', 'run', '--now', new Date(Date.now() + 86_400_000).toISOString()], env);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/skipped 1 \(nothing matched\)/);
  });
});

describe('ingest and stats on the terminal', () => {
  const { dir, cleanup } = tempDir();
  let failCl = false;
  let fake: Awaited<ReturnType<typeof listen>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    fake = await listen((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/api/daily_papers') res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(join(FIXTURES, 'hf-daily-2025-12-29.json')));
      else if (failCl && url.search.includes('cs.CL')) res.writeHead(400).end('bad category');
      else res.writeHead(200, { 'content-type': 'application/atom+xml' }).end(readFileSync(join(FIXTURES, 'arxiv-query-cs.LG.xml')));
    });
    env = {
      ...(await databaseEnv(dir, 'p')), OUTBOX_DIR: join(dir, 'outbox'), SECRET: 'cli-secret-cli-secret-cli-secret-0123',
      HF_API_URL: fake.url, ARXIV_API_URL: fake.url, ARXIV_CATEGORIES: 'cs.LG,cs.CL', FETCH_TIMEOUT_MS: '2000',
    };
  });
  afterAll(async () => (await fake.close(), cleanup()));

  it('ingest reports each source and category as it goes, and --json gives a per-source array with the reports on stderr', async () => {
    const r = await runCliAsync(['ingest', '--date', '2025-12-29'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['hf:2025-12-29: 2 fetched, 2 new, 0 updated', 'arxiv:cs.LG: 2 fetched, 2 new, 0 updated', 'arxiv:cs.CL: 2 fetched, 0 new, 0 updated']);
    failCl = true;
    const j = await runCliAsync(['ingest', '--date', '2025-12-29', '--json'], env);
    expect(j.code).toBe(0);
    const rows = JSON.parse(j.stdout) as { source: string; ok: boolean; fetched: number; inserted: number; error?: string }[];
    expect(rows.map((x) => [x.source, x.ok, x.fetched, x.inserted])).toEqual([['hf:2025-12-29', true, 2, 0], ['arxiv:cs.LG', true, 2, 0], ['arxiv:cs.CL', false, 0, 0]]);
    expect(rows[2]!.error).toMatch(/400/);
    expect(j.stderr).toMatch(/^hf:2025-12-29: 2 fetched, 0 new/m);
    expect(j.stderr).toMatch(/^arxiv:cs\.CL: FAILED .*400/m);
  });

  it('stats shows when each source last succeeded (kept through a failure) and the last digest run', () => {
    const before = JSON.parse(runCli(['stats', '--json'], env).stdout) as Record<string, any>;
    expect(before.lastDigestRun).toBeNull();
    expect(before.sources['arxiv:cs.CL']).toMatchObject({ ok: false, lastError: expect.stringMatching(/400/) });
    // It failed on the second run; its last success is the first run, before the failure.
    expect(before.sources['arxiv:cs.CL'].lastOkAt < before.sources['arxiv:cs.CL'].lastRunAt).toBe(true);
    expect(before.sources['arxiv:cs.LG'].lastOkAt).toBe(before.sources['arxiv:cs.LG'].lastRunAt);
    for (const k of ['papers', 'subscribers', 'digests', 'relay']) expect(before).toHaveProperty(k);

    expect(runCli(['subscribers', 'add', 'quiet@example.org', '--keywords', 'zzqx', '--confirmed', '--hour', '0'], env).code).toBe(0);
    const now = new Date(Date.now() + 86_400_000).toISOString();
    expect(runCli(['digest', 'run', '--now', now], env).code).toBe(0);
    const after = JSON.parse(runCli(['stats', '--json'], env).stdout) as Record<string, any>;
    expect(after.lastDigestRun).toMatchObject({ at: now, due: 1, sent: 0, skipped: 1, failed: 0, inFlight: 0 });
    const text = runCli(['stats'], env).stdout;
    expect(text).toContain(`last digest run ${now}: 1 due, sent 0, skipped 1 (nothing matched), failed 0`);
    expect(text).toMatch(/source arxiv:cs\.CL: FAILED: .*400.* \(last run \S+; last success 20\d\d-/);
  });
});
