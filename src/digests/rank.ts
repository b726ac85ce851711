// Ranking: relevance combined with community signal and recency.
//
//   score = relevance × (1 + UPVOTE_WEIGHT × community) × (1 − RECENCY_WEIGHT + RECENCY_WEIGHT × freshness)
//
//   relevance  = s / (s + RELEVANCE_HALF), s = BM25 of the terms that matched (title ×10, keywords ×3,
//                abstract ×1; k1 = 1.2, b = 0.75; see candidate-index.ts) for the best interest,
//                + OTHER_INTEREST_BONUS for each further interest that also passes the floor
//   community  = min(1, ln(1 + upvotes) / ln(1 + UPVOTE_SATURATION))
//   freshness  = 0.5 ^ (age in days / RECENCY_HALF_LIFE_DAYS), age from the publication date
//
// A paper whose relevance is below RELEVANCE_FLOOR is never sent, whatever
// its upvotes: weak matches must not fill the email.

export const RANKING = {
  RELEVANCE_HALF: 1,
  RELEVANCE_FLOOR: 0.55,
  OTHER_INTEREST_BONUS: 0.1,
  UPVOTE_WEIGHT: 0.5,
  UPVOTE_SATURATION: 100,
  RECENCY_WEIGHT: 0.3,
  RECENCY_HALF_LIFE_DAYS: 30,
} as const;

/** Relevance in [0, 1) from a BM25 score. */
export function relevance(bm25: number): number {
  const s = Math.max(0, bm25);
  return s / (s + RANKING.RELEVANCE_HALF);
}

/** The community and recency factor of a paper: score = relevance × boost. */
export function boost(p: { upvotes: number; publishedAt: string | null; firstSeenAt: string }, now: Date): number {
  const community = Math.min(1, Math.log1p(p.upvotes) / Math.log1p(RANKING.UPVOTE_SATURATION));
  const born = Date.parse(p.publishedAt ?? p.firstSeenAt);
  const ageDays = Number.isFinite(born) ? Math.max(0, (now.getTime() - born) / 86_400_000) : 0;
  const freshness = 0.5 ** (ageDays / RANKING.RECENCY_HALF_LIFE_DAYS);
  return (1 + RANKING.UPVOTE_WEIGHT * community) * (1 - RANKING.RECENCY_WEIGHT + RANKING.RECENCY_WEIGHT * freshness);
}
