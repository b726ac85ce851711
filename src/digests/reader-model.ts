// What a reader told us about papers, as a small per-reader model over the
// same words the relevance engine uses: papers are unit tf-idf vectors, and a
// reader's ratings become two centroids (liked, disliked) compared by cosine
// (Rocchio's nearest-centroid rule). Seed papers and followed authors are
// interests of their own. Pure: the shell loads signals and vectors.
import type { CorpusStats } from './corpus-stats.js';
import { stem, STOPWORDS, tokenize } from './term-match.js';
import { foldDiacritics } from '../papers/text-normalise.js';

/** A sparse unit vector: light stem → weight. */
export type Vector = Map<string, number>;

/** A paper's words as a unit tf-idf vector (title counted twice). */
export function paperVector(p: { title: string; abstract: string }, stats: CorpusStats): Vector {
  const v: Vector = new Map();
  for (const [text, w] of [[p.title, 2], [p.abstract, 1]] as const) {
    for (const word of tokenize(text)) if (!STOPWORDS.has(word) && word.length > 1) v.set(stem(word), (v.get(stem(word)) ?? 0) + w);
  }
  let norm = 0;
  for (const [s, tf] of v) {
    const x = Math.log1p(tf) * stats.idf(stats.df(s));
    v.set(s, x);
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (const [s, x] of v) v.set(s, x / norm);
  return v;
}

/** Cosine of two unit vectors. */
export function cosine(a: Vector, b: Vector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [s, x] of small) dot += x * (large.get(s) ?? 0);
  return dot;
}

/** The mean direction of some vectors, as a unit vector keeping its `keep` heaviest words. */
export function centroid(vectors: Vector[], keep = 40): Vector | null {
  if (!vectors.length) return null;
  const sum: Vector = new Map();
  for (const v of vectors) for (const [s, x] of v) sum.set(s, (sum.get(s) ?? 0) + x);
  const top = [...sum].sort((a, b) => b[1] - a[1]).slice(0, keep);
  const norm = Math.sqrt(top.reduce((n, [, x]) => n + x * x, 0)) || 1;
  return new Map(top.map(([s, x]) => [s, x / norm]));
}

/** An author's name as a comparable key: diacritics folded, first initial + last name ("Y. LeCun", "Yann LeCun" → "y lecun"). */
export function authorKey(name: string): string | null {
  const parts = foldDiacritics(name).toLowerCase().replace(/[^\p{L}\s.'-]/gu, ' ').split(/[\s.]+/).filter(Boolean);
  if (parts.length < 2) return parts.length === 1 && parts[0]!.length > 2 ? parts[0]! : null;
  return `${parts[0]![0]} ${parts.at(-1)}`;
}
