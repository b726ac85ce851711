// When is a digest due? Pure functions of a subscriber's schedule and `now`.
// Periods are named in the subscriber's own time zone: "2026-11-23" for a
// daily digest, "2026-W48" (ISO week) for a weekly one.

/** The scheduling fields of a subscriber. */
export interface Schedule {
  frequency: 'daily' | 'weekly';
  weekday: number; // 1 = Monday … 7 = Sunday (ISO)
  hour: number; // 0–23, local
  timezone: string;
}

/** Wall-clock parts of an instant in a time zone. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
// Intl formatting costs microseconds and a run asks about the same few zones
// at the same instant 100,000 times: remember answers per zone and minute.
const recent = new Map<string, LocalTime>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The local date, hour and ISO weekday of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): LocalTime {
  const key = `${timeZone}|${Math.floor(at.getTime() / 60_000)}`;
  const known = recent.get(key);
  if (known) return known;
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(at)) parts[p.type] = p.value;
  const t = { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour) % 24, weekday: WEEKDAYS[parts.weekday!]! };
  if (recent.size > 10_000) recent.clear();
  recent.set(key, t);
  return t;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO-8601 week-numbering year and week of a calendar date. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const d = new Date(Date.UTC(year, month - 1, day));
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const firstDay = Date.UTC(d.getUTCFullYear(), 0, 1);
  return { year: d.getUTCFullYear(), week: Math.ceil(((d.getTime() - firstDay) / 86400000 + 1) / 7) };
}

/** The period a digest at `now` belongs to, in the subscriber's time zone. */
export function periodKey(s: Schedule, now: Date): string {
  const t = localTime(now, s.timezone);
  if (s.frequency === 'daily') return `${t.year}-${pad(t.month)}-${pad(t.day)}`;
  const w = isoWeek(t.year, t.month, t.day);
  return `${w.year}-W${pad(w.week)}`;
}

/** Whether the delivery slot of the period containing `at` has been reached by `at`. */
export function slotReached(s: Schedule, at: Date): boolean {
  const t = localTime(at, s.timezone);
  if (s.frequency === 'daily') return t.hour >= s.hour;
  return t.weekday > s.weekday || (t.weekday === s.weekday && t.hour >= s.hour);
}

/**
 * Whether the subscriber's digest for the current period is due at `now`:
 * the slot has been reached, this period has no ledger entry yet, and the
 * subscriber did not confirm after this period's slot (their first digest
 * then waits for the next slot instead of arriving straight away). A slot
 * missed while the service was down is caught up later in the same period,
 * once; a missed period is never sent in addition to the current one.
 */
export function isDue(s: Schedule & { confirmedAt: string | null }, now: Date, periodDone: (key: string) => boolean): boolean {
  if (!slotReached(s, now)) return false;
  const key = periodKey(s, now);
  if (periodDone(key)) return false;
  if (s.confirmedAt) {
    const confirmed = new Date(s.confirmedAt);
    if (periodKey(s, confirmed) === key && slotReached(s, confirmed)) return false;
  }
  return true;
}
