import type { Database_ } from '../db/client.js';
import { phrase } from '../papers/fts-query.js';
import { excludeTerms, interestFor, type Interest } from './interests.js';
import { boost, RANKING, relevance } from './rank.js';
import { analyse, findTerm, FUNCTION_WORDS, type TermSpec, type Token } from './term-match.js';

/** A paper of the recent slice, as digests need it. */
export interface RecentPaper {
  pk: number;
  id: string;
  title: string;
  abstract: string;
  authors: string[];
  authorCount: number | null;
  organization: string | null;
  publishedAt: string | null;
  upvotes: number;
  comments: number;
  urlPage: string | null;
  urlAbs: string | null;
  urlPdf: string | null;
  urlCode: string | null;
  firstSeenAt: string;
  keywords: string[];
}

/** A paper that matched one interest, with its BM25 score and the terms it matched. */
export interface InterestHit {
  pk: number;
  bm25: number;
  terms: string[];
  words: string[];
}

/** A hit above the relevance floor, with its relevance and its score as a single-interest pick. */
export interface RankedHit extends InterestHit {
  rel: number;
  score: number;
}

interface Fields {
  title: Token[];
  abstract: Token[];
  keywords: Token[];
  length: number;
}

// BM25 over the matched terms, with IDF scaled to [0.5, 1]. FTS5's own bm25()
// scores porter stems, which over-rewards broad stems ("gener" is in nearly
// every abstract); scoring the terms that really matched keeps ranking
// consistent with matching. One title mention scores about 1.6, one abstract
// mention about 0.8 (times the term's scaled IDF).
export const BM25 = { k1: 1.2, b: 0.75, title: 10, abstract: 1, keywords: 3, synonyms: 0.25 } as const;

interface Row extends Omit<RecentPaper, 'authors' | 'keywords'> {
  authors: string;
  keywords: string;
}

const PAPER_COLUMNS = `pk, id, title, abstract, authors, author_count AS authorCount, organization, published_at AS publishedAt,
  upvotes, comments, url_page AS urlPage, url_abs AS urlAbs, url_pdf AS urlPdf, url_code AS urlCode, first_seen_at AS firstSeenAt, keywords`;
const toPaper = (r: Row): RecentPaper => ({ ...r, authors: JSON.parse(r.authors) as string[], keywords: JSON.parse(r.keywords) as string[] });

/** The stored items of a digest with their papers (from `known` when it has them); papers since deleted are left out. */
export function ledgerPapers<T extends { pk: number }>(database: Database_, items: T[], known: (pk: number) => RecentPaper | undefined = () => undefined): (T & { paper: RecentPaper })[] {
  const missing = items.filter((i) => !known(i.pk)).map((i) => i.pk);
  const loaded = missing.length ? loadPapers(database, missing) : new Map<number, RecentPaper>();
  return items
    .map((i) => ({ ...i, paper: known(i.pk) ?? loaded.get(i.pk) }))
    .filter((i): i is T & { paper: RecentPaper } => i.paper !== undefined);
}

/** Papers by internal key (for resending or viewing a stored digest). */
export function loadPapers(database: Database_, pks: number[]): Map<number, RecentPaper> {
  const stmt = database.sqlite.prepare(`SELECT ${PAPER_COLUMNS} FROM papers WHERE pk = ?`);
  const out = new Map<number, RecentPaper>();
  for (const pk of pks) {
    const row = stmt.get(pk) as Row | undefined;
    if (row) out.set(pk, toPaper(row));
  }
  return out;
}

/**
 * The papers first seen after `windowStart`, and a per-run cache of which of
 * them match each interest. Every subscriber with the same interest shares one
 * FTS5 query, restricted to the recent slice by rowid; that is what makes
 * 100,000 digests cheap.
 */
export function createCandidateIndex(database: Database_, windowStart: string, now: Date) {
  const rows = database.sqlite.prepare(`SELECT ${PAPER_COLUMNS} FROM papers WHERE first_seen_at > ? ORDER BY pk`).all(windowStart) as Row[];
  const papers = new Map<number, RecentPaper>(rows.map((r) => [r.pk, toPaper(r)]));
  const minPk = rows.length ? rows[0]!.pk : Number.MAX_SAFE_INTEGER;
  const fields = new Map<number, Fields>();
  const hitCache = new Map<string, InterestHit[]>();
  const rankedCache = new Map<string, { list: RankedHit[]; byPk: Map<number, RankedHit> }>();
  const boosts = new Map<number, number>();
  const excludeCache = new Map<string, Set<number>>();
  const interestCache = new Map<string, Interest | null>();
  const excludeTermCache = new Map<string, TermSpec[]>();
  // FTS5 (porter) proposes candidates from the recent slice only (rowid >= first pk of the window).
  const ftsQuery = database.sqlite.prepare('SELECT rowid AS pk FROM papers_fts WHERE papers_fts MATCH ? AND rowid >= ?');
  let totalLength = 0;

  const fieldsOf = (p: RecentPaper): Fields => {
    let f = fields.get(p.pk);
    if (!f) {
      const title = analyse(p.title);
      const abstract = analyse(p.abstract);
      const keywords = analyse(p.keywords.join('\n'));
      f = { title, abstract, keywords, length: title.length + abstract.length + keywords.length };
      fields.set(p.pk, f);
    }
    return f;
  };
  for (const p of papers.values()) totalLength += p.title.length / 7 + p.abstract.length / 7;
  const avgLength = Math.max(1, totalLength / Math.max(1, papers.size));

  return {
    windowStart,
    size: papers.size,
    paper: (pk: number) => papers.get(pk),

    /** Papers of the slice matching an interest (FTS5 candidates, confirmed term by term). */
    hits(interest: Interest): InterestHit[] {
      let hits = hitCache.get(interest.key);
      if (hits) return hits;
      hits = [];
      const tf: { pk: number; perTerm: number[]; length: number }[] = [];
      const df = new Array<number>(interest.terms.length).fill(0);
      if (papers.size) {
        for (const { pk } of ftsQuery.all(interest.fts, minPk) as { pk: number }[]) {
          const paper = papers.get(pk);
          if (!paper) continue;
          const f = fieldsOf(paper);
          const terms: string[] = [];
          const words = new Set<string>();
          const seen = new Set<string>();
          const perTerm = interest.terms.map((t, i) => {
            let w = 0;
            for (const [field, weight] of [[f.title, BM25.title], [f.abstract, BM25.abstract], [f.keywords, BM25.keywords]] as const) {
              const at = findTerm(field, t);
              w += weight * at.length;
              for (const k of at) {
                for (let j = 0; j < t.words.length; j++) {
                  const { word } = field[k + j]!;
                  // Highlighting marks a word everywhere: "to" of "text-to-image" would light up every "to".
                  if (t.words.length === 1 || !FUNCTION_WORDS.has(word)) words.add(word);
                }
              }
            }
            if (w > 0) {
              df[i]!++;
              const key = t.keys.map((k) => k.value).join(' ');
              if (!seen.has(key)) {
                seen.add(key);
                terms.push(t.text);
              }
            }
            return w;
          });
          if (!terms.length) continue;
          tf.push({ pk, perTerm, length: f.length });
          hits.push({ pk, bm25: 0, terms, words: [...words] });
        }
      }
      // IDF scaled to [0.5, 1] so scores are comparable across interests and window sizes;
      // a window of a handful of papers is too small to tell common from rare words.
      const n = Math.max(papers.size, 50);
      const maxIdf = Math.log(1 + (n + 0.5) / 0.5);
      const idf = df.map((d) => 0.5 + (0.5 * Math.log(1 + (n - d + 0.5) / (d + 0.5))) / maxIdf);
      tf.forEach((t, h) => {
        const norm = BM25.k1 * (1 - BM25.b + (BM25.b * t.length) / avgLength);
        // The best term counts fully, further synonyms a quarter each: a paper
        // that mentions many generic words of a topic once is not more relevant.
        const parts = t.perTerm.map((w, i) => (w > 0 ? (idf[i]! * w * (BM25.k1 + 1)) / (w + norm) : 0)).sort((a, b) => b - a);
        hits[h]!.bm25 = parts[0]! + BM25.synonyms * parts.slice(1).reduce((a, b) => a + b, 0);
      });
      hitCache.set(interest.key, hits);
      return hits;
    },

    /** Community and recency factor of a paper at this run's `now`. */
    boost(pk: number): number {
      let b = boosts.get(pk);
      if (b === undefined) {
        b = boost(papers.get(pk)!, now);
        boosts.set(pk, b);
      }
      return b;
    },

    /** Hits of an interest above the relevance floor, best first (computed once per run). */
    ranked(interest: Interest): { list: RankedHit[]; byPk: Map<number, RankedHit> } {
      let r = rankedCache.get(interest.key);
      if (r) return r;
      const list = this.hits(interest)
        .map((h) => ({ ...h, rel: relevance(h.bm25) }))
        .filter((h) => h.rel >= RANKING.RELEVANCE_FLOOR)
        .map((h) => ({ ...h, score: h.rel * this.boost(h.pk) }))
        .sort((a, b) => b.score - a.score || a.pk - b.pk);
      r = { list, byPk: new Map(list.map((h) => [h.pk, h])) };
      rankedCache.set(interest.key, r);
      return r;
    },

    /** A subscriber's interests, built once per distinct topic or keyword in a run. */
    interestsOf(sub: { topics: string[]; keywords: string[] }): Interest[] {
      const out: Interest[] = [];
      for (const [kind, value] of [...sub.topics.map((t) => ['topic', t] as const), ...sub.keywords.map((k) => ['keyword', k] as const)]) {
        const key = `${kind}:${value}`;
        let interest = interestCache.get(key);
        if (interest === undefined) {
          interest = interestFor(kind, value);
          interestCache.set(key, interest);
        }
        if (interest) out.push(interest);
      }
      return out;
    },

    /** Papers of the slice that mention any of a subscriber's excluded terms. */
    excluded(sub: { exclude: string[] }): Set<number> {
      const key = sub.exclude.join('\u0000');
      let set = excludeCache.get(key);
      if (set) return set;
      set = new Set();
      let terms = excludeTermCache.get(key);
      if (!terms) {
        terms = excludeTerms(sub);
        excludeTermCache.set(key, terms);
      }
      const fts = terms.map((t) => phrase(t.words.join(' '), t.prefix)).filter(Boolean).join(' OR ');
      if (fts && papers.size) {
        // FTS5 proposes (porter stems find a superset), the fields confirm.
        for (const { pk } of ftsQuery.all(fts, minPk) as { pk: number }[]) {
          const p = papers.get(pk);
          if (!p) continue;
          const f = fieldsOf(p);
          if (terms.some((t) => findTerm(f.title, t).length || findTerm(f.abstract, t).length || findTerm(f.keywords, t).length)) set.add(pk);
        }
      }
      excludeCache.set(key, set);
      return set;
    },
  };
}
export type CandidateIndex = ReturnType<typeof createCandidateIndex>;
