// A reader's own signals on top of their interests, as nearest neighbours over
// the papers they rated (tf-idf cosine): papers like the ones they
// rated "more like this" move up (and a strong likeness may admit a paper no
// interest matched), papers like the ones they rated "less like this" move
// down or out, papers similar to a seed paper they follow and papers by an
// author they follow are added. Each change is named in the why line.
import type { CandidateIndex } from './candidate-index.js';
import type { Match } from './digest-builder.js';
import { authorKey, nearestEach, type Vector } from './reader-model.js';

/** A paper the reader rated or follows, as the model needs it. */
export interface SignalPaper {
  pk?: number;
  title: string;
  vector: Vector;
}

/** Everything a reader told us. */
export interface ReaderSignals {
  liked: SignalPaper[];
  disliked: SignalPaper[];
  seeds: SignalPaper[];
  authors: string[];
}

/** A paper on its way into a digest: relevance in [0, 1], the interests that matched it, and what the reader's signals add to its why line. */
export interface Candidate {
  pk: number;
  rel: number;
  matches: Match[];
  notes: string[];
}

export const FEEDBACK = {
  /** The most recent ratings of each kind that count. */
  memory: 30,
  /** A seed match's relevance: this plus its cosine. */
  seedRel: 0.4,
  /** Relevance × (1 + like × cos to the nearest liked paper − dislike × cos to the nearest disliked one). */
  like: 1.5,
  dislike: 2,
  /**
   * Once a reader has disliked something, a paper is left out when (cos to the nearest liked or seed
   * paper − cos to the nearest disliked) + leaveWeight × (relevance − leavePivot) < 0: a weak match has
   * to look like what they liked or follow, a strong one goes unless it is much closer to what they
   * disliked. Chosen on the development half of the simulation (README, Reader feedback).
   */
  leaveWeight: 0.5,
  leavePivot: 0.6,
  /** A paper no interest matched joins when this close to what the reader liked (after this many likes)… */
  admitLiked: 0.3,
  minLikes: 2,
  /** …or this close to a seed paper. */
  admitSeed: 0.15,
  /** A likeness worth naming in the why line. */
  mention: 0.15,
} as const;

/** Whether a reader has told us nothing (then the digest is exactly what the interests give). */
export const emptySignals = (s: ReaderSignals) => !s.liked.length && !s.disliked.length && !s.seeds.length && !s.authors.length;

const quote = (title: string) => `‘${title.length > 60 ? `${title.slice(0, 57)}…` : title}’`;

/** Candidates reranked (and completed) by a reader's signals; `accept` says whether a paper may go to this reader at all. */
export function rerankForReader(index: CandidateIndex, signals: ReaderSignals, candidates: Candidate[], accept: (pk: number) => boolean, limit: number): Candidate[] {
  // Only a digest's worth of papers can go: each seed or liked paper proposes its `limit` nearest.
  const closestInSlice = (p: SignalPaper, min: number) => index.similar(p, min).slice(0, limit);
  const liked = signals.liked.slice(-FEEDBACK.memory);
  const disliked = signals.disliked.slice(-FEEDBACK.memory);
  // A seed paper is one the reader already knows: it is never sent to them.
  const seedPks = new Set(signals.seeds.map((p) => p.pk));
  const byPk = new Map(candidates.filter((c) => !seedPks.has(c.pk)).map((c) => [c.pk, { ...c, notes: [...c.notes] }]));
  const add = (pk: number, rel: number, why: string) => {
    if (!accept(pk) || seedPks.has(pk)) return;
    const cur = byPk.get(pk);
    if (cur) {
      if (rel > cur.rel) cur.rel = rel;
      if (!cur.notes.includes(why)) cur.notes.push(why);
    } else byPk.set(pk, { pk, rel, matches: [], notes: [why] });
  };
  // A followed author's paper goes whatever the ratings say.
  const followed = new Set<number>();
  for (const name of signals.authors) {
    const key = authorKey(name);
    if (!key) continue;
    for (const pk of index.byAuthor(key)) {
      add(pk, 1, `by ${name}, whom you follow`);
      followed.add(pk);
    }
  }
  for (const seed of signals.seeds) {
    for (const [pk, sim] of closestInSlice(seed, FEEDBACK.admitSeed)) add(pk, Math.min(1, FEEDBACK.seedRel + sim), `similar to ${quote(seed.title)} that you follow`);
  }
  const becauseLiked = new Set<number>();
  if (liked.length >= FEEDBACK.minLikes) {
    for (const p of liked) {
      for (const [pk, sim] of closestInSlice(p, FEEDBACK.admitLiked)) {
        if (byPk.has(pk)) continue;
        add(pk, Math.min(1, sim), `because you liked ${quote(p.title)}`);
        becauseLiked.add(pk);
      }
    }
  }
  const out: Candidate[] = [];
  const pool = [...byPk.values()];
  const vectors = pool.map((c) => index.vector(c.pk)!);
  const nearLiked = nearestEach(vectors, liked);
  const nearDisliked = nearestEach(vectors, disliked);
  // A seed the reader follows counts as something they liked when deciding whether a paper stays.
  const nearSeed = disliked.length && signals.seeds.length ? nearestEach(vectors, signals.seeds) : null;
  pool.forEach((c, k) => {
    const up = liked[nearLiked.at[k]!];
    const down = disliked[nearDisliked.at[k]!];
    const [u, d] = [up ? nearLiked.sim[k]! : 0, down ? nearDisliked.sim[k]! : 0];
    // The nearest rated papers and the interests' relevance decide together whether a paper stays.
    const keep = followed.has(c.pk);
    const liking = nearSeed && nearSeed.at[k]! >= 0 ? Math.max(u, nearSeed.sim[k]!) : u;
    if (!keep && down && liking - d + FEEDBACK.leaveWeight * (c.rel - FEEDBACK.leavePivot) < 0) return;
    c.rel = Math.max(0, c.rel * (1 + FEEDBACK.like * u - FEEDBACK.dislike * d));
    if (!keep && c.rel === 0) return;
    if (down && d >= FEEDBACK.mention && d > u) c.notes.push(`ranked lower: like ${quote(down.title)}, which you marked less like this`);
    else if (up && u >= FEEDBACK.mention && !becauseLiked.has(c.pk)) c.notes.push(`ranked higher: like ${quote(up.title)}, which you liked`);
    out.push(c);
  });
  return out;
}
