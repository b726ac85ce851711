// BM25F over the recent slice, in process: every paper first seen in the
// window is indexed once per run, and each distinct query is scored once per
// run against it (shared by every reader with that interest). Nothing here
// depends on SQLite, so the same engine runs over any database.
import type { CorpusStats } from './corpus-stats.js';
import type { Alternative, Concept, Query } from './interest-query.js';
import { FUNCTION_WORDS, stem, tokenize } from './term-match.js';

export const BM25F = {
  k1: 1.2,
  b: 0.75,
  /** Field weights: a word in the title says far more about a paper than one in its abstract. */
  title: 3,
  abstract: 1,
  keywords: 1.5,
  /** Bonus when the reader's concepts stand as typed (full), or close together (half: same title, or within `window` words). */
  proximity: 0.6,
  window: 8,
} as const;

// A variant spelling or an acronym's long form is the concept itself; derivations and related words only partly.
const SAME_CONCEPT = new Set(['own', 'variant', 'acronym']);
const FIELD_WEIGHT = [BM25F.title, BM25F.abstract, BM25F.keywords];

interface IndexedPaper {
  pk: number;
  /** Light stems and surface words per field. */
  stems: string[][];
  words: string[][];
  length: number;
}

/** What a hit keeps of a concept match: which concept, by which alternative. */
export type MatchedConcept = Pick<ConceptMatch, 'concept' | 'alt'>;

/** How one concept matched one paper. */
export interface ConceptMatch {
  concept: Concept;
  /** The best alternative that matched and the weighted term frequency. */
  alt: Alternative;
  tf: number;
  /** Positions per field (title, abstract, keywords). */
  at: number[][];
}

/** A paper scored against a query. */
export interface QueryHit {
  pk: number;
  /** Score relative to an ideal paper (every concept once in the title and once in the abstract): ~0–1.5. */
  rel: number;
  /** Share of the query's IDF mass the paper covers with the reader's words or their variants (0–1). */
  coverage: number;
  concepts: number;
  /** Concepts matched by the reader's words, their spellings or acronyms (not derivations or related words). */
  matched: number;
  /** Concepts of the query that no paper of the corpus uses (the same for every hit of a query). */
  unseen: number;
  /** How each concept matched (positions are dropped once scored: a run keeps many hits). */
  matches: MatchedConcept[];
  /** Surface words to highlight. */
  words: string[];
}

/** Indexes the papers of the recent slice (title, abstract, keywords) for scoring queries. */
export function createSliceIndex(papers: { pk: number; title: string; abstract: string; keywords: string[] }[], stats: CorpusStats) {
  const docs: IndexedPaper[] = [];
  // stem → flat [doc, field, position, …]
  const postings = new Map<string, number[]>();
  for (const p of papers) {
    const doc = docs.length;
    const texts = [p.title, p.abstract, p.keywords.join(' ; ')];
    const words = texts.map(tokenize);
    const stems = words.map((ws) => ws.map(stem));
    stems.forEach((field, f) =>
      field.forEach((s, pos) => {
        let list = postings.get(s);
        if (!list) postings.set(s, (list = []));
        list.push(doc, f, pos);
      }),
    );
    docs.push({ pk: p.pk, stems, words, length: words[0]!.length + words[1]!.length + words[2]!.length });
  }
  const avgLength = stats.avgLength;

  /** Where an alternative occurs: doc → positions per field. */
  const occurrences = (alt: Alternative): Map<number, number[][]> => {
    const out = new Map<number, number[][]>();
    const list = postings.get(alt.stems[0]!);
    if (!list) return out;
    for (let i = 0; i < list.length; i += 3) {
      const [doc, f, pos] = [list[i]!, list[i + 1]!, list[i + 2]!];
      const field = docs[doc]!.stems[f]!;
      let ok = true;
      for (let j = 1; j < alt.stems.length && ok; j++) ok = field[pos + j] === alt.stems[j];
      if (!ok) continue;
      let at = out.get(doc);
      if (!at) out.set(doc, (at = [[], [], []]));
      at[f]!.push(pos);
    }
    return out;
  };

  const saturate = (tf: number, length: number) => (tf * (BM25F.k1 + 1)) / (tf + BM25F.k1 * (1 - BM25F.b + (BM25F.b * length) / avgLength));

  return {
    size: docs.length,

    /** Every paper of the slice that matches the query's concepts (not only related words), scored. */
    score(query: Query): QueryHit[] {
      const perConcept = query.concepts.map((c) => {
        const byDoc = new Map<number, ConceptMatch>();
        for (const alt of c.alts) {
          for (const [doc, at] of occurrences(alt)) {
            const tf = alt.weight * at.reduce((s, ps, f) => s + FIELD_WEIGHT[f]! * ps.length, 0);
            // Related words add to the score but are not where the reader's words stand.
            const where = alt.kind === 'related' ? [[], [], []] : at;
            const m = byDoc.get(doc);
            if (!m) byDoc.set(doc, { concept: c, alt, tf, at: where });
            else {
              // Alternatives add up (a paper saying "LLM" and "large language model"), the best one names the match.
              if (alt.weight > m.alt.weight) m.alt = alt;
              m.tf += tf;
              where.forEach((ps, f) => m.at[f]!.push(...ps));
            }
          }
        }
        return byDoc;
      });
      // A word the corpus has never used still counts (as the rarest): it is often what the reader cares about most.
      const mass = query.concepts.reduce((s, c) => s + c.idf, 0);
      const ideal = query.concepts.reduce((s, c) => s + c.idf * saturate(BM25F.title + BM25F.abstract, avgLength), 0);
      const unseen = query.concepts.filter((c) => c.idf >= stats.idf(0) - 1e-9).length;
      const candidates = new Set<number>();
      perConcept.forEach((byDoc) => byDoc.forEach((m, doc) => m.alt.kind !== 'related' && candidates.add(doc)));
      const hits: QueryHit[] = [];
      for (const doc of candidates) {
        const d = docs[doc]!;
        const matches = perConcept.map((byDoc) => byDoc.get(doc)).filter((m): m is ConceptMatch => m !== undefined);
        let s = 0;
        let covered = 0;
        let matched = 0;
        for (const m of matches) {
          s += m.concept.idf * saturate(m.tf, d.length);
          const same = SAME_CONCEPT.has(m.alt.kind);
          covered += m.concept.idf * (same ? 1 : m.alt.weight);
          if (same) matched++;
        }
        const close = proximity(matches);
        hits.push({ pk: d.pk, rel: ideal > 0 ? (s * (1 + BM25F.proximity * close)) / ideal : 0, coverage: mass > 0 ? covered / mass : 0, concepts: query.concepts.length, matched, unseen, matches: matches.map(({ concept, alt }) => ({ concept, alt })), words: highlightWords(d, matches, stats) });
      }
      return hits;
    },
  };
}
export type SliceIndex = ReturnType<typeof createSliceIndex>;

/**
 * How close the matched concepts stand, averaged over pairs: 1 when one
 * follows the other as typed ("prompt optimization"), ½ when both are in the
 * title or within the window of each other.
 */
function proximity(matches: ConceptMatch[]): number {
  const own = matches.filter((m) => m.alt.kind !== 'related');
  if (own.length < 2) return 0;
  let pairs = 0;
  let close = 0;
  for (let i = 0; i < own.length; i++) {
    for (let j = i + 1; j < own.length; j++) {
      pairs++;
      const [a, b] = [own[i]!, own[j]!];
      const step = a.alt.stems.length;
      if (a.at.some((ps, f) => ps.some((p) => b.at[f]!.includes(p + step)))) close += 1;
      else if ((a.at[0]!.length && b.at[0]!.length) || a.at[1]!.some((p) => b.at[1]!.some((q) => Math.abs(p - q) <= BM25F.window))) close += 0.5;
    }
  }
  return close / pairs;
}

/** Surface words of what matched, not lone common words ("learning" alone lights up everything). */
function highlightWords(d: IndexedPaper, matches: ConceptMatch[], stats: CorpusStats): string[] {
  const out = new Set<string>();
  const common = stats.idf(stats.size * 0.15);
  for (const m of matches) {
    const n = m.alt.stems.length;
    if (m.alt.kind === 'related' || (n === 1 && m.concept.idf < common)) continue;
    m.at.forEach((ps, f) => {
      for (const p of ps) {
        for (let j = 0; j < n; j++) {
          const w = d.words[f]![p + j];
          if (w && (n === 1 || !FUNCTION_WORDS.has(w))) out.add(w);
        }
      }
    });
  }
  return [...out];
}
