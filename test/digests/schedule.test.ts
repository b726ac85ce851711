import { describe, expect, it } from 'vitest';
import { isDue, isoWeek, localTime, periodKey, slotReached, type Schedule } from '../../src/digests/schedule.js';

const daily = (hour: number, timezone: string): Schedule & { confirmedAt: string | null } => ({ frequency: 'daily', weekday: 1, hour, timezone, confirmedAt: '2020-01-01T00:00:00Z' });
const weekly = (weekday: number, hour: number, timezone: string) => ({ ...daily(hour, timezone), frequency: 'weekly' as const, weekday });
const never = () => false;

describe('digest schedule', () => {
  it('names daily periods by local date and weekly ones by ISO week', () => {
    expect(periodKey(daily(8, 'UTC'), new Date('2026-11-23T08:00:00Z'))).toBe('2026-11-23');
    // 23:30 UTC on the 23rd is already the 24th in Tokyo.
    expect(periodKey(daily(8, 'Asia/Tokyo'), new Date('2026-11-23T23:30:00Z'))).toBe('2026-11-24');
    expect(periodKey(weekly(1, 8, 'UTC'), new Date('2026-11-23T08:00:00Z'))).toBe('2026-W48');
    expect(isoWeek(2027, 1, 1)).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(2026, 12, 31)).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(2024, 12, 30)).toEqual({ year: 2025, week: 1 });
  });

  it('is due once the local hour is reached, and not again in the same period', () => {
    const s = daily(8, 'Europe/Berlin');
    expect(isDue(s, new Date('2026-11-23T06:59:00Z'), never)).toBe(false); // 07:59 in Berlin
    expect(isDue(s, new Date('2026-11-23T07:00:00Z'), never)).toBe(true); // 08:00
    expect(isDue(s, new Date('2026-11-23T07:00:00Z'), (k) => k === '2026-11-23')).toBe(false);
  });

  it('catches up a slot missed while the service was down, once, and never sends a missed period as well', () => {
    const s = daily(8, 'UTC');
    const sent = new Set<string>();
    const run = (iso: string) => {
      const now = new Date(iso);
      if (!isDue(s, now, (k) => sent.has(k))) return null;
      sent.add(periodKey(s, now));
      return periodKey(s, now);
    };
    // Down from Monday 06:00 until Tuesday 05:00: Monday's digest is simply missed...
    expect(run('2026-11-24T05:00:00Z')).toBeNull();
    // ...and Tuesday's arrives at 08:00, once, however often the scheduler ticks.
    expect(run('2026-11-24T08:10:00Z')).toBe('2026-11-24');
    expect(run('2026-11-24T08:20:00Z')).toBeNull();
    // Down over Wednesday's slot, back at 15:00: that day's digest goes out then.
    expect(run('2026-11-25T15:00:00Z')).toBe('2026-11-25');
  });

  it('sends weekly digests on the chosen weekday (or later that week if the slot was missed)', () => {
    const s = weekly(3, 9, 'America/New_York'); // Wednesdays 09:00
    expect(isDue(s, new Date('2026-11-24T15:00:00Z'), never)).toBe(false); // Tuesday
    expect(isDue(s, new Date('2026-11-25T13:59:00Z'), never)).toBe(false); // Wed 08:59 EST
    expect(isDue(s, new Date('2026-11-25T14:00:00Z'), never)).toBe(true); // Wed 09:00 EST
    expect(isDue(s, new Date('2026-11-27T14:00:00Z'), never)).toBe(true); // Friday, still week 48
    expect(isDue(s, new Date('2026-11-27T14:00:00Z'), (k) => k === '2026-W48')).toBe(false);
  });

  it('holds the local hour across DST changes', () => {
    const s = daily(8, 'America/New_York');
    // Before the spring change 08:00 EST = 13:00 UTC, after it 08:00 EDT = 12:00 UTC.
    expect(slotReached(s, new Date('2026-03-07T12:59:00Z'))).toBe(false);
    expect(slotReached(s, new Date('2026-03-07T13:00:00Z'))).toBe(true);
    expect(slotReached(s, new Date('2026-03-09T11:59:00Z'))).toBe(false);
    expect(slotReached(s, new Date('2026-03-09T12:00:00Z'))).toBe(true);
    // In Berlin the autumn change (25 Oct 2026) moves 08:00 from 06:00 UTC to 07:00 UTC.
    const b = daily(8, 'Europe/Berlin');
    expect(slotReached(b, new Date('2026-10-24T06:00:00Z'))).toBe(true);
    expect(slotReached(b, new Date('2026-10-26T06:30:00Z'))).toBe(false);
    expect(slotReached(b, new Date('2026-10-26T07:00:00Z'))).toBe(true);
  });

  it('sends exactly one digest on the days the clocks change, even for the hour that happens twice or never', () => {
    for (const [tz, hour, day] of [['America/New_York', 2, '2026-03-08'], ['America/New_York', 1, '2026-11-01'], ['Europe/Berlin', 2, '2026-03-29'], ['Europe/Berlin', 2, '2026-10-25']] as const) {
      const s = daily(hour, tz);
      const sent: string[] = [];
      const start = Date.parse(`${day}T00:00:00Z`) - 12 * 3600_000;
      for (let t = start; t < start + 48 * 3600_000; t += 10 * 60_000) {
        const now = new Date(t);
        if (isDue(s, now, (k) => sent.includes(k))) sent.push(periodKey(s, now));
      }
      expect(sent.filter((k) => k === day), `${tz} ${day}`).toHaveLength(1);
      expect(new Set(sent).size).toBe(sent.length);
    }
  });

  it('does not send a first digest in the period the reader confirmed after its slot', () => {
    const s = { ...daily(8, 'UTC'), confirmedAt: '2026-11-23T15:00:00Z' };
    expect(isDue(s, new Date('2026-11-23T16:00:00Z'), never)).toBe(false);
    expect(isDue(s, new Date('2026-11-24T08:00:00Z'), never)).toBe(true);
    expect(localTime(new Date('2026-11-23T16:00:00Z'), 'UTC')).toMatchObject({ hour: 16, weekday: 1 });
  });
});
