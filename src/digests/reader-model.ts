// Papers as the per-reader model sees them: unit tf-idf vectors over the same
// words the relevance engine uses, compared by cosine; and authors as keys
// that survive initials and diacritics. Pure.
import type { CorpusStats } from './corpus-stats.js';
import { stem, STOPWORDS, tokenize } from './term-match.js';
import { foldDiacritics } from '../papers/text-normalise.js';

/** A sparse unit vector: term ids (ascending, from the corpus statistics' dictionary) and their weights. */
export interface Vector {
  ids: Int32Array;
  w: Float64Array;
}

// More distinct words than a paper can have (an abstract is at most 20,000 characters).
const PLACES = 1 << 20;

/** A paper's words as a unit tf-idf vector (title counted twice). */
export function paperVector(p: { title: string; abstract: string }, stats: CorpusStats): Vector {
  const tf = new Map<string, number>();
  countWords(tf, p.title, 2);
  countWords(tf, p.abstract, 1);
  // Plain loops into typed arrays: a run builds thousands of these (TypedArray.from with a mapper, tuples per word and a sort comparator showed in its profile).
  const n = tf.size;
  const idOf = new Int32Array(n);
  const weightOf = new Float64Array(n);
  let k = 0;
  for (const [s, count] of tf) {
    idOf[k] = stats.termId(s);
    weightOf[k++] = Math.log1p(count) * stats.idf(stats.df(s));
  }
  // Ascending term id: each word's id and place packed in one number, sorted as a typed array (no comparator).
  const order = new Float64Array(n);
  for (let i = 0; i < n; i++) order[i] = idOf[i]! * PLACES + i;
  order.sort();
  const ids = new Int32Array(n);
  const w = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const place = order[i]! % PLACES;
    const x = weightOf[place]!;
    ids[i] = idOf[place]!;
    w[i] = x;
    sum += x * x;
  }
  const norm = Math.sqrt(sum) || 1;
  for (let i = 0; i < n; i++) w[i] = w[i]! / norm;
  return { ids, w };
}

function countWords(tf: Map<string, number>, text: string, weight: number): void {
  for (const word of tokenize(text)) {
    if (word.length < 2 || STOPWORDS.has(word)) continue;
    const s = stem(word);
    tf.set(s, (tf.get(s) ?? 0) + weight);
  }
}

// Papers are compared by cosine. A paper compared with many others is spread into a dense array
// once: each comparison then reads only the other paper's words (no merging per pair), summing the
// shared words' products in ascending term id, as a merge of the two sorted vectors would.
let dense = new Float64Array(1 << 16);

/** Calls `use` with the dot product against `a` (a unit vector, so the cosine) of any vector it is given; `use` must not spread another paper (one dense array). */
export function withSpread<T>(a: Vector, use: (dot: (b: Vector) => number) => T): T {
  const last = a.ids.length ? a.ids[a.ids.length - 1]! : 0;
  if (last >= dense.length) dense = new Float64Array(Math.max(last + 1, dense.length * 2));
  const d = dense;
  for (let i = 0; i < a.ids.length; i++) d[a.ids[i]!] = a.w[i]!;
  try {
    return use((b) => {
      let dot = 0;
      for (let j = 0; j < b.ids.length; j++) {
        const id = b.ids[j]!;
        if (id < d.length) dot += d[id]! * b.w[j]!;
      }
      return dot;
    });
  } finally {
    for (let i = 0; i < a.ids.length; i++) d[a.ids[i]!] = 0;
  }
}

/** For each vector of `vs`, the index in `papers` of its nearest paper by cosine (-1 when there are none) and that cosine. */
export function nearestEach(vs: Vector[], papers: { vector: Vector }[]): { at: Int32Array; sim: Float64Array } {
  const at = new Int32Array(vs.length).fill(-1);
  const sim = new Float64Array(vs.length);
  for (let p = 0; p < papers.length; p++) {
    withSpread(papers[p]!.vector, (dot) => {
      for (let k = 0; k < vs.length; k++) {
        const s = dot(vs[k]!);
        if (at[k] === -1 || s > sim[k]!) {
          at[k] = p;
          sim[k] = s;
        }
      }
    });
  }
  return { at, sim };
}

/** An author's name as a comparable key: diacritics folded, first initial + last name ("Y. LeCun", "Yann LeCun" → "y lecun"). */
export function authorKey(name: string): string | null {
  const parts = foldDiacritics(name).toLowerCase().replace(/[^\p{L}\s.'-]/gu, ' ').split(/[\s.]+/).filter(Boolean);
  if (parts.length < 2) return parts.length === 1 && parts[0]!.length > 2 ? parts[0]! : null;
  return `${parts[0]![0]} ${parts.at(-1)}`;
}
