import type { Database_ } from '../db/client.js';

/** The last ingest outcome of one source, as `stats` shows it. */
export interface SourceStatus {
  ok: boolean;
  lastRunAt: string;
  fetched: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** Records one source's outcome of an ingest run; an error stays visible until a later run of that source succeeds and after (with its time). */
export function recordSourceRun(database: Database_, source: string, at: string, outcome: { fetched: number; error?: string }): void {
  database.sqlite
    .prepare(
      `INSERT INTO source_status (source, last_run_at, ok, fetched, last_error, last_error_at)
       VALUES (@source, @at, @ok, @fetched, @error, CASE WHEN @error IS NULL THEN NULL ELSE @at END)
       ON CONFLICT (source) DO UPDATE SET last_run_at = @at, ok = @ok, fetched = @fetched,
         last_error = COALESCE(@error, last_error),
         last_error_at = CASE WHEN @error IS NULL THEN last_error_at ELSE @at END`,
    )
    .run({ source, at, ok: outcome.error ? 0 : 1, fetched: outcome.fetched, error: outcome.error ?? null });
}

/** Every source's last outcome, keyed by source ("hf", "arxiv:cs.LG"). */
export function sourceStatuses(database: Database_): Record<string, SourceStatus> {
  const rows = database.sqlite
    .prepare('SELECT source, last_run_at, ok, fetched, last_error, last_error_at FROM source_status ORDER BY source')
    .all() as { source: string; last_run_at: string; ok: number; fetched: number; last_error: string | null; last_error_at: string | null }[];
  return Object.fromEntries(
    rows.map((r) => [r.source, { ok: r.ok === 1, lastRunAt: r.last_run_at, fetched: r.fetched, lastError: r.last_error, lastErrorAt: r.last_error_at }]),
  );
}
