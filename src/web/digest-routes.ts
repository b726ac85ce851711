import type { Express } from 'express';
import { ledgerPapers } from '../digests/candidate-index.js';
import { createLedger } from '../digests/delivery-ledger.js';
import { composeDigest, type DigestContext } from '../email/digest-email.js';
import { AppError } from '../errors.js';
import type { RateLimits } from './rate-limits.js';
import type { RouteDeps } from './routes.js';

/** "View in browser": the archived digest of one period, rendered again from the ledger (rate-limited like every token page). */
export function registerDigestRoutes(app: Express, deps: RouteDeps & { digest: DigestContext }, limits: RateLimits): void {
  app.get('/digest/:token', limits.tokens, (req, res) => {
    const now = new Date();
    const { subscriber, extra: periodKey } = deps.links.resolve(deps.database, String(req.params.token), 'digest', now);
    const delivery = createLedger(deps.database).find(subscriber.id, periodKey);
    if (!delivery || delivery.status !== 'sent') throw new AppError('not_found', 'This digest is not available.');
    const mail = composeDigest(deps.digest, subscriber, periodKey, ledgerPapers(deps.database, delivery.items), now, delivery.messageId);
    // The email's own HTML: inline styles only, no scripts.
    res
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
      .set('Cache-Control', 'private, no-store')
      .set('Referrer-Policy', 'no-referrer')
      .type('html')
      .send(mail.html);
  });
}
