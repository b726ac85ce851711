import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from './helpers.js';

describe('the operator\'s terminal', () => {
  const { dir, cleanup } = tempDir();
  const env = { DATABASE_PATH: join(dir, 'p.db'), OUTBOX_DIR: join(dir, 'outbox'), SECRET: 'cli-secret-cli-secret-cli-secret-0123' };
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
