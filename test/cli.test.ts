import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_DIR, databaseEnv, runCli, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let env: Record<string, string>;
beforeAll(async () => {
  env = await databaseEnv(tmp.dir, 'cli');
});
const pages = readdirSync(CORPUS_DIR).sort().map((f) => join(CORPUS_DIR, f));

describe('the paperboy command', () => {
  it('imports the five listing pages and reports entries read and distinct papers stored', () => {
    const r = runCli(['import', ...pages, '--as-of', '2025-12-31'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('read 232 entries from 5 file(s)');
    expect(r.stdout).toContain('181 distinct papers stored');
    const stats = runCli(['stats', '--json'], env);
    expect(JSON.parse(stats.stdout)).toMatchObject({ papers: 181, digests: { sent: 0, skipped: 0, failed: 0 } });
  });

  it('changes nothing when the same files are imported again', () => {
    const r = runCli(['import', ...pages, '--as-of', '2025-12-31', '--json'], env);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: 232, inserted: 0, updated: 0, unchanged: 232, papers: 181 });
  });

  it('prints ranked paper records with papers search --json', () => {
    const r = runCli(['papers', 'search', 'diffusion models', '--json', '--limit', '3'], env);
    expect(r.code).toBe(0);
    const found = JSON.parse(r.stdout);
    expect(found).toHaveLength(3);
    expect(Object.keys(found[0]).sort()).toEqual(
      ['id', 'title', 'abstract', 'authors', 'authorCount', 'organization', 'publishedAt', 'listedOn', 'upvotes', 'comments', 'keywords', 'urls', 'source', 'firstSeenAt'].sort(),
    );
    for (const p of found) expect(`${p.title} ${p.abstract}`).toMatch(/diffusion/i);
  });

  it('rejects a bad file with exit code 2, naming file and line, and applies no file at all', () => {
    const good = join(tmp.dir, 'good.jsonl');
    const bad = join(tmp.dir, 'bad.jsonl');
    writeFileSync(good, `${JSON.stringify({ id: '2501.00001', title: 'Good paper' })}\n`);
    writeFileSync(bad, `${JSON.stringify({ id: '2501.00002', title: 'Fine' })}\n{"id": "2501.00003", "title": 42}\n`);
    const r = runCli(['import', good, bad], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.jsonl: line 2: title/);
    expect(JSON.parse(runCli(['stats', '--json'], env).stdout).papers).toBe(181);
  });

  it('answers bad usage with exit code 2', () => {
    expect(runCli(['import', pages[0]!, '--format', 'pdf'], env).code).toBe(2);
    expect(runCli(['papers', 'search', 'x', '--limit', 'zero'], env).code).toBe(2);
    expect(runCli(['no-such-command'], env).code).toBe(2);
    const badEnv = runCli(['stats'], { ...env, PORT: 'eighty' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('PORT');
  });

  it('lists every command in --help', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['serve', 'migrate', 'import', 'ingest', 'papers', 'stats']) expect(r.stdout).toContain(c);
  });
});
