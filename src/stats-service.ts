import type { Database_ } from './db/client.js';
import { sourceStatuses, type SourceStatus } from './papers/source-status.js';
import { relayStatus, type RelayStatus } from './email/relay-status.js';

/** The `stats --json` shape of PRODUCT.md. */
export interface Stats {
  papers: number;
  subscribers: Record<string, number>;
  digests: { sent: number; skipped: number; failed: number };
  /** Last ingest outcome per source ("hf", "arxiv:cs.LG"), with the last error. */
  sources: Record<string, SourceStatus>;
  /** The relay's last failure and success; `alert` while it is failing (a relay problem is never a bounce). */
  relay: RelayStatus;
}

/** Counts papers, subscribers by status and digests by outcome. */
export function collectStats(database: Database_): Stats {
  const { sqlite } = database;
  const papers = (sqlite.prepare('SELECT count(*) AS n FROM papers').get() as { n: number }).n;
  const subscribers: Record<string, number> = { pending: 0, active: 0, paused: 0, unsubscribed: 0, bounced: 0 };
  for (const r of sqlite.prepare('SELECT status, count(*) AS n FROM subscribers GROUP BY status').all() as {
    status: string;
    n: number;
  }[])
    subscribers[r.status] = r.n;
  const digests = { sent: 0, skipped: 0, failed: 0 };
  for (const r of sqlite.prepare('SELECT status, count(*) AS n FROM deliveries GROUP BY status').all() as {
    status: keyof typeof digests | 'sending';
    n: number;
  }[])
    if (r.status !== 'sending') digests[r.status] = r.n;
  return { papers, subscribers, digests, sources: sourceStatuses(database), relay: relayStatus(database) };
}
