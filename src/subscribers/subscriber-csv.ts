import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { Email, Preferences } from './subscription-input.js';
import type { Subscriber, SubscriberStatus } from './subscriber-repo.js';

/** The CSV columns `subscribers import` reads and `subscribers export` writes; lists use ";". */
// seeds and authors (issue 14) come last and are optional on import, so older files still read.
export const CSV_COLUMNS = ['email', 'status', 'topics', 'keywords', 'exclude', 'frequency', 'weekday', 'hour', 'timezone', 'max_papers', 'seeds', 'authors'] as const;

const Status = z.enum(['pending', 'active', 'paused', 'unsubscribed', 'bounced']);

/** One valid CSV row. */
export interface CsvSubscriber {
  line: number;
  email: string;
  status: SubscriberStatus | null;
  preferences: Preferences;
}

const list = (v: string | undefined) => (v ?? '').split(';').map((s) => s.trim()).filter(Boolean);

/** Parses and validates a whole subscriber CSV; the first bad row throws, naming line and field. */
export function parseSubscriberCsv(text: string, file: string): CsvSubscriber[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, relax_column_count: false });
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new InputError(file, e.lines ? `line ${e.lines}` : null, `not valid CSV (${e.message})`);
  }
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!.split(',').map((h) => h.trim().toLowerCase());
  if (!header.includes('email')) throw new InputError(file, 'line 1', 'the header must name an "email" column');
  const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
  if (unknown.length) throw new InputError(file, 'line 1', `unknown column "${unknown[0]}" (expected ${CSV_COLUMNS.join(', ')})`);
  const seen = new Set<string>();
  return rows.map((row, i) => {
    const line = i + 2;
    const fail = (field: string, message: string): never => {
      throw new InputError(file, `line ${line}`, `${field}: ${message}`);
    };
    const email = Email.safeParse(row.email ?? '');
    if (!email.success) fail('email', email.error.issues[0]!.message);
    if (seen.has(email.data!)) fail('email', 'appears twice in this file');
    seen.add(email.data!);
    const status = row.status ? Status.safeParse(row.status) : null;
    if (status && !status.success) fail('status', `must be one of ${Status.options.join(', ')}`);
    const prefs = Preferences.safeParse({
      topics: list(row.topics),
      keywords: list(row.keywords),
      exclude: list(row.exclude),
      seeds: list(row.seeds),
      authors: list(row.authors),
      ...(row.frequency ? { frequency: row.frequency } : {}),
      ...(row.weekday ? { weekday: row.weekday } : {}),
      ...(row.hour ? { hour: row.hour } : {}),
      ...(row.timezone ? { timezone: row.timezone } : {}),
      ...(row.max_papers ? { maxPapers: row.max_papers } : {}),
    });
    if (!prefs.success) {
      const issue = prefs.error.issues[0]!;
      const field = String(issue.path[0] ?? 'topics');
      fail(field === 'maxPapers' ? 'max_papers' : field, issue.message);
    }
    return { line, email: email.data!, status: status?.data ?? null, preferences: prefs.data! };
  });
}

/** Subscribers as CSV with the same columns the importer reads. */
export function toSubscriberCsv(subscribers: Subscriber[]): string {
  return stringify(
    subscribers.map((s) => [s.email, s.status, s.topics.join(';'), s.keywords.join(';'), s.exclude.join(';'), s.frequency, s.weekday, s.hour, s.timezone, s.maxPapers, s.seeds.join(';'), s.authors.join(';')]),
    { header: true, columns: [...CSV_COLUMNS] },
  );
}
