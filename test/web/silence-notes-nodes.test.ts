import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { queueSilenceNotes } from '../../src/email/silence-notes.js';
import { insertSubscriber } from '../../src/subscribers/subscriber-repo.js';
import { Preferences } from '../../src/subscribers/subscription-input.js';
import { onPostgres, tempDatabase } from '../helpers.js';

// Issue 12, item 2: the daily silence-note job run by two nodes at the same moment
// queues each note once. On PostgreSQL each node has its own pool; on SQLite the
// nodes share one connection (separate processes queue on BEGIN IMMEDIATE).

describe('silence notes on several nodes at once', () => {
  it('when two nodes run the daily check together, then every silent reader gets exactly one note', async () => {
    const db = await tempDatabase();
    const other = onPostgres ? await openDatabase(db.env.DATABASE_URL!, { poolSize: 2 }) : db;
    try {
      const prefs = Preferences.parse({ keywords: ['zzqx'] });
      for (let i = 0; i < 5; i++) {
        const s = await insertSubscriber(db, `quiet${i}@example.org`, 'active', prefs, '2026-01-01T00:00:00.000Z');
        for (let d = 24; d <= 30; d++) {
          const at = `2026-11-${d}T08:00:00.000Z`;
          await db.run("INSERT INTO deliveries (subscriber_id, period_key, status, message_id, items, since, created_at, finished_at) VALUES (?, ?, 'skipped', '', '[]', '2026-11-01', ?, ?)", [s.id, `2026-11-${d}`, at, at]);
        }
      }
      const now = new Date('2026-11-30T12:00:00Z');
      const counts = await Promise.all([queueSilenceNotes(db, now), queueSilenceNotes(other, now), queueSilenceNotes(db, now)]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
      expect(await db.get("SELECT count(*) AS n, count(DISTINCT subscriber_id) AS readers FROM outbound_mail WHERE kind = 'silence'")).toEqual({ n: 5, readers: 5 });
    } finally {
      if (other !== db) await other.close();
      await db.cleanup();
    }
  });
});
