import type { Database_ } from '../db/client.js';
import { AppError } from '../errors.js';
import { findByEmail } from '../subscribers/subscriber-repo.js';
import { createCandidateIndex } from './candidate-index.js';
import { buildDigest, type DigestItem } from './digest-builder.js';
import { createSignalLoader } from './reader-signals.js';
import { createLedger } from './delivery-ledger.js';
import { sinceFor } from './digest-run.js';

/** What `digest preview` shows: the digest this subscriber would get now. Sends and records nothing. */
export async function previewDigest(
  database: Database_,
  email: string,
  opts: { now: Date; since?: string; limit?: number; lookbackDays: number },
): Promise<{ since: string; papers: DigestItem[] }> {
  const s = await findByEmail(database, email.trim().toLowerCase());
  if (!s) throw new AppError('not_found', `${email}: no such subscriber`);
  const ledger = createLedger(database);
  const since = opts.since ?? sinceFor(await ledger.lastSentAt(s.id), opts.now, opts.lookbackDays);
  const sent = await ledger.sentPapers(s.id, 0);
  const index = await createCandidateIndex(database, since, opts.now);
  const signals = (await createSignalLoader(database, index.stats).load([s])).get(s.id);
  const papers = buildDigest(index, s, { since, now: opts.now, limit: opts.limit ?? s.maxPapers, alreadySent: (pk) => sent.has(pk), signals });
  return { since, papers };
}
