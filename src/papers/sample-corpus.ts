import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Sql } from '../db/sql.js';
import { parsePaperboyJsonl } from './parsers/paperboy-json.js';
import { countPapers, upsertPapers, type ImportCounts } from './paper-repo.js';

/** The sample corpus shipped with Paperboy: the papers of the five Daily Papers pages in ../shared. */
export const SAMPLE_CORPUS = fileURLToPath(new URL('../../samples/daily-papers.jsonl', import.meta.url));

/** Loads the sample corpus when the database holds no papers at all; returns null when it did nothing. */
export async function loadSampleIfEmpty(database: Sql, now: Date): Promise<ImportCounts | null> {
  if ((await countPapers(database)) > 0) return null;
  const papers = parsePaperboyJsonl(readFileSync(SAMPLE_CORPUS, 'utf8'), 'samples/daily-papers.jsonl');
  return upsertPapers(database, papers, now.toISOString());
}
