import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database_ } from '../db/client.js';
import type { PaperInput } from './paper-record.js';
import { upsertPapers } from './paper-repo.js';
import { fetchArxivCategory } from './sources/arxiv-source.js';
import { FetchError, throttle, type FetchOptions } from './sources/http-fetch.js';
import { fetchHfDaily, latestCompleteDay } from './sources/hf-source.js';

/** Outcome of one source in one ingest run. */
export interface SourceResult {
  source: string;
  ok: boolean;
  fetched: number;
  inserted: number;
  updated: number;
  error?: string;
}

/** Knobs for one run: which day to fetch, how patient to be. */
export interface IngestOptions {
  now: Date;
  date?: string;
  retries?: number;
  backoffMs?: number;
  arxivIntervalMs?: number;
}

/** Fetches every enabled source and stores what arrived. A failing source is logged and never touches stored papers. */
export async function runIngest(
  database: Database_,
  config: Pick<Config, 'sources'>,
  log: Logger,
  opts: IngestOptions,
): Promise<SourceResult[]> {
  const fetchOpts: FetchOptions = { timeoutMs: config.sources.timeoutMs, retries: opts.retries ?? 3, backoffMs: opts.backoffMs };
  const results: SourceResult[] = [];
  const store = async (source: string, fetch: () => Promise<PaperInput[]>) => {
    try {
      const papers = await fetch();
      const counts = upsertPapers(database, papers, opts.now.toISOString());
      results.push({ source, ok: true, fetched: papers.length, inserted: counts.inserted, updated: counts.updated });
      log.info({ source, fetched: papers.length, inserted: counts.inserted, updated: counts.updated }, 'ingest source done');
    } catch (err) {
      const message = (err as Error).message;
      results.push({ source, ok: false, fetched: 0, inserted: 0, updated: 0, error: message });
      log.error({ source, err: message }, 'ingest source failed');
      return err;
    }
  };

  const { enabled, hfUrl, arxivUrl, arxivCategories, arxivMaxResults } = config.sources;
  if (enabled.includes('hf')) {
    const date = opts.date ?? latestCompleteDay(opts.now);
    await store(`hf:${date}`, () => fetchHfDaily(hfUrl, date, fetchOpts));
  }
  if (enabled.includes('arxiv')) {
    const wait = throttle(opts.arxivIntervalMs ?? 3000);
    for (const category of arxivCategories) {
      await wait();
      const err = await store(`arxiv:${category}`, () =>
        fetchArxivCategory(arxivUrl, category, arxivMaxResults, fetchOpts),
      );
      // No answer at all: the host is down, so asking for the next category is pointless.
      if (err instanceof FetchError && err.unreachable) break;
    }
  }
  return results;
}
