import type { Sql } from '../db/sql.js';
import { buildCorpusStats, type CorpusStats } from './corpus-stats.js';
import { BORROWED_WEIGHT, excludeQueries, interestFor, type Interest } from './interests.js';
import { admit, boost } from './rank.js';
import { authorKey, paperVector, withSpread, type Vector } from './reader-model.js';
import { createSliceIndex, type QueryHit } from './slice-scorer.js';

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

interface Row extends Omit<RecentPaper, 'authors' | 'keywords'> {
  authors: string;
  keywords: string;
}

const PAPER_COLUMNS = `pk, id, title, abstract, authors, author_count AS authorCount, organization, published_at AS publishedAt,
  upvotes, comments, url_page AS urlPage, url_abs AS urlAbs, url_pdf AS urlPdf, url_code AS urlCode, first_seen_at AS firstSeenAt, keywords`;
const toPaper = (r: Row): RecentPaper => ({ ...r, authors: JSON.parse(r.authors) as string[], keywords: JSON.parse(r.keywords) as string[] });

/** The stored items of a digest with their papers (from `known` when it has them); papers since deleted are left out. */
export async function ledgerPapers<T extends { pk: number }>(database: Sql, items: T[], known: (pk: number) => RecentPaper | undefined = () => undefined): Promise<(T & { paper: RecentPaper })[]> {
  const missing = items.filter((i) => !known(i.pk)).map((i) => i.pk);
  const loaded = missing.length ? await loadPapers(database, missing) : new Map<number, RecentPaper>();
  return items
    .map((i) => ({ ...i, paper: known(i.pk) ?? loaded.get(i.pk) }))
    .filter((i): i is T & { paper: RecentPaper } => i.paper !== undefined);
}

/** Papers by internal key (for resending or viewing a stored digest). */
export async function loadPapers(database: Sql, pks: number[]): Promise<Map<number, RecentPaper>> {
  const out = new Map<number, RecentPaper>();
  if (database.dialect === 'postgres') {
    // One round trip (in batches) rather than one per paper.
    for (let i = 0; i < pks.length; i += 5000) {
      const rows = await database.all<Row>(`SELECT ${PAPER_COLUMNS} FROM papers WHERE pk = ANY(?::int[])`, [pks.slice(i, i + 5000)]);
      for (const row of rows) out.set(row.pk, toPaper(row));
    }
    return out;
  }
  for (const pk of pks) {
    const row = await database.get<Row>(`SELECT ${PAPER_COLUMNS} FROM papers WHERE pk = ?`, [pk]);
    if (row) out.set(pk, toPaper(row));
  }
  return out;
}

/** A paper admitted by one interest, with its relevance and its score as a single-interest pick. */
export interface RankedHit extends QueryHit {
  score: number;
  /** The paper's firstSeenAt (readers' windows are checked against it for every hit walked) and boost. */
  seen: string;
  boost: number;
  /** The paper's place in the slice (0 … size − 1). */
  slot: number;
}

/** An interest's admitted papers for a run: best first, by key, and as a bit per slice slot (a cheap "no" for most lookups). */
export interface Ranked {
  list: RankedHit[];
  byPk: Map<number, RankedHit>;
  admits: Uint8Array;
}

// Vocabulary and IDF are learned from the newest papers: enough to know which
// words are common and which go together, bounded so a run never reads the whole archive.
const STATS_PAPERS = 5000;
// A similar paper shares at least two of these many heaviest words of the paper it is like.
const SIMILAR_PROBE_WORDS = 8;
const statsCache = new WeakMap<Sql, { version: string; stats: CorpusStats }>();
const NOTHING: ReadonlySet<number> = new Set();

/** Corpus statistics of the newest papers, rebuilt when papers arrive. */
export async function corpusStats(database: Sql): Promise<CorpusStats> {
  const { n, maxPk } = (await database.get<{ n: number; maxPk: number | null }>('SELECT count(*) AS n, max(pk) AS maxPk FROM papers'))!;
  const version = `${n}:${maxPk}`;
  const cached = statsCache.get(database);
  if (cached?.version === version) return cached.stats;
  const rows = await database.all<{ title: string; abstract: string; keywords: string }>('SELECT title, abstract, keywords FROM papers ORDER BY pk DESC LIMIT ?', [STATS_PAPERS]);
  const stats = buildCorpusStats(rows.map((r) => ({ title: r.title, abstract: r.abstract, keywords: JSON.parse(r.keywords) as string[] })));
  statsCache.set(database, { version, stats });
  return stats;
}

/**
 * The papers first seen after `windowStart` (and not after `now`), and a per-run cache of how each
 * interest scores against them. Every subscriber with the same interest
 * shares one scoring pass; that is what makes 100,000 digests cheap.
 */
export async function createCandidateIndex(database: Sql, windowStart: string, now: Date) {
  // Papers first seen after `now` belong to a later run (a run replayed with --now, a clock ahead of us).
  const rows = await database.all<Row>(`SELECT ${PAPER_COLUMNS} FROM papers WHERE first_seen_at > ? AND first_seen_at <= ? ORDER BY pk`, [windowStart, now.toISOString()]);
  const papers = new Map<number, RecentPaper>(rows.map((r) => [r.pk, toPaper(r)]));
  const slotOf = new Map(rows.map((r, i) => [r.pk, i]));
  const stats = await corpusStats(database);
  const slice = createSliceIndex([...papers.values()], stats);
  const rankedCache = new Map<string, Ranked>();
  const boosts = new Map<number, number>();
  const excludeCache = new Map<string, Set<number>>();
  const interestCache = { topic: new Map<string, Interest | null>(), keyword: new Map<string, Interest | null>() };
  const similarCache = new Map<string, [number, number][]>();
  let vectorCache: { byPk: Map<number, Vector>; byTerm: Map<number, number[]>; byAuthor: Map<string, number[]> } | undefined;
  const vectors = () => {
    if (vectorCache) return vectorCache;
    vectorCache = { byPk: new Map(), byTerm: new Map(), byAuthor: new Map() };
    for (const p of papers.values()) {
      const v = paperVector(p, stats);
      vectorCache.byPk.set(p.pk, v);
      for (const id of v.ids) {
        const list = vectorCache.byTerm.get(id);
        if (list) list.push(p.pk);
        else vectorCache.byTerm.set(id, [p.pk]);
      }
      for (const name of p.authors) {
        const key = authorKey(name);
        if (!key) continue;
        const list = vectorCache.byAuthor.get(key);
        if (list) list.push(p.pk);
        else vectorCache.byAuthor.set(key, [p.pk]);
      }
    }
    return vectorCache;
  };

  return {
    windowStart,
    size: papers.size,
    stats,
    paper: (pk: number) => papers.get(pk),

    /** A slice paper's tf-idf vector (built on first use: only readers with feedback need them). */
    vector: (pk: number) => vectors().byPk.get(pk),

    /**
     * Slice papers whose cosine with a paper's vector is at least `min`, as [pk, cosine], most similar
     * first; remembered per paper for the run. Candidates come through an inverted index over the
     * vector's heaviest words (cheap per reader); the cosine that decides is exact.
     */
    similar(p: { pk?: number; vector: Vector }, min: number): [number, number][] {
      const key = p.pk === undefined ? undefined : `${p.pk}:${min}`;
      const known = key === undefined ? undefined : similarCache.get(key);
      if (known) return known;
      const v = vectors();
      const { ids, w } = p.vector;
      // Probe with the heaviest words that are not in a tenth of the slice: rare words find the similar papers, common ones only cost.
      const rareEnough = Math.max(20, papers.size / 10);
      const heaviest = [...ids.keys()]
        .filter((i) => (v.byTerm.get(ids[i]!)?.length ?? 0) <= rareEnough)
        .sort((a, b) => w[b]! - w[a]!)
        .slice(0, SIMILAR_PROBE_WORDS);
      const shared = new Map<number, number>();
      for (const i of heaviest) for (const pk of v.byTerm.get(ids[i]!) ?? []) shared.set(pk, (shared.get(pk) ?? 0) + 1);
      const out: [number, number][] = [];
      withSpread(p.vector, (dot) => {
        for (const [pk, n] of shared) {
          if (n < 2) continue;
          const sim = dot(v.byPk.get(pk)!);
          if (sim >= min) out.push([pk, sim]);
        }
      });
      out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      if (key !== undefined) similarCache.set(key, out);
      return out;
    },

    /** Slice papers with an author of this key (see authorKey()). */
    byAuthor: (key: string) => vectors().byAuthor.get(key) ?? [],

    /** Community and recency factor of a paper at this run's `now`. */
    boost(pk: number): number {
      let b = boosts.get(pk);
      if (b === undefined) {
        b = boost(papers.get(pk)!, now);
        boosts.set(pk, b);
      }
      return b;
    },

    /** Papers an interest admits, best first (scored once per run). */
    ranked(interest: Interest): Ranked {
      let r = rankedCache.get(interest.key);
      if (r) return r;
      const parts = interest.queries.map((q, i) => scaled(slice.score(q), i > 0 && interest.borrowed ? BORROWED_WEIGHT : 1));
      const all = combine(parts);
      const admitted = admit(all, slice.size, { catalogue: interest.kind === 'topic', own: parts[0] });
      const list = admitted
        .map((h) => ({ ...h, score: Math.min(1, h.rel) * this.boost(h.pk), seen: papers.get(h.pk)!.firstSeenAt, boost: this.boost(h.pk), slot: slotOf.get(h.pk)! }))
        .sort((a, b) => b.score - a.score || a.pk - b.pk);
      const admits = new Uint8Array((papers.size + 7) >> 3);
      for (const h of list) admits[h.slot >> 3]! |= 1 << (h.slot & 7);
      r = { list, byPk: new Map(list.map((h) => [h.pk, h])), admits };
      rankedCache.set(interest.key, r);
      return r;
    },

    /** A subscriber's interests, built once per distinct topic or keyword in a run. */
    interestsOf(sub: { topics: string[]; keywords: string[] }): Interest[] {
      const out: Interest[] = [];
      for (const t of sub.topics) pushInterest(out, interestCache.topic, 'topic', t, stats);
      for (const k of sub.keywords) pushInterest(out, interestCache.keyword, 'keyword', k, stats);
      return out;
    },

    /** Papers of the slice that contain one of a subscriber's excluded keywords (every word of it). */
    excluded(sub: { exclude: string[] }): ReadonlySet<number> {
      if (!sub.exclude.length) return NOTHING;
      const key = sub.exclude.join('\u0000');
      let set = excludeCache.get(key);
      if (set) return set;
      set = new Set();
      for (const q of excludeQueries(sub, stats)) for (const h of slice.score(q)) if (h.coverage >= 0.999) set.add(h.pk);
      excludeCache.set(key, set);
      return set;
    },
  };
}
export type CandidateIndex = Awaited<ReturnType<typeof createCandidateIndex>>;

/** Adds the interest a topic or keyword stands for (built once per run; none for what nothing can match) to `out`. */
function pushInterest(out: Interest[], cache: Map<string, Interest | null>, kind: 'topic' | 'keyword', value: string, stats: CorpusStats) {
  let interest = cache.get(value);
  if (interest === undefined) cache.set(value, (interest = interestFor(kind, value, stats)));
  if (interest) out.push(interest);
}

// Several queries of one interest (a topic's terms): the best counts fully, the others a quarter each.
const FURTHER_QUERIES = 0.25;

const scaled = (hits: QueryHit[], weight: number) => (weight === 1 ? hits : hits.map((h) => ({ ...h, rel: h.rel * weight })));

/** One hit per paper from the hits of an interest's queries. */
function combine(parts: QueryHit[][]): QueryHit[] {
  if (parts.length === 1) return parts[0]!;
  const byPk = new Map<number, { hit: QueryHit; rels: number[] }>();
  for (const hits of parts) {
    for (const h of hits) {
      const cur = byPk.get(h.pk);
      if (!cur) byPk.set(h.pk, { hit: h, rels: [h.rel] });
      else {
        cur.rels.push(h.rel);
        const best = h.coverage * h.rel > cur.hit.coverage * cur.hit.rel ? h : cur.hit;
        cur.hit = { ...best, matches: [...best.matches, ...(best === h ? cur.hit.matches : h.matches)], words: [...new Set([...cur.hit.words, ...h.words])] };
      }
    }
  }
  return [...byPk.values()].map(({ hit, rels }) => {
    rels.sort((a, b) => b - a);
    return { ...hit, rel: rels[0]! + FURTHER_QUERIES * rels.slice(1).reduce((a, b) => a + b, 0) };
  });
}
