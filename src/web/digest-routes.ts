import type { Express } from 'express';
import { corpusStats, ledgerPapers } from '../digests/candidate-index.js';
import { createLedger } from '../digests/delivery-ledger.js';
import { composeDigest, type DigestContext, type SentPreferences } from '../email/digest-email.js';
import { AppError } from '../errors.js';
import type { RateLimits } from './rate-limits.js';
import type { RouteDeps } from './routes.js';

const parsePrefs = (json: string | null | undefined): SentPreferences | null => {
  if (!json) return null;
  try {
    return JSON.parse(json) as SentPreferences;
  } catch {
    return null;
  }
};

/**
 * "View in browser": the web copy of one sent digest, as it was sent (its
 * date, papers, why lines and the preferences at send time), rendered from
 * the ledger. It carries no manage, unsubscribe or feedback link, so a
 * forwarded link lets nobody act for the reader; for the same reason it keeps
 * working after the reader unsubscribes. Rate-limited like every token page.
 */
export function registerDigestRoutes(app: Express, deps: RouteDeps & { digest: DigestContext }, limits: RateLimits): void {
  app.get('/digest/:token', limits.tokens, async (req, res) => {
    const now = new Date();
    const { subscriber, extra: periodKey } = await deps.links.resolve(deps.database, String(req.params.token), 'digest', now);
    const delivery = await createLedger(deps.database).find(subscriber.id, periodKey);
    if (!delivery || delivery.status !== 'sent') throw new AppError('not_found', 'This digest is not available.');
    const view = { archive: true as const, sentAt: new Date(delivery.finishedAt ?? now), prefs: parsePrefs(delivery.prefs) };
    const ctx = { ...deps.digest, stats: await corpusStats(deps.database), blocks: undefined, common: undefined };
    const mail = composeDigest(ctx, subscriber, periodKey, await ledgerPapers(deps.database, delivery.items), now, delivery.messageId, view);
    // The email's own HTML: inline styles only, no scripts.
    res
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
      .set('Cache-Control', 'private, no-store')
      .set('Referrer-Policy', 'no-referrer')
      .set('X-Robots-Tag', 'noindex')
      .type('html')
      .send(mail.html);
  });
}
