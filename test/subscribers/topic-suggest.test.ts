import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suggestTopics, unknownTopicMessage } from '../../src/subscribers/topic-suggest.js';
import { runCli, startPaperboy, tempDir } from '../helpers.js';

describe('closest topic slugs for an unknown one', () => {
  it('finds slugs by a shared word, a prefix, a spelling or a typo, and nothing for nonsense', () => {
    expect(unknownTopicMessage('diffusion')).toBe('unknown topic "diffusion" (did you mean diffusion-models?)');
    expect(suggestTopics('agnets')).toEqual(['agents']);
    expect(suggestTopics('reinforce')).toEqual(['reinforcement-learning']);
    expect(suggestTopics('quantisation')).toEqual(['quantization-compression']);
    expect(suggestTopics('rag')).toEqual(['retrieval-rag']);
    expect(suggestTopics('llm')[0]).toBe('llm-reasoning');
    expect(suggestTopics('vision')).toEqual(expect.arrayContaining(['vision-language', 'computer-vision']));
    expect(unknownTopicMessage('xyzzy')).toBe('unknown topic "xyzzy"');
  });
});

describe('every way in names the closest slugs', () => {
  const { dir, cleanup } = tempDir();
  const env = { DATABASE_PATH: join(dir, 'p.db'), OUTBOX_DIR: join(dir, 'outbox'), SECRET: 'cli-secret-cli-secret-cli-secret-0123' };
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  beforeAll(async () => {
    app = await startPaperboy({ RATE_LIMITS: 'false' });
  });
  afterAll(async () => (await app.stop(), cleanup()));

  it('subscribers add --topics exits 2 with the suggestion', () => {
    const r = runCli(['subscribers', 'add', 'a@example.org', '--topics', 'agents;diffusion', '--confirmed'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('topics.1: unknown topic "diffusion" (did you mean diffusion-models?)');
  });

  it('a CSV import exits 2 naming the file, line and field, with the suggestion, and imports nothing', () => {
    const file = join(dir, 'readers.csv');
    writeFileSync(file, 'email,topics\nok@example.org,agents\nb@example.org,agents;interpretabilty\n');
    const r = runCli(['subscribers', 'import', file, '--confirmed'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('line 3');
    expect(r.stderr).toContain('topics: unknown topic "interpretabilty" (did you mean interpretability?)');
    expect(runCli(['subscribers', 'list', '--json'], env).stdout.trim()).toBe('[]');
  });

  it('POST /api/subscriptions answers 400 naming the field, with the suggestion', async () => {
    const res = await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'c@example.org', topics: ['reinforce'] }) });
    expect(res.status).toBe(400);
    const body = JSON.stringify(await res.json());
    expect(body).toContain('topics');
    expect(body).toContain('unknown topic \\"reinforce\\" (did you mean reinforcement-learning?)');
  });
});
