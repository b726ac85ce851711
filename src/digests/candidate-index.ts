import type { Database_ } from '../db/client.js';
import type { Interest } from './interests.js';
import { analyse, findTerm, matchTerms, type TermSpec, type Token } from './term-match.js';

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
export function createCandidateIndex(database: Database_, windowStart: string) {
  const rows = database.sqlite.prepare(`SELECT ${PAPER_COLUMNS} FROM papers WHERE first_seen_at > ? ORDER BY pk`).all(windowStart) as Row[];
  const papers = new Map<number, RecentPaper>(rows.map((r) => [r.pk, toPaper(r)]));
  const minPk = rows.length ? rows[0]!.pk : Number.MAX_SAFE_INTEGER;
  const tokens = new Map<number, Token[]>();
  const fields = new Map<number, Fields>();
  const hitCache = new Map<string, InterestHit[]>();
  const excludeCache = new Map<string, Set<number>>();
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
  const tokensOf = (p: RecentPaper) => {
    let t = tokens.get(p.pk);
    if (!t) {
      const f = fieldsOf(p);
      // A separator token keeps phrases from spanning two fields.
      t = [...f.title, { word: '', stem: '', porter: '' }, ...f.abstract, { word: '', stem: '', porter: '' }, ...f.keywords];
      tokens.set(p.pk, t);
    }
    return t;
  };
  for (const p of papers.values()) totalLength += p.title.length / 7 + p.abstract.length / 7;
  const avgLength = Math.max(1, totalLength / Math.max(1, papers.size));

  return {
    windowStart,
    size: papers.size,
    paper: (pk: number) => papers.get(pk),
    tokensOf,

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
          const m = matchTerms(tokensOf(paper), interest.terms);
          if (!m.terms.length) continue;
          const f = fieldsOf(paper);
          const perTerm = interest.terms.map((t, i) => {
            const w = BM25.title * findTerm(f.title, t).length + BM25.abstract * findTerm(f.abstract, t).length + BM25.keywords * findTerm(f.keywords, t).length;
            if (w > 0) df[i]!++;
            return w;
          });
          tf.push({ pk, perTerm, length: f.length });
          hits.push({ pk, bm25: 0, terms: m.terms, words: [...m.words] });
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

    /** Papers of the slice that mention any of the excluded terms. */
    excluded(terms: TermSpec[]): Set<number> {
      const key = terms.map((t) => `${t.words.join(' ')}${t.prefix ? '*' : ''}`).join('|');
      let set = excludeCache.get(key);
      if (set) return set;
      set = new Set();
      if (terms.length) for (const p of papers.values()) if (matchTerms(tokensOf(p), terms).terms.length) set.add(p.pk);
      excludeCache.set(key, set);
      return set;
    },
  };
}
export type CandidateIndex = ReturnType<typeof createCandidateIndex>;
