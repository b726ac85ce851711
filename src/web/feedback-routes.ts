import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { createLedger } from '../digests/delivery-ledger.js';
import { clearFeedback, paperById, ratingOf, recordFeedback } from '../digests/reader-signals.js';
import { DIGEST_FEEDBACK } from '../subscribers/links.js';
import { AppError } from '../errors.js';
import type { RateLimits } from './rate-limits.js';
import type { RouteDeps } from './routes.js';

const Choice = z.enum(['more', 'less']);
const PostedChoice = z.object({ choice: z.enum(['more', 'less', 'undo'], { error: 'must be more, less or undo' }) });

/**
 * "More like this" / "Less like this" links in digests. GET (and HEAD, which
 * mail scanners send) shows the paper with the choice pre-selected and one
 * button; only POST records, and the answer page can undo it.
 */
export function registerFeedbackRoutes(app: Express, deps: RouteDeps, limits: RateLimits): void {
  const { database, links, render } = deps;

  // Two forms of link: /feedback/<digest token>/<paper id> (the paper must be in that reader's digest
  // of the token's period) and /feedback/<paper token> (a link signed for one paper).
  const resolve = async (req: Request) => {
    const { subscriber, extra } = await links.resolve(database, String(req.params.token ?? ''), 'feedback', new Date());
    const fromDigest = extra.startsWith(DIGEST_FEEDBACK);
    if (fromDigest !== (req.params.paper !== undefined)) throw new AppError('invalid_token', 'This link is not valid. It may have been copied incompletely.');
    const paper = await paperById(database, fromDigest ? String(req.params.paper) : extra);
    if (!paper) throw new AppError('not_found', 'This paper is no longer in Paperboy.');
    if (fromDigest) {
      const delivery = await createLedger(database).find(subscriber.id, extra.slice(DIGEST_FEEDBACK.length));
      if (!delivery?.items.some((i) => i.pk === paper.pk)) throw new AppError('not_found', 'This paper was not in that digest.');
    }
    if (subscriber.status === 'unsubscribed' || subscriber.status === 'bounced') throw new AppError('invalid_token', 'This subscription has ended, so there is nothing to rate any more.');
    return { subscriber, paper };
  };
  const page = (res: Response, data: Record<string, unknown>) =>
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer').send(render('feedback', { title: 'Papers like this', ...data }));

  app.get(['/feedback/:token', '/feedback/:token/:paper'], limits.tokens, async (req, res) => {
    const { subscriber, paper } = await resolve(req);
    const preselected = Choice.safeParse(req.query.choice);
    page(res, { paperTitle: paper.title, preselected: preselected.success ? preselected.data : 'more', current: await ratingOf(database, subscriber.id, paper.pk) });
  });

  app.post(['/feedback/:token', '/feedback/:token/:paper'], limits.tokens, async (req, res) => {
    const { subscriber, paper } = await resolve(req);
    const body = PostedChoice.safeParse(req.body ?? {});
    if (!body.success) throw body.error;
    const { choice } = body.data;
    if (choice === 'undo') await clearFeedback(database, subscriber.id, paper.pk);
    else await recordFeedback(database, subscriber.id, paper.pk, choice, new Date());
    page(res, { saved: true, choice: choice === 'undo' ? null : choice, paperTitle: paper.title });
  });
}
