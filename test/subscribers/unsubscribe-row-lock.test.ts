import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLinks } from '../../src/subscribers/links.js';
import { consentLog, findById, insertSubscriber, subscribersByIds, type Subscriber } from '../../src/subscribers/subscriber-repo.js';
import { Preferences } from '../../src/subscribers/subscription-input.js';
import { createSubscriptionService, type SubscriptionService } from '../../src/subscribers/subscription-service.js';
import { queuedUnsubscribes, useLocalUnsubscribeQueue } from '../../src/subscribers/unsubscribe-queue.js';
import { openDatabase } from '../../src/db/client.js';
import { onPostgres, silentLog, tempDatabase, tempDir } from '../helpers.js';

// Issue 12: the one-click unsubscribe queue on PostgreSQL. There is no database-wide
// write lock there (test/web/busy-database.test.ts covers SQLite's); what can hold an
// unsubscribe up is another transaction holding the reader's row. Past 1 s
// (lock_timeout) the click goes to the node's local SQLite queue file and succeeds.

describe.runIf(onPostgres)('one-click unsubscribe while another transaction holds the reader row (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  let tmp: ReturnType<typeof tempDir>;
  let blocker: pg.Client;
  let service: SubscriptionService;
  let reader: Subscriber;
  const links = createLinks('test-secret-test-secret-test-secret-0123', 'https://paperboy.example');
  const token = (s: Subscriber) => links.unsubscribeUrl(s).split('/').pop()!;

  beforeEach(async () => {
    db = await tempDatabase();
    tmp = tempDir();
    service = createSubscriptionService({ database: db, links, log: silentLog, kickOutbound: () => undefined, databasePath: join(tmp.dir, 'paperboy.db') });
    reader = await insertSubscriber(db, 'held@example.org', 'active', Preferences.parse({ topics: ['agents'] }), new Date().toISOString());
    blocker = new pg.Client({ connectionString: db.env.DATABASE_URL });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT id FROM subscribers WHERE id = $1 FOR UPDATE', [reader.id]);
  });
  afterEach(async () => {
    await blocker.end().catch(() => undefined);
    await db.cleanup();
    tmp.cleanup();
  });

  it('when the row stays locked past 1 s, then the unsubscribe is queued locally and succeeds, and the drain applies it once the lock is gone', async () => {
    const started = Date.now();
    const result = await service.unsubscribe(token(reader), { method: 'one-click' }, new Date());
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result!.status).toBe('unsubscribed');
    expect(queuedUnsubscribes(db)).toHaveLength(1);
    // The row still says active, but this node's reader loads (digest runs) see the unsubscribe.
    expect((await findById(db, reader.id))!.status).toBe('active');
    expect((await subscribersByIds(db, [reader.id]))[0]!.status).toBe('unsubscribed');
    // So does the node's other connection, the one a digest run's worker thread opens.
    const run = await openDatabase(db.env.DATABASE_URL!, { migrate: false });
    try {
      useLocalUnsubscribeQueue(run, join(tmp.dir, 'paperboy.db'));
      expect((await subscribersByIds(run, [reader.id]))[0]!.status).toBe('unsubscribed');
    } finally {
      await run.close();
    }
    expect(await service.forUnsubscribe(token(reader), new Date())).toMatchObject({ status: 'unsubscribed' });
    // Still locked: the drain gives up quickly and keeps the entry.
    await expect(service.drainUnsubscribeQueue()).rejects.toMatchObject({ code: '55P03' });
    expect(queuedUnsubscribes(db)).toHaveLength(1);
    await blocker.query('ROLLBACK');
    expect(await service.drainUnsubscribeQueue()).toBe(1);
    const after = (await findById(db, reader.id))!;
    expect(after).toMatchObject({ status: 'unsubscribed', tokenVersion: reader.tokenVersion + 1 });
    expect((await consentLog(db, reader.id)).map((e) => [e.event, e.method])).toEqual([['unsubscribed', 'one-click']]);
    expect(queuedUnsubscribes(db)).toEqual([]);
  });

  it('when the lock is released within the wait, then the unsubscribe is applied directly and nothing is queued', async () => {
    setTimeout(() => void blocker.query('ROLLBACK'), 300);
    const result = await service.unsubscribe(token(reader), { method: 'one-click' }, new Date());
    expect(result!.status).toBe('unsubscribed');
    expect((await findById(db, reader.id))!.status).toBe('unsubscribed');
    expect(queuedUnsubscribes(db)).toEqual([]);
  });
});
