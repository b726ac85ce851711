import type { Express } from 'express';
import { createCandidateIndex } from '../digests/candidate-index.js';
import { buildDigest } from '../digests/digest-builder.js';
import { AppError } from '../errors.js';
import { fromForm, Preferences } from '../subscribers/subscription-input.js';
import type { RateLimits } from './rate-limits.js';
import type { RouteDeps } from './routes.js';

const DAY = 86_400_000;
/** The preview looks back one week: "last week this would have sent you N papers". */
const PREVIEW_DAYS = 7;
/** Counted up to this many; more reads "100+". */
const PREVIEW_CAP = 100;
/** The candidate index is rebuilt when papers arrive, every 10 minutes, or after this many distinct answers (its per-interest cache stays bounded). */
const INDEX_TTL_MS = 10 * 60_000;
const ANSWERS_PER_INDEX = 2000;

/** What the live preview answers. */
export interface PreviewAnswer {
  days: number;
  count: number;
  capped: boolean;
  papers: { title: string; why: string }[];
  warning: string | null;
}

/**
 * `GET /api/preview?topics=…&keywords=…&exclude=…`: how many papers of the last
 * week these interests would have picked, with the top titles. Takes no
 * address and reads no subscriber, so it tells nothing about who subscribed;
 * GET changes nothing. Answers are cached per query until the index is rebuilt.
 */
export function registerPreviewRoutes(app: Express, deps: RouteDeps, limits: RateLimits): void {
  type State = { version: string; builtAt: number; index: Awaited<ReturnType<typeof createCandidateIndex>>; answers: Map<string, string> };
  let state: State | undefined;
  // Requests arriving while the index is rebuilt share that one build.
  let building: Promise<State> | null = null;

  const current = async (now: Date): Promise<State> => {
    const row = await deps.database.get<{ n: number; pk: number | null }>('SELECT count(*) AS n, max(pk) AS pk FROM papers');
    const v = `${row?.n ?? 0}:${row?.pk ?? 0}`;
    if (!state || state.version !== v || now.getTime() - state.builtAt > INDEX_TTL_MS || state.answers.size >= ANSWERS_PER_INDEX) {
      building ??= (async () => {
        try {
          const index = await createCandidateIndex(deps.database, new Date(now.getTime() - PREVIEW_DAYS * DAY).toISOString(), now);
          return (state = { version: v, builtAt: now.getTime(), index, answers: new Map() });
        } finally {
          building = null;
        }
      })();
      return building;
    }
    return state;
  };

  app.get('/api/preview', limits.preview, async (req, res) => {
    const q = fromForm(req.query as Record<string, unknown>);
    const parsed = Preferences.safeParse({ topics: q.topics ?? [], keywords: q.keywords ?? [], exclude: q.exclude ?? [] });
    if (!parsed.success) {
      throw new AppError('validation', 'Some fields are invalid.', parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'topics', message: i.message })));
    }
    const { topics, keywords, exclude } = parsed.data;
    const now = new Date();
    const s = await current(now);
    const key = JSON.stringify([topics, keywords, exclude]);
    let body = s.answers.get(key);
    if (!body) {
      const items = buildDigest(s.index, { topics, keywords, exclude }, { since: s.index.windowStart, now, limit: PREVIEW_CAP, alreadySent: () => false });
      const answer: PreviewAnswer = {
        days: PREVIEW_DAYS,
        count: items.length,
        capped: items.length >= PREVIEW_CAP,
        papers: items.slice(0, 3).map((i) => ({ title: i.title, why: i.why })),
        warning: items.length ? null : 'Nothing from the last week matches these interests, so you would get no digest. Try broader words, fewer exclusions, or add a topic.',
      };
      body = JSON.stringify(answer);
      s.answers.set(key, body);
    }
    res.set('Cache-Control', 'no-store').type('application/json').send(body);
  });
}
