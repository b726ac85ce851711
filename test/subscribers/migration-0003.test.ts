import { createHmac } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listMigrations, migrate } from '../../src/db/client.js';
import { sqliteSql } from '../../src/db/sql.js';
import { createLinks } from '../../src/subscribers/links.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { onPostgres, ROOT, tempDir } from '../helpers.js';

// Issue 10, item 1: migration 0003 rebuilds subscribers with AUTOINCREMENT and
// link keys on a database that already has data from 0001/0002, keeping every row.

const T = '2026-11-01T00:00:00.000Z';
const COUNT = (sqlite: Database.Database, table: string) => (sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

// A SQLite table rebuild: PostgreSQL starts from migrations/postgres/0001, which already has link keys.
describe.skipIf(onPostgres)('migration 0003 on a database with data', () => {
  let tmp: ReturnType<typeof tempDir>;
  let sqlite: Database.Database;

  beforeEach(() => {
    tmp = tempDir();
    const old = join(tmp.dir, 'migrations-0002');
    mkdirSync(old);
    for (const m of listMigrations().filter((m) => m.version <= 2)) copyFileSync(join(ROOT, 'migrations', m.name), join(old, m.name));
    sqlite = new Database(join(tmp.dir, 'paperboy.db'));
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    expect(migrate(sqlite, old)).toEqual(['0001_init.sql', '0002_ledger_indexes.sql']);
    sqlite.exec(`
      INSERT INTO subscribers (id, email, status, topics, keywords, token_version, created_at, updated_at, confirmed_at)
        VALUES (1, 'ada@example.org', 'active', '["agents"]', '["muon"]', 3, '${T}', '${T}', '${T}'),
               (2, 'bob@example.org', 'unsubscribed', '["interpretability"]', '[]', 2, '${T}', '${T}', '${T}'),
               (5, 'cy@example.org', 'pending', '["graphs"]', '[]', 1, '${T}', '${T}', NULL);
      INSERT INTO consent_events (subscriber_id, event, method, at) VALUES (1, 'confirmed', 'web', '${T}'), (2, 'unsubscribed', 'web', '${T}'), (5, 'subscribe_requested', 'api', '${T}');
      INSERT INTO outbound_mail (subscriber_id, kind, recipient, next_attempt_at, created_at) VALUES (5, 'confirm', 'cy@example.org', '${T}', '${T}');
      INSERT INTO papers (id, title_key, title, source, first_seen_at, updated_at) VALUES ('p1', 't1', 'T1', 'test', '${T}', '${T}'), ('p2', 't2', 'T2', 'test', '${T}', '${T}');
      INSERT INTO deliveries (subscriber_id, period_key, status, message_id, since, created_at, finished_at) VALUES (1, '2026-10-31', 'sent', '<m1@x>', '${T}', '${T}', '${T}'), (2, '2026-10-31', 'sent', '<m2@x>', '${T}', '${T}', '${T}');
      INSERT INTO sent_papers (subscriber_id, paper_pk, delivery_id) VALUES (1, 1, 1), (1, 2, 1), (2, 1, 2);
    `);
  });
  afterEach(() => {
    sqlite.close();
    tmp.cleanup();
  });

  it('keeps every subscriber, consent event, delivery, sent paper and queued mail, with foreign keys intact', () => {
    const before = sqlite.prepare('SELECT * FROM subscribers ORDER BY id').all();
    expect(migrate(sqlite)).toContain('0003_subscriber_link_keys.sql');
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqlite.pragma('foreign_key_check')).toEqual([]);
    expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    const after = sqlite.prepare('SELECT * FROM subscribers ORDER BY id').all() as Record<string, unknown>[];
    // Columns later migrations add (0003's own, and 0010's seeds and authors) are left out of the comparison.
    expect(after.map(({ link_key: _k, legacy_links: _l, requested_prefs: _r, seeds: _s, authors: _a, ...rest }) => rest)).toEqual(before);
    expect(after.every((r) => r.legacy_links === 1 && r.requested_prefs === null && /^[0-9a-f]{32}$/.test(String(r.link_key)))).toBe(true);
    expect(new Set(after.map((r) => r.link_key)).size).toBe(3);
    expect([COUNT(sqlite, 'consent_events'), COUNT(sqlite, 'outbound_mail'), COUNT(sqlite, 'deliveries'), COUNT(sqlite, 'sent_papers')]).toEqual([3, 1, 2, 3]);
    // Every child table still references the rebuilt table, and deleting a subscriber still cascades.
    for (const child of ['consent_events', 'outbound_mail', 'deliveries']) {
      expect((sqlite.pragma(`foreign_key_list(${child})`) as { table: string }[]).map((f) => f.table), child).toContain('subscribers');
    }
    sqlite.prepare('DELETE FROM subscribers WHERE id = 1').run();
    expect([COUNT(sqlite, 'consent_events'), COUNT(sqlite, 'deliveries'), COUNT(sqlite, 'sent_papers')]).toEqual([2, 1, 1]);
    expect(() => sqlite.prepare("INSERT INTO consent_events (subscriber_id, event, method, at) VALUES (99, 'x', 'y', 'z')").run()).toThrow(/FOREIGN KEY/);
  });

  it('never hands out an id again, and signs links with the new key while old unsubscribe links keep working', async () => {
    migrate(sqlite);
    const insert = sqlite.prepare(`INSERT INTO subscribers (email, status, created_at, updated_at) VALUES (?, 'pending', '${T}', '${T}') RETURNING id, legacy_links AS legacy`);
    const first = insert.get('dee@example.org') as { id: number; legacy: number };
    expect(first).toEqual({ id: 6, legacy: 0 });
    sqlite.prepare('DELETE FROM subscribers WHERE id = 6').run();
    expect((insert.get('eve@example.org') as { id: number }).id).toBe(7);

    const database = sqliteSql(sqlite);
    const secret = 'test-secret-test-secret-test-secret-0123';
    const links = createLinks(secret, 'https://paperboy.example');
    const ada = (await findByEmail(database, 'ada@example.org'))!;
    const token = (url: string) => url.split('/').pop()!;
    expect((await links.resolve(database, token(links.manageUrl(ada)), 'manage', new Date())).subscriber.email).toBe('ada@example.org');
    // An unsubscribe link from a digest sent before the upgrade (id-named, version 2 of 3).
    const payload = Buffer.from('1|unsubscribe|2|0|').toString('base64url');
    const legacy = `${payload}.${createHmac('sha256', secret).update(`paperboy-token:${payload}`).digest('base64url')}`;
    expect((await links.resolve(database, legacy, 'unsubscribe', new Date())).subscriber.email).toBe('ada@example.org');
  });
});
