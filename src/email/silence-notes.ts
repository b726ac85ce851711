// "Nothing matched for a week": a reader whose digests found nothing for a
// whole stretch (7 daily periods, or 4 weekly issues) gets one short note with
// a link to widen their interests, through the transactional queue. At most
// one per stretch (a stretch ends when a digest is sent), and a reader can
// turn the notes off on the manage page.
import type { Database_ } from '../db/client.js';
import { enqueueMail } from '../subscribers/subscriber-repo.js';

/** Periods with nothing sent that make a silent stretch. */
export const SILENT_PERIODS = { daily: 7, weekly: 4 } as const;

/** Whether the reader wants silence notes (on unless they turned them off). */
export function silenceNotesEnabled(database: Database_, subscriberId: number): boolean {
  const row = database.sqlite.prepare('SELECT enabled FROM silence_notes WHERE subscriber_id = ?').get(subscriberId) as { enabled: number } | undefined;
  return row ? row.enabled === 1 : true;
}

/** Turns the reader's silence notes on or off. */
export function setSilenceNotes(database: Database_, subscriberId: number, enabled: boolean): void {
  database.sqlite
    .prepare('INSERT INTO silence_notes (subscriber_id, enabled) VALUES (?, ?) ON CONFLICT (subscriber_id) DO UPDATE SET enabled = excluded.enabled')
    .run(subscriberId, enabled ? 1 : 0);
}

/**
 * Queues a note for every active reader whose last full stretch of periods
 * was all skipped and who has not been told since their last sent digest.
 * Returns how many were queued. Cheap enough to run daily: one pass over the
 * recent skipped deliveries, then an indexed look at each candidate's last periods.
 */
export function queueSilenceNotes(database: Database_, now: Date): number {
  const { sqlite } = database;
  // Readers skipped in the last day: only they can have just completed a silent stretch.
  const since = new Date(now.getTime() - 86_400_000).toISOString();
  const candidates = sqlite
    .prepare(
      `SELECT DISTINCT s.id, s.email, s.frequency FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
       LEFT JOIN silence_notes n ON n.subscriber_id = s.id
       WHERE d.status = 'skipped' AND d.created_at >= ? AND s.status = 'active' AND ifnull(n.enabled, 1) = 1`,
    )
    .all(since) as { id: number; email: string; frequency: 'daily' | 'weekly' }[];
  const lastPeriods = sqlite.prepare('SELECT status FROM deliveries WHERE subscriber_id = ? ORDER BY period_key DESC LIMIT ?').pluck();
  const lastSent = sqlite.prepare("SELECT max(finished_at) FROM deliveries WHERE subscriber_id = ? AND status = 'sent'").pluck();
  const notedAt = sqlite.prepare('SELECT noted_at FROM silence_notes WHERE subscriber_id = ?').pluck();
  const mark = sqlite.prepare(
    'INSERT INTO silence_notes (subscriber_id, enabled, noted_at) VALUES (?, 1, ?) ON CONFLICT (subscriber_id) DO UPDATE SET noted_at = excluded.noted_at',
  );
  let queued = 0;
  const at = now.toISOString();
  sqlite.transaction(() => {
    for (const c of candidates) {
      const periods = SILENT_PERIODS[c.frequency] ?? SILENT_PERIODS.daily;
      const statuses = lastPeriods.all(c.id, periods) as string[];
      if (statuses.length < periods || statuses.some((s) => s !== 'skipped')) continue;
      const noted = notedAt.get(c.id) as string | null | undefined;
      const sent = lastSent.get(c.id) as string | null;
      // One note per stretch: none since the last digest that was sent.
      if (noted && (!sent || noted > sent)) continue;
      mark.run(c.id, at);
      enqueueMail(database, 'silence', c.id, c.email, at);
      queued++;
    }
  })();
  return queued;
}
