import { z } from 'zod';
import { TOPIC_SLUGS } from './topic-catalogue.js';
import { unknownTopicMessage } from './topic-suggest.js';

// Checked per signup; building a DateTimeFormat to test a name is slow. Keyed by the
// lower-cased name: ICU accepts any case, and the runtime's list spells each zone once.
const listedZones = new Map<string, string>(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));
const otherZones = new Map<string, string | null>();

// An alias typed the way IANA spells names ("Asia/Kolkata", "US/Eastern", "UTC"): every part starts
// upper-case, and only short abbreviations are all capitals. Kept as typed, since the runtime's own
// name for it may be an older spelling (ICU resolves "Asia/Kolkata" to "Asia/Calcutta").
const ianaCased = (tz: string) => tz.split('/').every((part) => /^[A-Z]/.test(part) && (part.length <= 4 || part !== part.toUpperCase()));

/**
 * The canonical spelling of an IANA time zone name, or null when the runtime
 * does not know it: a listed zone in its listed spelling ("europe/paris" →
 * "Europe/Paris"); an alias as typed when typed in IANA's case, else as the
 * runtime resolves it ("us/eastern" → "America/New_York", "utc" → "UTC").
 */
export function canonicalTimeZone(tz: string): string | null {
  const listed = listedZones.get(tz.toLowerCase());
  if (listed) return listed;
  if (tz.length > 64) return null;
  const cached = otherZones.get(tz);
  if (cached !== undefined) return cached;
  let canonical: string | null;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    canonical = ianaCased(tz) ? tz : resolved;
  } catch {
    canonical = null;
  }
  // Bounded: case variants of accepted names are many, so stop remembering past a few thousand.
  if (otherZones.size < 5000) otherZones.set(tz, canonical);
  return canonical;
}

/** Whether `tz` is an IANA time zone this runtime knows (in any case). */
export function isTimeZone(tz: string): boolean {
  return canonicalTimeZone(tz) !== null;
}

// Every schema names its own messages: zod's defaults ("Invalid input: expected number, received NaN")
// would reach readers on the web form, API clients and the CLI as they are.
const TEXT = { error: 'must be text' };
const ZONE_MESSAGE = 'must be an IANA time zone such as Europe/Berlin';
const term = z
  .string(TEXT)
  .trim()
  .min(2, 'must be at least 2 characters')
  .max(200, 'must be at most 200 characters')
  .refine((s) => /[\p{L}\p{N}]/u.test(s), 'must contain a letter or digit');
/** Keeps the first spelling of entries that differ only in case or spacing ("GRPO; grpo" → ["GRPO"]): matching ignores both. */
const uniqueIgnoringCase = (xs: string[]) => {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = x.toLowerCase().replace(/\s+/g, ' ');
    return !seen.has(k) && Boolean(seen.add(k));
  });
};
const termList = z
  .array(term, { error: 'must be a list of words or phrases' })
  .max(20, 'at most 20 entries')
  .default([])
  .transform(uniqueIgnoringCase);
// A seed paper: an arXiv id or link, a Hugging Face paper link, or a title of a paper in the corpus.
const seed = z.string(TEXT).trim().min(4, 'must be at least 4 characters').max(300, 'must be at most 300 characters').refine((s) => /[\p{L}\p{N}]/u.test(s), 'must contain a letter or digit');
const authorName = z.string(TEXT).trim().min(2, 'must be at least 2 characters').max(100, 'must be at most 100 characters').refine((s) => /\p{L}/u.test(s), 'must contain a letter');
const uniqueList = <T extends z.ZodType<string>>(item: T, what: string) =>
  z.array(item, { error: `must be a list of ${what}` }).max(20, 'at most 20 entries').default([]).transform((xs) => [...new Set(xs)]);
/** A topic as people type its slug: "Agents", " Diffusion Models" and "diffusion_models" all mean diffusion-models. */
const topicSlug = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase().replace(/[\s_]+/g, '-') : v);
/** A whole number in a range, with one plain message for every way to miss it (not a number, a fraction, out of range). */
const wholeNumber = (min: number, max: number, message: string) => z.coerce.number({ error: message }).int(message).min(min, message).max(max, message);

export const Email = z
  .string({ error: 'must be a valid email address' })
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'))
  .transform((e) => e.toLowerCase());

export const Frequency = z.enum(['daily', 'weekly'], { error: 'must be daily or weekly' });
export type Frequency = z.infer<typeof Frequency>;

/** Interests and schedule: what a reader can set on the subscribe and preferences pages. */
export const Preferences = z
  .strictObject({
    topics: z
      .array(z.preprocess(topicSlug, z.enum(TOPIC_SLUGS as [string, ...string[]], { error: (i) => unknownTopicMessage(String(i.input)) })), { error: 'must be a list of topics' })
      .max(TOPIC_SLUGS.length, `at most ${TOPIC_SLUGS.length} topics`)
      .default([])
      .transform((t) => [...new Set(t)]),
    keywords: termList,
    exclude: termList,
    seeds: uniqueList(seed, 'papers (arXiv ids, links or titles)'),
    authors: uniqueList(authorName, 'author names'),
    frequency: Frequency.default('daily'),
    weekday: wholeNumber(1, 7, 'must be a whole number from 1 (Monday) to 7 (Sunday)').default(1),
    hour: wholeNumber(0, 23, 'must be a whole number from 0 to 23').default(8),
    // Stored as the canonical name, so "europe/paris" shows and schedules as "Europe/Paris".
    timezone: z.string({ error: ZONE_MESSAGE }).trim().refine(isTimeZone, ZONE_MESSAGE).transform((tz) => canonicalTimeZone(tz)!).default('UTC'),
    maxPapers: wholeNumber(1, 50, 'must be a whole number from 1 to 50').default(10),
  }, { error: (i) => (i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}` : undefined) })
  .refine((p) => p.topics.length + p.keywords.length + p.seeds.length + p.authors.length > 0, {
    path: ['topics'],
    message: 'pick at least one topic, type a keyword, or add a paper or an author to follow',
  });
export type Preferences = z.infer<typeof Preferences>;

/** Validates a `POST /api/subscriptions` body into email + preferences, with field-level issues. */
export function parseSubscription(body: unknown) {
  const obj = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const { email, website: _honeypot, ...rest } = obj;
  const emailResult = Email.safeParse(email ?? '');
  const prefsResult = Preferences.safeParse(rest);
  const issues = [
    ...(emailResult.success ? [] : emailResult.error.issues.map((i) => ({ ...i, path: ['email', ...i.path] }))),
    ...(prefsResult.success ? [] : prefsResult.error.issues),
  ];
  if (issues.length) return { success: false as const, issues };
  return { success: true as const, email: emailResult.data!, preferences: prefsResult.data! };
}

/** Turns form fields (comma/newline separated text, single values) into the API shape. */
export function fromForm(form: Record<string, unknown>): Record<string, unknown> {
  const list = (v: unknown) =>
    (Array.isArray(v) ? v : [v])
      .filter((x): x is string => typeof x === 'string')
      .flatMap((s) => s.split(/[,;\n]/))
      .map((s) => s.trim())
      .filter(Boolean);
  const lines = (v: unknown) => (typeof v === 'string' ? v.split(/\r?\n/).map((s) => s.trim()).filter(Boolean) : []);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(form)) {
    if (k === 'topics' || k === 'keywords' || k === 'exclude' || k === 'authors') out[k] = list(v);
    // Titles have commas: seed papers are one per line.
    else if (k === 'seeds') out[k] = lines(v);
    else if (typeof v === 'string' && v.trim() !== '') out[k] = v;
  }
  return out;
}
