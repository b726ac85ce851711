import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseEnv, freePort, ROOT, runCli, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
// One database for both tests: the preview uses the sample corpus that `serve` loaded.
let database: Record<string, string>;
beforeAll(async () => {
  database = await databaseEnv(tmp.dir, 'serve');
});

describe('paperboy serve', () => {
  it('starts on the embedded defaults with the sample corpus, serves the pages and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...database, OUTBOX_DIR: join(tmp.dir, 'outbox'), SOURCES: 'hf', HF_API_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'info', NODE_ENV: 'development' };
    const child = spawn(process.execPath, [join(ROOT, 'bin/paperboy.js'), 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let logs = '';
    child.stderr.on('data', (d) => (logs += d));
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ok = await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false);
        if (ok && logs.includes('loaded the sample corpus')) break;
        if (Date.now() > deadline) throw new Error(`server did not come up:\n${logs}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const home = await (await fetch(base)).text();
      expect(home.match(/class="paper-title"/g)?.length).toBeGreaterThanOrEqual(5);
      const sub = await fetch(`${base}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'newcomer@example.org', topics: ['agents'] }) });
      expect(sub.status).toBe(202);
      let outbox = '';
      for (let i = 0; i < 50 && !outbox.includes('Confirm your Paperboy subscription'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        outbox = await (await fetch(`${base}/outbox`)).text();
      }
      expect(outbox).toContain('Confirm your Paperboy subscription');
      expect(logs).not.toContain('newcomer@example.org');
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(logs).toContain('"msg":"bye"');
  });

  it('previews a digest as JSON with the documented shape', () => {
    const env = { ...database, OUTBOX_DIR: join(tmp.dir, 'outbox') };
    expect(runCli(['subscribers', 'add', 'preview@example.org', '--topics', 'diffusion-models', '--confirmed'], env).code).toBe(0);
    const r = runCli(['digest', 'preview', 'preview@example.org', '--json', '--limit', '3'], env);
    expect(r.code).toBe(0);
    const { papers } = JSON.parse(r.stdout) as { papers: Record<string, unknown>[] };
    expect(papers).toHaveLength(3);
    for (const p of papers) expect(Object.keys(p).sort()).toEqual(['id', 'score', 'title', 'why']);
    expect(runCli(['digest', 'preview', 'nobody@example.org'], env).code).toBe(2);
    const tomorrowNoon = `${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}T12:00:00Z`;
    const dry = runCli(['digest', 'run', '--dry-run', '--json', '--now', tomorrowNoon], env);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, due: 1, sent: 1 });
    expect(JSON.parse(runCli(['stats', '--json'], env).stdout).digests).toEqual({ sent: 0, skipped: 0, failed: 0 });
  });
});
