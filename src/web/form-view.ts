import type { FieldIssue } from '../errors.js';
import { TOPICS } from '../subscribers/topic-catalogue.js';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const COMMON_ZONES = ['UTC', 'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'America/New_York', 'America/Chicago', 'America/Los_Angeles', 'America/Sao_Paulo', 'Asia/Kolkata', 'Asia/Shanghai', 'Asia/Tokyo', 'Asia/Seoul', 'Asia/Singapore', 'Australia/Sydney'];

/** Values shown in the preferences form (from a subscriber, a failed submission, or defaults). */
export interface FormValues {
  email?: string;
  topics?: string[];
  keywords?: string[] | string;
  exclude?: string[] | string;
  frequency?: string;
  weekday?: number | string;
  hour?: number | string;
  timezone?: string;
  maxPapers?: number | string;
}

const text = (v: string[] | string | undefined) => (Array.isArray(v) ? v.join(', ') : (v ?? ''));

/** Everything the prefs-form partial needs: options with selection flags and per-field errors. */
export function formView(values: FormValues, issues: FieldIssue[] = []) {
  const errors: Record<string, string> = {};
  for (const i of issues) errors[i.field.split('.')[0]!] ??= i.message;
  const hour = Number(values.hour ?? 8);
  const weekday = Number(values.weekday ?? 1);
  const maxPapers = Number(values.maxPapers ?? 10);
  const timezone = values.timezone ?? 'UTC';
  return {
    email: values.email ?? '',
    errors,
    hasErrors: issues.length > 0,
    topics: TOPICS.map((t) => ({ ...t, checked: values.topics?.includes(t.slug) ?? false })),
    keywords: text(values.keywords),
    exclude: text(values.exclude),
    weekly: values.frequency === 'weekly',
    weekdays: WEEKDAYS.map((name, i) => ({ value: i + 1, name, selected: weekday === i + 1 })),
    hours: Array.from({ length: 24 }, (_, h) => ({ value: h, label: `${String(h).padStart(2, '0')}:00`, selected: hour === h })),
    zones: [...new Set([timezone, ...COMMON_ZONES])].map((z) => ({ value: z, selected: z === timezone })),
    sizes: [3, 5, 10, 15, 20, 30].map((n) => ({ value: n, selected: n === maxPapers })),
  };
}
