import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseEnv, FIXTURES, runCli, tempDir } from './helpers.js';

// The development case: `PORT=3917 npm start` in one shell, CLI commands in another without PORT or PUBLIC_URL.
delete process.env.PUBLIC_URL;
delete process.env.PORT;

const WARNING = /^paperboy: warning: PUBLIC_URL is not set, so links in this mail use http:\/\/localhost:3000, guessed from this command's own PORT \(3000\), which may not be the web server's; set PUBLIC_URL .*$/m;
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.includes('PUBLIC_URL')).length;

describe('CLI commands that put links into mail without PUBLIC_URL', () => {
  const { dir, cleanup } = tempDir();
  let env: Record<string, string>;
  const outbox = join(dir, 'outbox');
  /** Every mail written to the outbox so far, as one text. */
  const mailText = () => readdirSync(outbox, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).map((f) => readFileSync(join(f.parentPath, f.name), 'utf8')).join('\n');
  beforeAll(async () => {
    env = { ...(await databaseEnv(dir, 'url')), OUTBOX_DIR: outbox, SECRET: 'cli-secret-cli-secret-cli-secret-0123' };
    expect(runCli(['import', join(FIXTURES, 'hf-daily-2025-12-29.json')], env).code).toBe(0);
  });
  afterAll(cleanup);

  it('subscribers add warns once, naming the guessed base URL, when it queues a confirmation; not with --confirmed', () => {
    const r = runCli(['subscribers', 'add', 'pending@example.org', '--keywords', 'sparse autoencoders'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(WARNING);
    expect(warnings(r.stderr)).toBe(1);
    // The warning tells the truth: the confirmation links go to the guessed URL.
    expect(mailText()).toContain('http://localhost:3000/');
    const quiet = runCli(['subscribers', 'add', 'active@example.org', '--keywords', 'sparse autoencoders', '--confirmed', '--hour', '0'], env);
    expect(quiet.code).toBe(0);
    expect(warnings(quiet.stderr)).toBe(0);
  });

  it('subscribers import warns when it queues confirmations', () => {
    const csv = join(dir, 'readers.csv');
    writeFileSync(csv, 'email,keywords\nimported@example.org,diffusion\n');
    const r = runCli(['subscribers', 'import', csv], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('1 confirmation emails queued');
    expect(r.stderr).toMatch(WARNING);
    expect(warnings(r.stderr)).toBe(1);
  });

  it('digest run warns; a dry run, which sends nothing, does not', () => {
    const now = new Date(Date.now() + 86_400_000).toISOString();
    const dry = runCli(['digest', 'run', '--now', now, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(warnings(dry.stderr)).toBe(0);
    const r = runCli(['digest', 'run', '--now', now], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sent 1\b/);
    expect(r.stderr).toMatch(WARNING);
    expect(warnings(r.stderr)).toBe(1);
  });

  it('with PUBLIC_URL set, nothing is written about it and the mail links to it', () => {
    const withUrl = { ...env, PUBLIC_URL: 'http://localhost:3917' };
    const add = runCli(['subscribers', 'add', 'second@example.org', '--keywords', 'sparse autoencoders', '--hour', '0'], withUrl);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toBe('');
    expect(mailText()).toContain('http://localhost:3917/');
    const csv = join(dir, 'more.csv');
    writeFileSync(csv, 'email,keywords\nimported2@example.org,diffusion\n');
    const imp = runCli(['subscribers', 'import', csv], withUrl);
    expect(imp.code, imp.stderr).toBe(0);
    expect(warnings(imp.stderr)).toBe(0);
    const run = runCli(['digest', 'run', '--now', new Date(Date.now() + 2 * 86_400_000).toISOString()], withUrl);
    expect(run.code, run.stderr).toBe(0);
    expect(warnings(run.stderr)).toBe(0);
  });
});
