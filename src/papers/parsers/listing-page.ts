import { InputError } from '../../errors.js';
import { cleanPaper } from '../paper-clean.js';
import type { PaperInput } from '../paper-record.js';
import { isoDate, parseShortDate, resolveYear } from './dates.js';

// Daily Papers listing pages captured as text: a header, the listing date,
// then entries of title, abstract and an optional meta block:
//
//     Title
//
//     Abstract …
//
//       • 8 authors            (or an organisation line: "adobe Adobe")
//     ·
//     Dec 13, 2023 12          (year optional; upvotes optional)
//
// Real pages are messy: the meta block may be missing (the next title follows
// the abstract), the page may stop mid-entry, abstracts may span paragraphs.

interface Block {
  line: number;
  lines: string[];
}

interface Meta {
  authorCount: number | null;
  organization: string | null;
  date: ReturnType<typeof parseShortDate>;
}

/** What a page yielded: the papers, the listing date and entries it had to drop. */
export interface ListingPage {
  listedOn: string;
  papers: PaperInput[];
  incomplete: number;
}

const HEADER_LINES = new Set(['new', 'get trending papers in your email inbox!', 'subscribe', 'daily papers']);
const MAX_TITLE = 400;

/** Whether text looks like a Daily Papers listing page (used by format detection). */
export function looksLikeListingPage(text: string): boolean {
  const head = text.slice(0, 2000);
  return /^Daily Papers$/m.test(head) || /^\s*• \d+ authors?$/m.test(text.slice(0, 20000));
}

function toBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let current: Block | null = null;
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (line.trim() === '') {
      current = null;
      return;
    }
    if (!current) {
      current = { line: i + 1, lines: [] };
      blocks.push(current);
    }
    current.lines.push(line);
  });
  return blocks;
}

function parseMeta(block: Block): Meta | null {
  const lines = block.lines.map((l) => l.trim());
  const dot = lines.indexOf('·');
  const authorLine = /^• (\d+) authors?$/.exec(lines[0] ?? '');
  if (dot === -1 && !authorLine) return null;
  if (dot > 1 || lines.length > 3) return null;
  const date = dot >= 0 && lines[dot + 1] ? parseShortDate(lines[dot + 1]!) : null;
  if (dot >= 0 && lines[dot + 1] && !date) return null;
  const who = dot === 1 || (dot === -1 && authorLine) ? lines[0]! : null;
  if (who && !authorLine && who.length > 200) return null;
  return {
    authorCount: authorLine ? Number(authorLine[1]) : null,
    organization: who && !authorLine ? organizationName(who) : null,
    date,
  };
}

// Organisation lines read "<handle> <Display Name>" ("PEARLS-Lab PEARLS Lab");
// keep the display name when the handle is just its slug.
function organizationName(line: string): string {
  const [handle, ...rest] = line.split(' ');
  const name = rest.join(' ');
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  return name && squash(handle!) === squash(name) ? name : line;
}

function looksLikeProse(text: string): boolean {
  return text.length > MAX_TITLE || (text.endsWith('.') && text.split(' ').length > 12);
}

/** Parses one listing page. `asOf` (YYYY-MM-DD) resolves the yearless listing date. */
export function parseListingPage(text: string, file: string, asOf: string): ListingPage {
  const blocks = toBlocks(text);
  let i = 0;
  while (i < blocks.length && blocks[i]!.lines.every((l) => HEADER_LINES.has(l.trim().toLowerCase()) || /^by\s*AK\b/.test(l.trim())))
    i++;
  const dateBlock = blocks[i];
  const listing = dateBlock && dateBlock.lines.length === 1 ? parseShortDate(dateBlock.lines[0]!) : null;
  if (!listing || listing.rest !== null) {
    throw new InputError(file, `line ${dateBlock?.line ?? 1}`, 'expected the listing date (e.g. "Dec 30") after the page header');
  }
  const listedOn = listing.year
    ? isoDate(listing.year, listing.month, listing.day)
    : resolveYear(listing.month, listing.day, asOf);
  if (!listedOn) throw new InputError(file, `line ${dateBlock!.line}`, 'listing date does not exist');

  const papers: PaperInput[] = [];
  let incomplete = 0;
  let title: Block | null = null;
  let abstract: string[] = [];

  const finish = (meta: Meta | null) => {
    if (!title) return;
    if (abstract.length === 0 && !meta) incomplete++;
    else papers.push(cleanPaper(entry(title, abstract.join('\n\n'), meta, listedOn), file, `line ${title.line}`));
    title = null;
    abstract = [];
  };

  for (i++; i < blocks.length; i++) {
    const block = blocks[i]!;
    const meta = parseMeta(block);
    const text = block.lines.map((l) => l.trim()).join(' ');
    if (meta) {
      if (title) finish(meta);
      else incomplete++; // a meta block with no entry before it: nothing to attach it to
    } else if (!title) {
      title = block;
    } else if (abstract.length === 0 || looksLikeProse(text)) {
      abstract.push(text);
    } else {
      finish(null);
      title = block;
    }
  }
  finish(null);
  return { listedOn, papers, incomplete };
}

function entry(titleBlock: Block, abstract: string, meta: Meta | null, listedOn: string): PaperInput {
  const d = meta?.date;
  const publishedAt = d ? (d.year ? isoDate(d.year, d.month, d.day) : resolveYear(d.month, d.day, listedOn)) : null;
  return {
    arxivId: null,
    title: titleBlock.lines.map((l) => l.trim()).join(' ').slice(0, 1000),
    abstract,
    authors: [],
    authorCount: meta?.authorCount ?? null,
    organization: meta?.organization ?? null,
    publishedAt,
    listedOn,
    upvotes: d?.rest ?? 0,
    comments: 0,
    keywords: [],
    urls: { page: null, abs: null, pdf: null, code: null },
    source: 'listing-page',
  };
}
