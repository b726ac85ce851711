import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { createLinks } from '../../src/subscribers/links.js';
import { Preferences } from '../../src/subscribers/subscription-input.js';
import { createSubscriptionService, MAIL_CAP_PER_DAY } from '../../src/subscribers/subscription-service.js';
import { onPostgres, silentLog, tempDatabase } from '../helpers.js';

// Issue 12, item 2: per-address confirmation caps stay exact with several web nodes.
// On PostgreSQL each "node" has its own pool, so signups really race in the database.
// On SQLite the nodes share one connection: two connections in one process would
// block each other's event loop on BEGIN IMMEDIATE (separate processes simply queue).

describe('the per-address mail cap across web nodes', () => {
  it('when several nodes take a burst of signups for one new address, then there is one subscriber and exactly the cap of mails', async () => {
    const db = await tempDatabase();
    const second = onPostgres ? await openDatabase(db.env.DATABASE_URL!, { poolSize: 4 }) : db;
    const third = onPostgres ? await openDatabase(db.env.DATABASE_URL!, { poolSize: 4 }) : db;
    try {
      const links = createLinks('test-secret-test-secret-test-secret-0123', 'https://paperboy.example');
      let kicks = 0;
      const nodes = [db, second, third].map((database) => createSubscriptionService({ database, links, log: silentLog, kickOutbound: () => void kicks++ }));
      const prefs = Preferences.parse({ topics: ['agents'] });
      const now = new Date();
      // The same address in different cases: one row (CITEXT / NOCASE), one cap.
      const emails = ['same@example.org', 'Same@Example.org', 'SAME@example.org'];
      await Promise.all(Array.from({ length: 15 }, (_, i) => nodes[i % 3]!.subscribe(emails[i % 3]!, prefs, { method: 'api' }, now)));
      expect(await db.get('SELECT count(*) AS n FROM subscribers')).toEqual({ n: 1 });
      expect(await db.get('SELECT count(*) AS n FROM outbound_mail')).toEqual({ n: MAIL_CAP_PER_DAY });
      expect(kicks).toBe(MAIL_CAP_PER_DAY);
      // The consent log has the request that created the row and the re-requests that were mailed; a capped one changes nothing.
      expect(await db.get("SELECT count(*) AS n FROM consent_events WHERE event = 'subscribe_requested'")).toEqual({ n: MAIL_CAP_PER_DAY });
    } finally {
      if (second !== db) await second.close();
      if (third !== db) await third.close();
      await db.cleanup();
    }
  });
});
