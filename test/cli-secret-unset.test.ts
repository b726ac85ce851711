import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseEnv, onPostgres, runCliAsync, tempDir } from './helpers.js';

// On PostgreSQL several nodes share one database; a node started without SECRET
// signs with the stored development secret, which nodes with SECRET refuse.
// It said so only the first time that secret was made.
describe.skipIf(!onPostgres)('a node without SECRET on PostgreSQL (needs the PostgreSQL pass)', () => {
  const tmp = tempDir();
  let env: Record<string, string>;
  beforeAll(async () => {
    env = { ...(await databaseEnv(tmp.dir, 'nosecret')), LOG_LEVEL: 'warn' };
  });
  afterAll(() => tmp.cleanup());

  it('warns at every start, not only when the development secret is first made', async () => {
    const noSecret = { ...env, SECRET: '' };
    const first = await runCliAsync(['stats'], noSecret);
    const second = await runCliAsync(['stats'], noSecret);
    for (const r of [first, second]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('SECRET is not set');
    }
    expect(second.stderr).toContain('set the same SECRET on every node');
    const withSecret = await runCliAsync(['stats'], { ...env, SECRET: 'test-secret-test-secret-test-secret-0123' });
    expect(withSecret.stderr).not.toContain('SECRET is not set');
  });
});
