import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import type { Sql } from '../db/sql.js';
import { InputError } from '../errors.js';
import { parseArxivXml, looksLikeArxivXml } from './parsers/arxiv-atom.js';
import { looksLikeHfDaily, parseHfDaily } from './parsers/hf-daily.js';
import { looksLikeListingPage, parseListingPage } from './parsers/listing-page.js';
import { parsePaperboyJson, parsePaperboyJsonl } from './parsers/paperboy-json.js';
import type { PaperInput } from './paper-record.js';
import { upsertPapers, type ImportCounts } from './paper-repo.js';

export const ImportFormat = z.enum(['hf', 'arxiv', 'json', 'jsonl', 'page']);
export type ImportFormat = z.infer<typeof ImportFormat>;

/** One parsed file, ready to be applied. */
export interface ParsedFile {
  file: string;
  format: ImportFormat;
  papers: PaperInput[];
  incomplete: number;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(file, null, `invalid JSON (${(err as Error).message})`);
  }
}

/** Guesses a file's format from its extension and content. */
export function detectFormat(file: string, text: string): ImportFormat {
  const ext = extname(file).toLowerCase();
  const head = text.trimStart();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (looksLikeArxivXml(head)) return 'arxiv';
  if (head.startsWith('[') || (head.startsWith('{') && ext === '.json')) {
    if (ext !== '.json' && head.startsWith('{')) return 'jsonl';
    return looksLikeHfDaily(parseJson(text, file)) ? 'hf' : 'json';
  }
  if (head.startsWith('{')) return 'jsonl';
  if (looksLikeListingPage(text)) return 'page';
  throw new InputError(file, null, 'cannot tell the format; pass --format hf|arxiv|json|jsonl|page');
}

/** Parses one file's text in the given (or detected) format. Throws InputError on bad input. */
export function parseFile(file: string, text: string, format: ImportFormat | undefined, asOf: string): ParsedFile {
  const name = basename(file);
  const fmt = format ?? detectFormat(name, text);
  switch (fmt) {
    case 'hf':
      return { file, format: fmt, papers: parseHfDaily(parseJson(text, name), name), incomplete: 0 };
    case 'arxiv':
      return { file, format: fmt, papers: parseArxivXml(text, name), incomplete: 0 };
    case 'json':
      return { file, format: fmt, papers: parsePaperboyJson(parseJson(text, name), name), incomplete: 0 };
    case 'jsonl':
      return { file, format: fmt, papers: parsePaperboyJsonl(text, name), incomplete: 0 };
    case 'page': {
      const page = parseListingPage(text, name, asOf);
      return { file, format: fmt, papers: page.papers, incomplete: page.incomplete };
    }
  }
}

/** Reads and parses every file before anything is written, so one bad file means nothing is applied. */
export function parseFiles(files: string[], format: ImportFormat | undefined, asOf: string): ParsedFile[] {
  return files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InputError(file, null, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    return parseFile(file, text, format, asOf);
  });
}

/** Applies parsed files one after another, in transactions of UPSERT_BATCH papers; returns counts per file. */
export async function applyFiles(sql: Sql, parsed: ParsedFile[], now: Date): Promise<(ImportCounts & ParsedFile)[]> {
  const out: (ImportCounts & ParsedFile)[] = [];
  for (const p of parsed) out.push({ ...p, ...(await upsertPapers(sql, p.papers, now.toISOString())) });
  return out;
}
