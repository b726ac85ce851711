import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { databaseEnv, runCliAsync, tempDir } from '../helpers.js';

// Two operators (or a retry from cron) importing the same new addresses at once:
// on PostgreSQL the second used to fail with a raw unique-constraint stack.
describe('two `subscribers import` of the same new addresses at once', () => {
  const tmp = tempDir();
  let env: Record<string, string>;
  beforeAll(async () => {
    env = await databaseEnv(tmp.dir, 'import-race');
  });
  afterAll(() => tmp.cleanup());

  it('both succeed and every address has one row', async () => {
    const csv = join(tmp.dir, 'readers.csv');
    const emails = Array.from({ length: 150 }, (_, i) => `race${i}@example.org`);
    writeFileSync(csv, `email,topics\n${emails.map((e) => `${e},agents`).join('\n')}\n`);
    // Each its own DATABASE_PATH folder for the local unsubscribe queue, the same database.
    const runs = await Promise.all(['a', 'b'].map((n) => runCliAsync(['subscribers', 'import', csv, '--confirmed'], { ...env, DATABASE_PATH: env.DATABASE_PATH ?? join(tmp.dir, `${n}.db`) })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const db = await openDatabase(env.DATABASE_URL ?? env.DATABASE_PATH!, { migrate: false });
    try {
      expect(await db.get('SELECT count(*) AS n, count(DISTINCT email) AS d FROM subscribers')).toEqual({ n: 150, d: 150 });
    } finally {
      await db.close();
    }
  }, 60_000);
});
