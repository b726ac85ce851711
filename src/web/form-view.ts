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
  seeds?: string[] | string;
  authors?: string[] | string;
  frequency?: string;
  weekday?: number | string;
  hour?: number | string;
  timezone?: string;
  maxPapers?: number | string;
}

const text = (v: string[] | string | undefined) => (Array.isArray(v) ? v.join(', ') : (v ?? ''));

// What the error summary calls each field, and where its link goes (the input itself, so focus lands there).
const FIELDS: Record<string, { label: string; target: string }> = {
  email: { label: 'Email address', target: 'email' },
  keywords: { label: 'Your own keywords', target: 'keywords' },
  exclude: { label: 'Never send papers about', target: 'exclude' },
  topics: { label: 'Topics', target: 'field-topics' },
  seeds: { label: 'Papers like these', target: 'field-seeds' },
  authors: { label: 'Authors to follow', target: 'field-authors' },
  frequency: { label: 'Frequency', target: 'field-frequency' },
  weekday: { label: 'Weekday', target: 'weekday' },
  hour: { label: 'Delivery hour', target: 'hour' },
  timezone: { label: 'Time zone', target: 'timezone' },
  maxPapers: { label: 'Papers per digest', target: 'maxPapers' },
};

/** Everything the prefs-form partial needs: options with selection flags and per-field errors. */
export function formView(values: FormValues, issues: FieldIssue[] = []) {
  const errors: Record<string, string> = {};
  for (const i of issues) errors[i.field.split('.')[0]!] ??= i.message;
  const hour = Number(values.hour ?? 8);
  const weekday = Number(values.weekday ?? 1);
  const maxPapers = Number(values.maxPapers ?? 10);
  const timezone = values.timezone ?? 'UTC';
  const errorList = Object.entries(errors).map(([field, message]) => ({ ...(FIELDS[field] ?? { label: field, target: `field-${field}` }), message }));
  const topicCount = values.topics?.length ?? 0;
  return {
    email: values.email ?? '',
    errors,
    hasErrors: issues.length > 0,
    errorList,
    errorCount: errorList.length,
    oneError: errorList.length === 1,
    // The topic grid is long: folded on arrival (the keyword field and the button stay within reach on a phone),
    // open when it holds a choice or an error. subscribe.js opens it on wide screens.
    topicsOpen: topicCount > 0 || Boolean(errors.topics),
    topicCount,
    timezoneValue: timezone,
    topics: TOPICS.map((t) => ({ ...t, checked: values.topics?.includes(t.slug) ?? false })),
    keywords: text(values.keywords),
    exclude: text(values.exclude),
    seeds: Array.isArray(values.seeds) ? values.seeds.join('\n') : (values.seeds ?? ''),
    authors: text(values.authors),
    weekly: values.frequency === 'weekly',
    weekdays: WEEKDAYS.map((name, i) => ({ value: i + 1, name, selected: weekday === i + 1 })),
    hours: Array.from({ length: 24 }, (_, h) => ({ value: h, label: `${String(h).padStart(2, '0')}:00`, selected: hour === h })),
    zones: [...new Set([timezone, ...COMMON_ZONES])].map((z) => ({ value: z, selected: z === timezone })),
    sizes: [3, 5, 10, 15, 20, 30].map((n) => ({ value: n, selected: n === maxPapers })),
  };
}
