import type { Sql } from '../db/sql.js';
import { allOf, anyOf, parseTerms, tsqueryOf } from './fts-query.js';
import { decodeTex } from './text-normalise.js';
import {
  arxivUrls,
  authorRankOf,
  canonicalId,
  isTitleId,
  titleKey,
  toRecord,
  type PaperInput,
  type PaperOut,
  type PaperRow,
} from './paper-record.js';

type Row = PaperRow;
export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

/** Counts of one import: entries read and what happened to each. */
export interface ImportCounts {
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

// Every column of a stored paper, and how each field of a Row is spelled in SQL.
const COLUMN: Record<Exclude<keyof Row, 'pk'>, string> = {
  id: 'id',
  titleKey: 'title_key',
  title: 'title',
  abstract: 'abstract',
  authors: 'authors',
  authorsRank: 'authors_rank',
  authorCount: 'author_count',
  organization: 'organization',
  publishedAt: 'published_at',
  listedOn: 'listed_on',
  upvotes: 'upvotes',
  comments: 'comments',
  keywords: 'keywords',
  urlPage: 'url_page',
  urlAbs: 'url_abs',
  urlPdf: 'url_pdf',
  urlCode: 'url_code',
  source: 'source',
  firstSeenAt: 'first_seen_at',
  updatedAt: 'updated_at',
};
const JSON_LISTS = new Set<keyof Row>(['authors', 'keywords']);
/** The select list that reads a row as a Row (lists still JSON text). */
export const PAPER_COLUMNS = ['pk', ...Object.entries(COLUMN).map(([k, c]) => (k === c ? c : `${c} AS "${k}"`))].join(', ');
const qualified = (alias: string) => [`${alias}.pk`, ...Object.entries(COLUMN).map(([k, c]) => `${alias}.${c} AS "${k}"`)].join(', ');

type RawRow = Omit<Row, 'authors' | 'keywords'> & { authors: string; keywords: string };
const fromRaw = (r: RawRow): Row => ({ ...r, authors: JSON.parse(r.authors) as string[], keywords: JSON.parse(r.keywords) as string[] });
const toSql = (k: keyof Row, v: unknown) => (JSON_LISTS.has(k) ? JSON.stringify(v) : v);

async function oneRow(sql: Sql, where: string, params: unknown[]): Promise<Row | undefined> {
  const raw = await sql.get<RawRow>(`SELECT ${PAPER_COLUMNS} FROM papers WHERE ${where} ORDER BY pk LIMIT 1`, params);
  return raw && fromRaw(raw);
}

/** Finds the stored row an input refers to: same id, or same title where one side lacks an arXiv id. */
async function findExisting(sql: Sql, input: PaperInput, id: string): Promise<Row | undefined> {
  const byId = await oneRow(sql, 'id = ?', [id]);
  if (byId) return byId;
  const key = titleKey(input.title);
  // substr rather than LIKE, whose case rules differ between the engines.
  if (input.arxivId) return oneRow(sql, "title_key = ? AND substr(id, 1, 6) = 'title-'", [key]);
  return oneRow(sql, 'title_key = ?', [key]);
}

const minDate = (a: string | null, b: string | null) => (a && b ? (a < b ? a : b) : (a ?? b));
const longer = (a: string, b: string) => (b.length > a.length ? b : a);
const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];

/** The author list a row keeps: a better-ranked source replaces it, an equal one with its newer list; never with nothing. */
function authorsAfter(row: Row, input: PaperInput): Pick<Row, 'authors' | 'authorsRank'> {
  const rank = authorRankOf(input);
  if (input.authors.length && rank >= row.authorsRank) return { authors: input.authors, authorsRank: rank };
  return { authors: row.authors, authorsRank: row.authorsRank };
}

/** Merges a new sighting into a stored row. First-seen time and identity never move. */
function merge(row: Row, input: PaperInput, id: string, now: string): Partial<Row> {
  const urls = input.arxivId ? { ...arxivUrls(input.arxivId), ...dropNulls(input.urls) } : input.urls;
  const { authors, authorsRank } = authorsAfter(row, input);
  // Rows stored before TeX was decoded are repaired when seen again.
  const title = decodeTex(row.title);
  return {
    id: isTitleId(row.id) && !isTitleId(id) ? id : row.id,
    title,
    titleKey: title === row.title ? row.titleKey : titleKey(title),
    abstract: longer(decodeTex(row.abstract), input.abstract),
    authors,
    authorsRank,
    authorCount: authors === row.authors ? (row.authorCount ?? input.authorCount ?? (input.authors.length || null)) : (input.authorCount ?? (authors.length || null)),
    organization: row.organization ?? input.organization,
    publishedAt: row.publishedAt ?? input.publishedAt,
    listedOn: minDate(row.listedOn, input.listedOn),
    upvotes: Math.max(row.upvotes, input.upvotes),
    comments: Math.max(row.comments, input.comments),
    keywords: union(row.keywords, input.keywords),
    urlPage: row.urlPage ?? urls.page ?? null,
    urlAbs: row.urlAbs ?? urls.abs ?? null,
    urlPdf: row.urlPdf ?? urls.pdf ?? null,
    urlCode: row.urlCode ?? urls.code ?? null,
    updatedAt: now,
  };
}

function dropNulls<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as Partial<T>;
}

function changed(row: Row, next: Partial<Row>): boolean {
  return Object.entries(next).some(
    ([k, v]) => k !== 'updatedAt' && JSON.stringify(row[k as keyof Row]) !== JSON.stringify(v),
  );
}

/** Inserts or merges one paper; idempotent apart from refreshed counters. Call inside a transaction. */
export async function upsertPaper(sql: Sql, input: PaperInput, now: string): Promise<UpsertOutcome> {
  const id = canonicalId(input);
  const existing = await findExisting(sql, input, id);
  if (existing) {
    const next = merge(existing, input, id, now);
    if (!changed(existing, next)) return 'unchanged';
    const keys = Object.keys(next) as Exclude<keyof Row, 'pk'>[];
    await sql.run(`UPDATE papers SET ${keys.map((k) => `${COLUMN[k]} = ?`).join(', ')} WHERE pk = ?`, [
      ...keys.map((k) => toSql(k, next[k])),
      existing.pk,
    ]);
    return 'updated';
  }
  const urls = input.arxivId ? { ...arxivUrls(input.arxivId), ...dropNulls(input.urls) } : input.urls;
  const row: Omit<Row, 'pk'> = {
    id,
    titleKey: titleKey(input.title),
    title: input.title,
    abstract: input.abstract,
    authors: input.authors,
    authorsRank: input.authors.length ? authorRankOf(input) : 0,
    authorCount: input.authorCount ?? (input.authors.length || null),
    organization: input.organization,
    publishedAt: input.publishedAt,
    listedOn: input.listedOn,
    upvotes: input.upvotes,
    comments: input.comments,
    keywords: input.keywords,
    urlPage: urls.page ?? null,
    urlAbs: urls.abs ?? null,
    urlPdf: urls.pdf ?? null,
    urlCode: urls.code ?? null,
    source: input.source,
    firstSeenAt: now,
    updatedAt: now,
  };
  const keys = Object.keys(COLUMN) as Exclude<keyof Row, 'pk'>[];
  // Another node may store the same paper between the look-up and here: then it is merged like any re-sighting.
  const { changes } = await sql.run(
    `INSERT INTO papers (${keys.map((k) => COLUMN[k]).join(', ')}) VALUES (${keys.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`,
    keys.map((k) => toSql(k, row[k])),
  );
  return changes ? 'inserted' : upsertPaper(sql, input, now);
}

/** Papers written per transaction: small enough that the write lock is held for milliseconds, not seconds. */
export const UPSERT_BATCH = 500;

/**
 * Upserts papers in transactions of `batchSize`, so a large import never
 * holds SQLite's write lock for long and readers and other writers get turns
 * in between (`afterBatch` runs between them). Input is parsed and checked
 * before this is called; a batch is all or nothing, and a re-run after an
 * interruption only finds the earlier batches unchanged.
 */
export async function upsertPapers(
  sql: Sql,
  inputs: PaperInput[],
  now: string,
  { batchSize = UPSERT_BATCH, afterBatch }: { batchSize?: number; afterBatch?: (done: number) => void } = {},
): Promise<ImportCounts> {
  const counts: ImportCounts = { read: inputs.length, inserted: 0, updated: 0, unchanged: 0 };
  for (let i = 0; i < inputs.length; i += batchSize) {
    const batch = inputs.slice(i, i + batchSize);
    // Counted only once the batch commits: a rolled-back batch wrote nothing.
    const done = await sql.tx(async (t) => {
      const outcomes: UpsertOutcome[] = [];
      for (const input of batch) outcomes.push(await upsertPaper(t, input, now));
      return outcomes;
    });
    for (const o of done) counts[o]++;
    afterBatch?.(Math.min(i + batchSize, inputs.length));
  }
  return counts;
}

/** Number of stored papers. */
export async function countPapers(sql: Sql): Promise<number> {
  return (await sql.get<{ n: number }>('SELECT count(*) AS n FROM papers'))!.n;
}

/** One paper by canonical id. */
export async function getPaper(sql: Sql, id: string): Promise<PaperOut | undefined> {
  const row = await oneRow(sql, 'id = ?', [id]);
  return row && toRecord(row);
}

/** The most recently first-seen papers (ties broken by upvotes), for samples and demos. */
export async function recentPapers(sql: Sql, limit: number): Promise<PaperOut[]> {
  const rows = await sql.all<RawRow>(`SELECT ${PAPER_COLUMNS} FROM papers ORDER BY first_seen_at DESC, upvotes DESC, pk DESC LIMIT ?`, [limit]);
  return rows.map((r) => toRecord(fromRaw(r)));
}

// Title matches count ten times an abstract match, keywords three times: FTS5's
// bm25 column weights on SQLite; on PostgreSQL ts_rank's weights {D, C, B, A}
// for the tsvector's keywords (C), abstract (B) and title (A).
export const BM25_WEIGHTS = 'bm25(papers_fts, 10.0, 1.0, 3.0)';
const TS_WEIGHTS = "'{0, 0.3, 0.1, 1.0}'";

/**
 * Full-text search, best first: all words must match, else any word does.
 * SQLite answers from FTS5 (papers_fts), PostgreSQL from the papers.search
 * tsvector; both stem English words, and rankings may differ slightly.
 */
export async function searchPapers(sql: Sql, query: string, limit: number): Promise<PaperOut[]> {
  const terms = parseTerms(query);
  const run = async (all: boolean): Promise<PaperOut[]> => {
    let rows: RawRow[];
    if (sql.dialect === 'postgres') {
      const q = tsqueryOf(terms, all);
      if (!q) return [];
      rows = await sql.all<RawRow>(
        `SELECT ${PAPER_COLUMNS} FROM papers, (SELECT ${q.sql} AS q) m WHERE search @@ m.q
         ORDER BY ts_rank(${TS_WEIGHTS}, search, m.q) DESC, upvotes DESC, pk LIMIT ?`,
        [...q.params, limit],
      );
    } else {
      const match = all ? allOf(terms) : anyOf(terms);
      if (!match) return [];
      rows = await sql.all<RawRow>(
        `SELECT ${qualified('p')} FROM papers_fts JOIN papers p ON p.pk = papers_fts.rowid
         WHERE papers_fts MATCH ? ORDER BY ${BM25_WEIGHTS} LIMIT ?`,
        [match, limit],
      );
    }
    return rows.map((r) => toRecord(fromRaw(r)));
  };
  const strict = await run(true);
  return strict.length || terms.length < 2 ? strict : run(false);
}
