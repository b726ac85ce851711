import type { Database_ } from '../db/client.js';

// The overview reads only the rollup tables of migration 0006 (a row per day
// and metric, a row per run), never subscribers or deliveries, so it costs the
// same at 100 subscribers and at 100,000 with a million ledger rows.

export const STATUSES = ['pending', 'active', 'paused', 'unsubscribed', 'bounced'] as const;

/** One day of the overview's tables and charts. */
export interface DayRow {
  day: string;
  status: Record<(typeof STATUSES)[number], number>;
  signups: number;
  confirmations: number;
  unsubscribes: number;
  bounces: number;
  complaints: number;
  sent: number;
  skipped: number;
  failed: number;
  /** Bounces and complaints per 1,000 digests sent that day (null: none sent). */
  bounceRate: number | null;
  complaintRate: number | null;
  papers: Record<string, number>;
}

/** One digest run, named by the `now` it stamped on its ledger rows. */
export interface RunRow {
  runAt: string;
  claimed: number;
  sent: number;
  skipped: number;
  failed: number;
  inFlight: number;
  updatedAt: string;
}

/** Everything the overview page shows. */
export interface Overview {
  totals: Record<string, number>;
  days: DayRow[];
  sources: string[];
  runs: RunRow[];
  running: RunRow | null;
}

/** The UTC days from `days - 1` days before `now` to `now`, oldest first. */
export function dayRange(now: Date, days: number): string[] {
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i--) out.push(new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10));
  return out;
}

const per1000 = (n: number, of: number) => (of ? Math.round((n / of) * 10_000) / 10 : null);

/** The overview of the last `days` days up to `now`. */
export async function loadOverview(database: Database_, now: Date, days = 30): Promise<Overview> {
  const range = dayRange(now, days);
  const first = range[0]!;

  // Running sum of the per-day status deltas: the count before the range, then day by day.
  const deltas = await database.all<{ day: string; status: string; delta: number }>('SELECT day, status, delta FROM status_daily ORDER BY day, status');
  const running: Record<string, number> = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  const byDayStatus = new Map<string, Record<string, number>>();
  for (const d of deltas) {
    if (d.day < first) running[d.status] = (running[d.status] ?? 0) + d.delta;
    else (byDayStatus.get(d.day) ?? byDayStatus.set(d.day, {}).get(d.day)!)[d.status] = d.delta;
  }
  const totals = { ...running };
  for (const row of byDayStatus.values()) for (const [s, n] of Object.entries(row)) totals[s] = (totals[s] ?? 0) + n;

  const counts = await database.all<{ day: string; metric: string; n: number }>('SELECT day, metric, n FROM daily_counts WHERE day >= ? ORDER BY day, metric', [first]);
  const events = new Map<string, Map<string, number>>();
  const sources = new Set<string>();
  for (const c of counts) {
    const parts = c.metric.split(':');
    // consent:<event>:<method> → the event; papers:<source>; digest:<status>.
    const key = parts[0] === 'consent' ? `consent:${parts[1]}` : parts[0] === 'smtp' ? null : c.metric;
    if (!key) continue;
    if (parts[0] === 'papers') sources.add(parts.slice(1).join(':'));
    const day = events.get(c.day) ?? events.set(c.day, new Map()).get(c.day)!;
    day.set(key, (day.get(key) ?? 0) + c.n);
  }

  const dayRows = range.map((day): DayRow => {
    const d = byDayStatus.get(day) ?? {};
    for (const s of STATUSES) running[s] = (running[s] ?? 0) + (d[s] ?? 0);
    const e = events.get(day) ?? new Map<string, number>();
    const n = (k: string) => e.get(k) ?? 0;
    const sent = n('digest:sent');
    return {
      day,
      status: Object.fromEntries(STATUSES.map((s) => [s, running[s]!])) as DayRow['status'],
      signups: n('consent:subscribe_requested'),
      confirmations: n('consent:confirmed'),
      unsubscribes: n('consent:unsubscribed'),
      bounces: n('consent:bounced'),
      complaints: n('consent:complained'),
      sent,
      skipped: n('digest:skipped'),
      failed: n('digest:failed'),
      bounceRate: per1000(n('consent:bounced'), sent),
      complaintRate: per1000(n('consent:complained'), sent),
      papers: Object.fromEntries([...sources].map((s) => [s, n(`papers:${s}`)])),
    };
  });

  const runs = await recentRuns(database, 10);
  return { totals, days: dayRows, sources: [...sources].sort(), runs, running: runs.find((r) => r.inFlight > 0) ?? null };
}

/** The last `limit` digest runs, newest first. */
export async function recentRuns(database: Database_, limit: number): Promise<RunRow[]> {
  const rows = await database.all<Omit<RunRow, 'inFlight'>>(
    'SELECT run_at AS "runAt", claimed, sent, skipped, failed, updated_at AS "updatedAt" FROM digest_runs ORDER BY run_at DESC LIMIT ?',
    [limit],
  );
  return rows.map((r) => ({ ...r, inFlight: Math.max(0, r.claimed - r.sent - r.failed) }));
}
