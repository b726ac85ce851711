import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { PaperInput } from './paper-record.js';
import { upsertPapers } from './paper-repo.js';
import { recordSourceRun } from './source-status.js';
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
  /** Called as each source (and arXiv category) finishes, so a terminal sees progress rather than one report at the end. */
  onSource?: (result: SourceResult) => void;
}

/** Fetches every enabled source and stores what arrived. A failing source is logged and never touches stored papers. */
export async function runIngest(
  database: Sql,
  config: Pick<Config, 'sources'>,
  log: Logger,
  opts: IngestOptions,
): Promise<SourceResult[]> {
  const fetchOpts: FetchOptions = { timeoutMs: config.sources.timeoutMs, retries: opts.retries ?? 3, backoffMs: opts.backoffMs };
  const results: SourceResult[] = [];
  const at = opts.now.toISOString();
  // `key` names the source in `stats` ("hf", not "hf:2025-12-29"); `source` names this run's fetch.
  const store = async (source: string, key: string, fetch: () => Promise<PaperInput[]>) => {
    try {
      const papers = await fetch();
      const counts = await upsertPapers(database, papers, at);
      results.push({ source, ok: true, fetched: papers.length, inserted: counts.inserted, updated: counts.updated });
      opts.onSource?.(results.at(-1)!);
      log.info({ source, fetched: papers.length, inserted: counts.inserted, updated: counts.updated }, 'ingest source done');
      await recordStatus(key, { fetched: papers.length });
    } catch (err) {
      const message = (err as Error).message;
      results.push({ source, ok: false, fetched: 0, inserted: 0, updated: 0, error: message });
      opts.onSource?.(results.at(-1)!);
      log.error({ source, err: message }, 'ingest source failed');
      await recordStatus(key, { fetched: 0, error: message });
      return err;
    }
  };
  const recordStatus = async (key: string, outcome: { fetched: number; error?: string }) => {
    try {
      await recordSourceRun(database, key, at, outcome);
    } catch (err) {
      // A busy database must not turn a fetched day into a failed one; the log still has it.
      log.warn({ source: key, err: (err as Error).message }, 'could not record source status');
    }
  };

  const { enabled, hfUrl, arxivUrl, arxivCategories, arxivMaxResults } = config.sources;
  if (enabled.includes('hf')) {
    const date = opts.date ?? latestCompleteDay(opts.now);
    await store(`hf:${date}`, 'hf', () => fetchHfDaily(hfUrl, date, fetchOpts));
  }
  if (enabled.includes('arxiv')) {
    const wait = throttle(opts.arxivIntervalMs ?? 3000);
    let downReason: string | null = null;
    for (const category of arxivCategories) {
      const source = `arxiv:${category}`;
      // The host gave no answer at all for an earlier category: asking again would only wait out more timeouts,
      // but the category is still reported and recorded as failed so `ingest` and `stats` show every configured one.
      if (downReason) {
        const reason = downReason;
        await store(source, source, async () => {
          throw new Error(reason);
        });
        continue;
      }
      await wait();
      const err = await store(source, source, () => fetchArxivCategory(arxivUrl, category, arxivMaxResults, fetchOpts));
      if (err instanceof FetchError && err.unreachable) downReason = `not tried: ${hostOf(arxivUrl)} unreachable after ${category} failed`;
    }
  }
  return results;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
