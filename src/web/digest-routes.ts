import type { Express } from 'express';
import { loadPapers } from '../digests/candidate-index.js';
import { createLedger } from '../digests/delivery-ledger.js';
import { composeDigest, type DigestContext, type DigestPaper } from '../email/digest-email.js';
import { AppError } from '../errors.js';
import type { RouteDeps } from './routes.js';

/** "View in browser": the archived digest of one period, rendered again from the ledger. */
export function registerDigestRoutes(app: Express, deps: RouteDeps & { digest: DigestContext }): void {
  app.get('/digest/:token', (req, res) => {
    const now = new Date();
    const { subscriber, extra: periodKey } = deps.links.resolve(deps.database, String(req.params.token), 'digest', now);
    const delivery = createLedger(deps.database).find(subscriber.id, periodKey);
    if (!delivery || delivery.status !== 'sent') throw new AppError('not_found', 'This digest is not available.');
    const papers = loadPapers(deps.database, delivery.items.map((i) => i.pk));
    const items = delivery.items.map((i) => ({ ...i, paper: papers.get(i.pk) })).filter((i): i is DigestPaper => i.paper !== undefined);
    const mail = composeDigest(deps.digest, subscriber, periodKey, items, now, delivery.messageId);
    // The email's own HTML: inline styles only, no scripts.
    res
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
      .set('Cache-Control', 'private, no-store')
      .set('Referrer-Policy', 'no-referrer')
      .type('html')
      .send(mail.html);
  });
}
