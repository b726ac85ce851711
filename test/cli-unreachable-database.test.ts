import { describe, expect, it } from 'vitest';
import { freePort, runCliAsync } from './helpers.js';

describe('a DATABASE_URL that cannot be reached', () => {
  it('fails in one line naming host, port and database, without the password or a stack, exit 1', async () => {
    const port = await freePort();
    const r = await runCliAsync(['stats'], { DATABASE_URL: `postgres://paperboy:s3cret-pw@127.0.0.1:${port}/digests` });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`paperboy: cannot reach the database at 127.0.0.1:${port}/digests (ECONNREFUSED); check DATABASE_URL; nothing was changed`);
    expect(r.stdout).toBe('');
  });

  it('says the same for `migrate`, which opens the database without migrating first', async () => {
    const port = await freePort();
    const r = await runCliAsync(['migrate'], { DATABASE_URL: `postgres://paperboy@127.0.0.1:${port}/digests` });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`paperboy: cannot reach the database at 127.0.0.1:${port}/digests (ECONNREFUSED); check DATABASE_URL; nothing was changed`);
  });
});
