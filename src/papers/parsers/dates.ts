const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** "Dec 13, 2023" / "Oct 31" / "Oct 1 2" (date then upvotes) as parts; null if not a date line. */
export function parseShortDate(line: string): { month: number; day: number; year: number | null; rest: number | null } | null {
  const m = /^([A-Z][a-z]{2})[a-z]*\.? (\d{1,2})(?:, (\d{4}))?(?: (\d{1,7}))?$/.exec(line.trim());
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]!.toLowerCase()) + 1;
  const day = Number(m[2]);
  if (month < 1 || day < 1 || day > 31) return null;
  return { month, day, year: m[3] ? Number(m[3]) : null, rest: m[4] ? Number(m[4]) : null };
}

/** YYYY-MM-DD for a month/day with a known year, or null when the day does not exist. */
export function isoDate(year: number, month: number, day: number): string | null {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1) return null;
  return d.toISOString().slice(0, 10);
}

/** Resolves a yearless month/day to the latest such date on or before `ref` (YYYY-MM-DD). */
export function resolveYear(month: number, day: number, ref: string): string | null {
  const refYear = Number(ref.slice(0, 4));
  for (let year = refYear; year >= refYear - 4; year--) {
    const iso = isoDate(year, month, day);
    if (iso && iso <= ref) return iso;
  }
  return null;
}

/** Today's date in UTC as YYYY-MM-DD. */
export function utcDate(now: Date): string {
  return now.toISOString().slice(0, 10);
}
