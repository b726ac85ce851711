import type { Sql } from '../db/sql.js';

/** The last ingest outcome of one source, as `stats` shows it. */
export interface SourceStatus {
  ok: boolean;
  lastRunAt: string;
  fetched: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** Records one source's outcome of an ingest run; an error stays visible until a later run of that source succeeds and after (with its time). */
export async function recordSourceRun(sql: Sql, source: string, at: string, outcome: { fetched: number; error?: string }): Promise<void> {
  const error = outcome.error ?? null;
  await sql.run(
    `INSERT INTO source_status (source, last_run_at, ok, fetched, last_error, last_error_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (source) DO UPDATE SET last_run_at = excluded.last_run_at, ok = excluded.ok, fetched = excluded.fetched,
       last_error = COALESCE(excluded.last_error, source_status.last_error),
       last_error_at = COALESCE(excluded.last_error_at, source_status.last_error_at)`,
    [source, at, error ? 0 : 1, outcome.fetched, error, error ? at : null],
  );
}

/** Every source's last outcome, keyed by source ("hf", "arxiv:cs.LG"). */
export async function sourceStatuses(sql: Sql): Promise<Record<string, SourceStatus>> {
  const rows = await sql.all<{ source: string; last_run_at: string; ok: number; fetched: number; last_error: string | null; last_error_at: string | null }>(
    'SELECT source, last_run_at, ok, fetched, last_error, last_error_at FROM source_status ORDER BY source',
  );
  return Object.fromEntries(
    rows.map((r) => [r.source, { ok: r.ok === 1, lastRunAt: r.last_run_at, fetched: r.fetched, lastError: r.last_error, lastErrorAt: r.last_error_at }]),
  );
}
