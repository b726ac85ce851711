import { isDue, type Schedule } from '../digests/schedule.js';

const STEP_MS = 15 * 60_000;
const HORIZON_MS = 8 * 86_400_000;

/**
 * When the first digest of a reader who confirms at `now` falls due (the
 * schedule's own rule, found by stepping forward a quarter hour at a time so
 * half-hour time zones come out right), or null when none within 8 days.
 */
export function firstDelivery(s: Schedule, now: Date): Date | null {
  const who = { ...s, confirmedAt: now.toISOString() };
  const start = Math.ceil(now.getTime() / STEP_MS) * STEP_MS;
  for (let t = start; t <= now.getTime() + HORIZON_MS; t += STEP_MS) {
    if (isDue(who, new Date(t), () => false)) return new Date(t);
  }
  return null;
}

/** "Wednesday 2 December at 08:00 (Europe/Berlin)". */
export function formatDelivery(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('weekday')} ${get('day')} ${get('month')} at ${get('hour')}:${get('minute')} (${timeZone})`;
}
