// Ranking: relevance combined with community signal and recency.
//
//   score     = relevance × (1 + UPVOTE_WEIGHT × community) × (1 − RECENCY_WEIGHT + RECENCY_WEIGHT × freshness)
//   relevance = min(1, rel of the best interest + OTHER_INTEREST_BONUS per further interest matched)
//   rel       = BM25F score of the paper for the interest / score of an ideal paper (see slice-scorer.ts)
//   community = min(1, ln(1 + upvotes) / ln(1 + UPVOTE_SATURATION))
//   freshness = 0.5 ^ (age in days / RECENCY_HALF_LIFE_DAYS), age from the publication date
//   × REVIVAL_FACTOR when the paper was published REVIVAL_DAYS or more before Paperboy first saw it
//     (an old paper trending again: its upvotes are today's, its news is not)
//
// Which papers an interest admits at all is decided per interest (admit()).

export const RANKING = {
  OTHER_INTEREST_BONUS: 0.1,
  UPVOTE_WEIGHT: 0.5,
  UPVOTE_SATURATION: 100,
  RECENCY_WEIGHT: 0.3,
  RECENCY_HALF_LIFE_DAYS: 30,
  /** A paper published this long before it was first seen is "trending again", not new. */
  REVIVAL_DAYS: 365,
  /** Its boost is scaled by this: at most 0.63 against a fresh paper's ≥ 1, so it needs a ~1.6× stronger match to lead. */
  REVIVAL_FACTOR: 0.6,
} as const;

/** The publication year of a paper that is trending again long after it was published, else null. */
export function trendingAgain(p: { publishedAt: string | null; firstSeenAt: string }): number | null {
  if (!p.publishedAt) return null;
  const born = Date.parse(p.publishedAt);
  const seen = Date.parse(p.firstSeenAt);
  if (!Number.isFinite(born) || !Number.isFinite(seen) || seen - born < RANKING.REVIVAL_DAYS * 86_400_000) return null;
  return new Date(born).getUTCFullYear();
}

export const FLOOR = {
  /** Share of an interest's IDF mass a paper must cover (see minCoverage()). */
  coverageBase: 0.9,
  coverageStep: 0.12,
  coverageMin: 0.4,
  /** A typed interest's paper must also reach this share of an ideal paper's score… */
  minRel: 0.2,
  /** …and this share of the best paper's score in the slice. */
  fromTop: 0.6,
  /** A catalogue topic's floor (no relative cut: see admit()). */
  catalogueMinRel: 0.3,
  /** An interest with at most this many (or this share of the slice) eligible papers is narrow: the relative cut does not apply. */
  narrowCount: 4,
  narrowShare: 0.03,
  /** When nothing passes, the best papers that contain every word the reader typed still go (at most this many). */
  fallback: 2,
  /** A typed interest matching more than this share of the slice is broad: only its strongest few go. */
  broadShare: 0.25,
  broadKeep: 5,
} as const;

/**
 * A paper must cover this share of the interest's IDF mass with the reader's words (soft AND):
 * all of one concept, most of two, about half of a sentence's many words.
 */
export function minCoverage(concepts: number): number {
  return concepts <= 1 ? 1 : Math.max(FLOOR.coverageMin, FLOOR.coverageBase - FLOOR.coverageStep * concepts);
}

/** One paper's match with an interest, as the floor needs it. */
export interface Scored {
  pk: number;
  rel: number;
  coverage: number;
  /** How many concepts the query had. */
  concepts: number;
  /** Concepts matched by the reader's own words or their spellings, and concepts no corpus paper uses (see lastResort()). */
  matched?: number;
  unseen?: number;
}

const isEligible = (h: Scored) => h.coverage >= minCoverage(h.concepts) - 1e-9;

/**
 * The papers an interest admits, best first. The cut adapts to the
 * interest: relative to its best paper, with a narrow interest still getting
 * its clear matches and a broad one ("learning") its strongest few. `own`: the
 * hits of the reader's own words when the interest also borrowed a topic's terms.
 */
export function admit<T extends Scored>(hits: T[], sliceSize: number, opts: { catalogue: boolean; own?: Scored[] }): T[] {
  const eligible = hits.filter(isEligible).sort((a, b) => b.rel - a.rel || a.pk - b.pk);
  if (!eligible.length) return opts.catalogue ? [] : lastResort(hits);
  // The cut is relative to the best paper for the reader's own words, when they match anything.
  const ownTop = opts.own?.filter(isEligible).reduce((m, h) => Math.max(m, h.rel), 0);
  const top = ownTop || eligible[0]!.rel;
  // A narrow interest (few papers cover it) keeps every clear match; a wider one its best.
  const narrow = eligible.length <= Math.max(FLOOR.narrowCount, FLOOR.narrowShare * sliceSize);
  // A catalogue topic's terms are phrases chosen to mean the topic: any clear mention counts, and a
  // paper matching many of them must not push the others out.
  let kept = opts.catalogue
    ? eligible.filter((h) => h.rel >= FLOOR.catalogueMinRel)
    : eligible.filter((h) => h.rel >= FLOOR.minRel && (h.rel >= FLOOR.fromTop * top || (narrow && h.coverage >= 0.999)));
  if (!kept.length) kept = eligible.filter((h) => h.coverage >= 0.999).slice(0, FLOOR.fallback);
  if (!kept.length && !opts.catalogue) kept = lastResort(hits);
  // Catalogue topics are broad by design: a reader who picked one wants all of it. A typed
  // interest is broad when the reader's own words (not a borrowed topic's) match much of the slice.
  const own = opts.own ? opts.own.filter(isEligible).length : eligible.length;
  if (!opts.catalogue && sliceSize >= 20 && own > FLOOR.broadShare * sliceSize) kept = kept.slice(0, FLOOR.broadKeep);
  return kept;
}

/**
 * A sentence-like interest (3+ concepts) that nothing passed for: its best papers that contain at
 * least half of the reader's words (two at least) still go, so a reader whose sentence has a
 * rare filler word ("huge") is not left empty. Not when the reader typed a word no paper in the
 * corpus uses ("music"): then the corpus has nothing on what they asked, and empty is right.
 */
function lastResort<T extends Scored>(hits: T[]): T[] {
  return hits
    .filter((h) => h.concepts >= 3 && h.unseen === 0 && (h.matched ?? 0) >= Math.max(2, h.concepts / 2) && h.rel >= FLOOR.minRel)
    .sort((a, b) => b.rel - a.rel || a.pk - b.pk)
    .slice(0, FLOOR.fallback);
}

/** Relevance in [0, 1] from a paper's best interest match and how many more interests it matched. */
export function relevance(bestRel: number, otherInterests: number): number {
  return Math.min(1, bestRel + RANKING.OTHER_INTEREST_BONUS * otherInterests);
}

/** The community and recency factor of a paper: score = relevance × boost. */
export function boost(p: { upvotes: number; publishedAt: string | null; firstSeenAt: string }, now: Date): number {
  const community = Math.min(1, Math.log1p(p.upvotes) / Math.log1p(RANKING.UPVOTE_SATURATION));
  const born = Date.parse(p.publishedAt ?? p.firstSeenAt);
  const ageDays = Number.isFinite(born) ? Math.max(0, (now.getTime() - born) / 86_400_000) : 0;
  const freshness = 0.5 ** (ageDays / RANKING.RECENCY_HALF_LIFE_DAYS);
  const revival = trendingAgain(p) === null ? 1 : RANKING.REVIVAL_FACTOR;
  return (1 + RANKING.UPVOTE_WEIGHT * community) * (1 - RANKING.RECENCY_WEIGHT + RANKING.RECENCY_WEIGHT * freshness) * revival;
}
