// "Nothing matched for a week": a reader whose digests found nothing for a
// whole stretch (7 daily periods, or 4 weekly issues) gets one short note with
// a link to widen their interests, through the transactional queue. At most
// one per stretch (a stretch ends when a digest is sent), and a reader can
// turn the notes off on the manage page.
import type { Sql } from '../db/sql.js';
import { enqueueMail } from '../subscribers/subscriber-repo.js';

/** Periods with nothing sent that make a silent stretch. */
export const SILENT_PERIODS = { daily: 7, weekly: 4 } as const;

/** Whether the reader wants silence notes (on unless they turned them off). */
export async function silenceNotesEnabled(sql: Sql, subscriberId: number): Promise<boolean> {
  const row = await sql.get<{ enabled: number }>('SELECT enabled FROM silence_notes WHERE subscriber_id = ?', [subscriberId]);
  return row ? Number(row.enabled) === 1 : true;
}

/** Turns the reader's silence notes on or off. */
export async function setSilenceNotes(sql: Sql, subscriberId: number, enabled: boolean): Promise<void> {
  await sql.run('INSERT INTO silence_notes (subscriber_id, enabled) VALUES (?, ?) ON CONFLICT (subscriber_id) DO UPDATE SET enabled = excluded.enabled', [subscriberId, enabled ? 1 : 0]);
}

/**
 * Queues a note for every active reader whose last full stretch of periods
 * was all skipped and who has not been told since their last sent digest.
 * Returns how many were queued. Cheap enough to run daily: one pass over the
 * recent skipped deliveries, then an indexed look at each candidate's last periods.
 * One transaction: two nodes running the daily tick together queue each note once
 * (SQLite's write transactions are serial; on PostgreSQL an advisory lock makes
 * the second wait, and it then reads the first one's noted_at).
 */
export async function queueSilenceNotes(sql: Sql, now: Date): Promise<number> {
  // Readers skipped in the last day: only they can have just completed a silent stretch.
  const since = new Date(now.getTime() - 86_400_000).toISOString();
  const at = now.toISOString();
  return sql.tx(async (t) => {
    if (t.dialect === 'postgres') await t.get("SELECT pg_advisory_xact_lock(hashtext('paperboy:silence-notes'))");
    const candidates = await t.all<{ id: number; email: string; frequency: 'daily' | 'weekly' }>(
      `SELECT DISTINCT s.id, s.email, s.frequency FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
       LEFT JOIN silence_notes n ON n.subscriber_id = s.id
       WHERE d.status = 'skipped' AND d.created_at >= ? AND s.status = 'active' AND coalesce(n.enabled, 1) = 1
       ORDER BY s.id`,
      [since],
    );
    let queued = 0;
    for (const c of candidates) {
      const periods = SILENT_PERIODS[c.frequency] ?? SILENT_PERIODS.daily;
      const statuses = await t.all<{ status: string }>('SELECT status FROM deliveries WHERE subscriber_id = ? ORDER BY period_key DESC LIMIT ?', [c.id, periods]);
      if (statuses.length < periods || statuses.some((s) => s.status !== 'skipped')) continue;
      const noted = await t.get<{ notedAt: string | null }>('SELECT noted_at AS "notedAt" FROM silence_notes WHERE subscriber_id = ?', [c.id]);
      const sent = await t.get<{ at: string | null }>("SELECT max(finished_at) AS at FROM deliveries WHERE subscriber_id = ? AND status = 'sent'", [c.id]);
      // One note per stretch: none since the last digest that was sent.
      if (noted?.notedAt && (!sent?.at || noted.notedAt > sent.at)) continue;
      await t.run(
        'INSERT INTO silence_notes (subscriber_id, enabled, noted_at) VALUES (?, 1, ?) ON CONFLICT (subscriber_id) DO UPDATE SET noted_at = excluded.noted_at',
        [c.id, at],
      );
      await enqueueMail(t, 'silence', c.id, c.email, at);
      queued++;
    }
    return queued;
  });
}
