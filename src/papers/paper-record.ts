import { createHash } from 'node:crypto';
import { z } from 'zod';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** The paper record of PRODUCT.md: the JSON / JSON Lines import format and `--json` output. */
export const PaperRecord = z.strictObject({
  id: z.string().trim().min(1).max(200).optional(),
  title: z.string().trim().min(1, 'must not be empty').max(1000),
  abstract: z.string().max(20000).default(''),
  // Longer lists are cut to LIMITS.authors (paper-clean.ts), keeping the count.
  authors: z.array(z.string().trim().min(1).max(300)).default([]),
  authorCount: z.number().int().min(0).nullable().default(null),
  organization: z.string().trim().min(1).max(300).nullable().default(null),
  publishedAt: isoDate.nullable().default(null),
  listedOn: isoDate.nullable().default(null),
  upvotes: z.number().int().min(0).default(0),
  comments: z.number().int().min(0).default(0),
  keywords: z.array(z.string().trim().min(1).max(200)).max(200).default([]),
  urls: z
    .strictObject({
      page: url.nullable().default(null),
      abs: url.nullable().default(null),
      pdf: url.nullable().default(null),
      code: url.nullable().default(null),
    })
    .default({ page: null, abs: null, pdf: null, code: null }),
  source: z.string().trim().min(1).max(50).default('json'),
  firstSeenAt: z.iso.datetime({ offset: true }).optional(),
});
export type PaperRecord = z.infer<typeof PaperRecord>;

/** What a parser produces: a record before it has a canonical id and first-seen time. */
export interface PaperInput {
  arxivId: string | null;
  id?: string;
  title: string;
  abstract: string;
  authors: string[];
  authorCount: number | null;
  organization: string | null;
  publishedAt: string | null;
  listedOn: string | null;
  upvotes: number;
  comments: number;
  keywords: string[];
  urls: { page: string | null; abs: string | null; pdf: string | null; code: string | null };
  source: string;
  /** How far this source's author list is trusted (AUTHOR_RANK); defaults by `source`. */
  authorRank?: number;
}

/**
 * Whose author list wins when sources disagree: a higher rank replaces a
 * lower one, an equal rank replaces with its newer list. The arXiv API lists
 * authors one by one; Hugging Face copies them; the RSS listing packs them
 * into one string with affiliations; listing pages only count them. Rows
 * stored before ranks existed have 0, so any later list corrects them.
 */
export const AUTHOR_RANK = { 'arxiv-api': 5, hf: 4, 'arxiv-rss': 3, json: 2, 'listing-page': 1 } as const;

/** The author rank of a parsed paper. */
export function authorRankOf(input: Pick<PaperInput, 'authorRank' | 'source'>): number {
  return input.authorRank ?? (input.source === 'arxiv' ? AUTHOR_RANK['arxiv-rss'] : (AUTHOR_RANK[input.source as keyof typeof AUTHOR_RANK] ?? AUTHOR_RANK.json));
}

/** The full record as printed by `--json` (always has id and firstSeenAt). */
export type PaperOut = Omit<PaperRecord, 'id' | 'firstSeenAt'> & { id: string; firstSeenAt: string };

const ARXIV_NEW = /^(\d{4}\.\d{4,5})(v\d+)?$/;
const ARXIV_OLD = /^([a-z-]+(?:\.[A-Z]{2})?\/\d{7})(v\d+)?$/;

/** The versionless arXiv id in `s` (a bare id, `arXiv:` id or abs/pdf URL), or null. */
export function parseArxivId(s: string | null | undefined): string | null {
  if (!s) return null;
  const bare = s
    .trim()
    .replace(/^arxiv:/i, '')
    .replace(/^https?:\/\/(export\.)?arxiv\.org\/(abs|pdf)\//i, '')
    .replace(/\.pdf$/i, '');
  const m = ARXIV_NEW.exec(bare) ?? ARXIV_OLD.exec(bare);
  return m ? m[1]! : null;
}

/** Normalised title used to recognise one paper across sources that lack an id. */
export function titleKey(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Canonical id: the arXiv id when known, else a stable id derived from the normalised title. */
export function canonicalId(input: Pick<PaperInput, 'arxivId' | 'id' | 'title'>): string {
  if (input.arxivId) return input.arxivId;
  if (input.id) return input.id;
  return `title-${createHash('sha256').update(titleKey(input.title)).digest('hex').slice(0, 16)}`;
}

/** Whether a canonical id is a title-derived one (and may be upgraded to an arXiv id). */
export function isTitleId(id: string): boolean {
  return id.startsWith('title-');
}

/** Standard links for an arXiv paper, used where a source gave none. Hugging Face has pages only for new-style ids. */
export function arxivUrls(arxivId: string) {
  return {
    page: ARXIV_NEW.test(arxivId) ? `https://huggingface.co/papers/${arxivId}` : null,
    abs: `https://arxiv.org/abs/${arxivId}`,
    pdf: `https://arxiv.org/pdf/${arxivId}`,
  };
}

/** The URL when it is http(s), else null: stored links are untrusted too. */
export function safeUrl(url: string | null | undefined): string | null {
  return url && /^https?:\/\/[^\s"'<>]+$/i.test(url) ? url : null;
}

/**
 * Where a reader can find a paper whose record carries no link (the listing
 * pages have none): arXiv's title search. Every character that could end an
 * attribute or a URL in text is percent-encoded.
 */
export function findPaperUrl(title: string): string {
  const query = encodeURIComponent(title.replace(/\s+/g, ' ').trim().slice(0, 300)).replace(/['()*!~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `https://arxiv.org/search/?query=${query}&searchtype=title`;
}

/** The link a reader follows to a paper: its page, else its arXiv abstract, else a title search (`search`). */
export function readerLink(page: string | null, abs: string | null, title: string): { url: string; search: boolean } {
  const link = safeUrl(page) ?? safeUrl(abs);
  return link ? { url: link, search: false } : { url: findPaperUrl(title), search: true };
}

/** Converts a validated JSON record into parser input. */
export function inputFromRecord(r: PaperRecord): PaperInput {
  const arxivId = parseArxivId(r.id) ?? parseArxivId(r.urls.abs);
  return { ...r, arxivId, id: arxivId ? undefined : r.id };
}

/** A stored paper as paper-repo reads it (JSON lists parsed). */
export interface PaperRow {
  pk: number;
  id: string;
  titleKey: string;
  title: string;
  abstract: string;
  authors: string[];
  authorsRank: number;
  authorCount: number | null;
  organization: string | null;
  publishedAt: string | null;
  listedOn: string | null;
  upvotes: number;
  comments: number;
  keywords: string[];
  urlPage: string | null;
  urlAbs: string | null;
  urlPdf: string | null;
  urlCode: string | null;
  source: string;
  firstSeenAt: string;
  updatedAt: string;
}

/** A stored row as the record of PRODUCT.md. */
export function toRecord(row: PaperRow): PaperOut {
  return {
    id: row.id,
    title: row.title,
    abstract: row.abstract,
    authors: row.authors,
    authorCount: row.authorCount,
    organization: row.organization,
    publishedAt: row.publishedAt,
    listedOn: row.listedOn,
    upvotes: row.upvotes,
    comments: row.comments,
    keywords: row.keywords,
    urls: { page: row.urlPage, abs: row.urlAbs, pdf: row.urlPdf, code: row.urlCode },
    source: row.source,
    firstSeenAt: row.firstSeenAt,
  };
}
