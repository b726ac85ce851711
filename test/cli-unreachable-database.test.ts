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

  it('still says it in one line for a URL only node-postgres reads (host in the query, as for a socket), without the password', async () => {
    const port = await freePort();
    const r = await runCliAsync(['stats'], { DATABASE_URL: `postgres://paperboy:s3cret-pw@/digests?host=127.0.0.1&port=${port}` });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('paperboy: cannot reach the database in DATABASE_URL (ECONNREFUSED); check DATABASE_URL; nothing was changed');
  });

  it('says the same for `migrate`, which opens the database without migrating first', async () => {
    const port = await freePort();
    const r = await runCliAsync(['migrate'], { DATABASE_URL: `postgres://paperboy@127.0.0.1:${port}/digests` });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`paperboy: cannot reach the database at 127.0.0.1:${port}/digests (ECONNREFUSED); check DATABASE_URL; nothing was changed`);
  });
});
