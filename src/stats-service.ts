import type { Database_ } from './db/client.js';
import { sourceStatuses, type SourceStatus } from './papers/source-status.js';
import { relayStatus, type RelayStatus } from './email/relay-status.js';
import { recentRuns } from './admin/overview-queries.js';
import { sourceHealth } from './admin/admin-queries.js';

/**
 * The newest digest run as the admin console's runs page counts it (digest_runs,
 * kept by triggers on the ledger), summed over every process that ran in the
 * same minute: nodes sharing one scheduled tick each stamp their own `now`.
 */
export interface LastDigestRun {
  /** The earliest `now` of those runs (each stamps every ledger row it wrote). */
  at: string;
  /** How many runs (processes) the figures add up. */
  runs: number;
  /** Readers the run wrote a ledger row for (claimed to send, or skipped). */
  due: number;
  sent: number;
  skipped: number;
  failed: number;
  /** Claimed but neither sent nor failed yet (a run in progress, or one that was interrupted). */
  inFlight: number;
  finishedAt: string;
}

/** The `stats --json` shape of PRODUCT.md. */
export interface Stats {
  papers: number;
  subscribers: Record<string, number>;
  digests: { sent: number; skipped: number; failed: number };
  /** Last ingest outcome per source ("hf", "arxiv:cs.LG"), with the last error. */
  sources: Record<string, SourceStatus & { lastOkAt: string | null }>;
  /** The newest digest run, or null before the first. */
  lastDigestRun: LastDigestRun | null;
  /** The relay's last failure and success; `alert` while it is failing (a relay problem is never a bounce). */
  relay: RelayStatus;
}

/** Counts papers, subscribers by status and digests by outcome. */
export async function collectStats(database: Database_): Promise<Stats> {
  const papers = (await database.get<{ n: number }>('SELECT count(*) AS n FROM papers'))!.n;
  const subscribers: Record<string, number> = { pending: 0, active: 0, paused: 0, unsubscribed: 0, bounced: 0 };
  for (const r of await database.all<{ status: string; n: number }>('SELECT status, count(*) AS n FROM subscribers GROUP BY status')) subscribers[r.status] = r.n;
  const digests = { sent: 0, skipped: 0, failed: 0 };
  for (const r of await database.all<{ status: keyof typeof digests | 'sending'; n: number }>('SELECT status, count(*) AS n FROM deliveries GROUP BY status'))
    if (r.status !== 'sending') digests[r.status] = r.n;
  // When each source last succeeded comes from the same query as the admin console's sources page.
  const lastOk = new Map((await sourceHealth(database)).map((h) => [h.source, h.lastOkAt]));
  const sources = Object.fromEntries(Object.entries(await sourceStatuses(database)).map(([k, v]) => [k, { ...v, lastOkAt: lastOk.get(k) ?? null }]));
  const recent = await recentRuns(database, 50);
  const tick = recent.filter((r) => r.runAt.slice(0, 16) === recent[0]?.runAt.slice(0, 16));
  const sum = (f: (r: (typeof tick)[number]) => number) => tick.reduce((n, r) => n + f(r), 0);
  const lastDigestRun = tick.length
    ? {
        at: tick[tick.length - 1]!.runAt,
        runs: tick.length,
        due: sum((r) => r.claimed + r.skipped),
        sent: sum((r) => r.sent),
        skipped: sum((r) => r.skipped),
        failed: sum((r) => r.failed),
        inFlight: sum((r) => r.inFlight),
        finishedAt: tick.map((r) => r.updatedAt).sort().at(-1)!,
      }
    : null;
  return { papers, subscribers, digests, sources, lastDigestRun, relay: await relayStatus(database) };
}
