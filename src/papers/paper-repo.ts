import { and, eq, like, sql } from 'drizzle-orm';
import type { Database_ } from '../db/client.js';
import { papers } from '../db/schema.js';
import { allOf, anyOf, parseTerms } from './fts-query.js';
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
} from './paper-record.js';

type Row = typeof papers.$inferSelect;
export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

/** Counts of one import: entries read and what happened to each. */
export interface ImportCounts {
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Finds the stored row an input refers to: same id, or same title where one side lacks an arXiv id. */
function findExisting({ db }: Database_, input: PaperInput, id: string): Row | undefined {
  const byId = db.select().from(papers).where(eq(papers.id, id)).get();
  if (byId) return byId;
  const key = titleKey(input.title);
  if (input.arxivId) {
    return db
      .select()
      .from(papers)
      .where(and(eq(papers.titleKey, key), like(papers.id, 'title-%')))
      .get();
  }
  return db.select().from(papers).where(eq(papers.titleKey, key)).get();
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
export function upsertPaper(database: Database_, input: PaperInput, now: string): UpsertOutcome {
  const id = canonicalId(input);
  const existing = findExisting(database, input, id);
  if (existing) {
    const next = merge(existing, input, id, now);
    if (!changed(existing, next)) return 'unchanged';
    database.db.update(papers).set(next).where(eq(papers.pk, existing.pk)).run();
    return 'updated';
  }
  const urls = input.arxivId ? { ...arxivUrls(input.arxivId), ...dropNulls(input.urls) } : input.urls;
  database.db
    .insert(papers)
    .values({
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
    })
    .run();
  return 'inserted';
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
export function upsertPapers(
  database: Database_,
  inputs: PaperInput[],
  now: string,
  { batchSize = UPSERT_BATCH, afterBatch }: { batchSize?: number; afterBatch?: (done: number) => void } = {},
): ImportCounts {
  const counts: ImportCounts = { read: inputs.length, inserted: 0, updated: 0, unchanged: 0 };
  const write = database.sqlite.transaction((batch: PaperInput[]) => {
    for (const input of batch) counts[upsertPaper(database, input, now)]++;
  });
  for (let i = 0; i < inputs.length; i += batchSize) {
    write.immediate(inputs.slice(i, i + batchSize));
    afterBatch?.(Math.min(i + batchSize, inputs.length));
  }
  return counts;
}

/** Number of stored papers. */
export function countPapers({ db }: Database_): number {
  return db.select({ n: sql<number>`count(*)` }).from(papers).get()!.n;
}

/** One paper by canonical id. */
export function getPaper({ db }: Database_, id: string): PaperOut | undefined {
  const row = db.select().from(papers).where(eq(papers.id, id)).get();
  return row && toRecord(row);
}

/** The most recently first-seen papers (ties broken by upvotes), for samples and demos. */
export function recentPapers({ db }: Database_, limit: number): PaperOut[] {
  return db
    .select()
    .from(papers)
    .orderBy(sql`${papers.firstSeenAt} DESC, ${papers.upvotes} DESC, ${papers.pk} DESC`)
    .limit(limit)
    .all()
    .map(toRecord);
}

// Title matches count ten times an abstract match, keywords three times.
export const BM25_WEIGHTS = 'bm25(papers_fts, 10.0, 1.0, 3.0)';

/** Full-text search, best first: all words must match, else any word does. */
export function searchPapers(database: Database_, query: string, limit: number): PaperOut[] {
  const terms = parseTerms(query);
  const run = (match: string | null) => {
    if (!match) return [];
    const pks = database.sqlite
      .prepare(
        `SELECT rowid AS pk FROM papers_fts WHERE papers_fts MATCH ? ORDER BY ${BM25_WEIGHTS} LIMIT ?`,
      )
      .all(match, limit) as { pk: number }[];
    return pks.map(({ pk }) => toRecord(database.db.select().from(papers).where(eq(papers.pk, pk)).get()!));
  };
  const strict = run(allOf(terms));
  return strict.length || terms.length < 2 ? strict : run(anyOf(terms));
}
