import type { Express } from 'express';
import { ledgerPapers } from '../digests/candidate-index.js';
import type { LedgerItem } from '../digests/delivery-ledger.js';
import { atomFeed } from '../email/atom-feed.js';
import { describeInterests } from '../subscribers/topic-catalogue.js';
import type { RateLimits } from './rate-limits.js';
import type { RouteDeps } from './routes.js';

/** Issues a feed carries: about two months of daily digests. */
const FEED_ISSUES = 60;

/**
 * The reader's Atom feed: the papers of their sent digests, newest issue first,
 * one entry per paper with its why line. The link is signed and revoked with
 * the manage links ("Invalidate old links", unsubscribing). GET only reads.
 */
export function registerFeedRoutes(app: Express, deps: RouteDeps, limits: RateLimits): void {
  app.get('/feed/:token', limits.tokens, async (req, res) => {
    const now = new Date();
    const { subscriber } = await deps.links.resolve(deps.database, String(req.params.token), 'feed', now);
    const rows = await deps.database.all<{ periodKey: string; sentAt: string; items: string }>(
      "SELECT period_key AS \"periodKey\", finished_at AS \"sentAt\", items FROM deliveries WHERE subscriber_id = ? AND status = 'sent' ORDER BY finished_at DESC, period_key DESC LIMIT ?",
      [subscriber.id, FEED_ISSUES],
    );
    const selfUrl = deps.links.feedUrl(subscriber);
    const entries = [];
    for (const r of rows) entries.push({ periodKey: r.periodKey, sentAt: r.sentAt, papers: await ledgerPapers(deps.database, JSON.parse(r.items) as LedgerItem[]) });
    const xml = atomFeed({ selfUrl, siteUrl: new URL('/', selfUrl).toString(), readerKey: subscriber.linkKey, interests: describeInterests(subscriber), now }, entries);
    res.set('Cache-Control', 'private, max-age=300').set('Referrer-Policy', 'no-referrer').set('X-Robots-Tag', 'noindex').type('application/atom+xml; charset=utf-8').send(xml);
  });
}
