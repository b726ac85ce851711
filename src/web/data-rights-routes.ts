import express, { type Express, type Request, type Response } from 'express';
import type { Database_ } from '../db/client.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { eraseReader, exportReaderData } from '../privacy/reader-data.js';
import type { Links } from '../subscribers/links.js';
import { rateLimits } from './rate-limits.js';
import type { RenderPage } from './views.js';

/** What the data-rights routes need. */
export interface DataRightsDeps {
  database: Database_;
  log: Logger;
  links: Links;
  render: RenderPage;
  rateLimited: boolean;
  clock?: () => Date;
}

/**
 * "Download my data" and "delete my data" from the manage page, on the manage
 * link itself: GET /manage/<token>?data (JSON), GET /manage/<token>?delete (a
 * page that asks), POST /manage/<token>?delete with confirm=yes. Registered
 * ahead of the manage page's own routes, which see every other request.
 */
export function registerDataRightsRoutes(app: Express, deps: DataRightsDeps): void {
  const now = () => (deps.clock ?? (() => new Date()))();
  const limits = rateLimits({ ...deps, scope: 'data-rights' });
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const reader = async (req: Request) => (await deps.links.resolve(deps.database, String(req.params.token ?? ''), 'manage', now())).subscriber;
  const noStore = (res: Response) => res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');

  app.get('/manage/:token', (req, res, next) => {
    const wants = 'data' in req.query ? 'data' : 'delete' in req.query ? 'delete' : null;
    if (!wants) return next();
    limits.tokens(req, res, async () => {
      try {
        noStore(res);
        const s = await reader(req);
        if (wants === 'data') {
          res.set('Content-Disposition', 'attachment; filename="paperboy-my-data.json"');
          return res.type('application/json').send(`${JSON.stringify(await exportReaderData(deps.database, s, now()), null, 2)}\n`);
        }
        res.send(deps.render('delete-data', { title: 'Delete your data', email: s.email, suppressed: s.status === 'bounced' }));
      } catch (err) {
        next(err);
      }
    });
  });

  app.post('/manage/:token', (req, res, next) => {
    if (!('delete' in req.query)) return next();
    limits.tokens(req, res, () =>
      form(req, res, async () => {
        try {
          noStore(res);
          const s = await reader(req);
          if ((req.body as Record<string, unknown> | undefined)?.confirm !== 'yes') {
            throw new AppError('validation', 'Tick the box to confirm that everything should be deleted.', [{ field: 'confirm', message: 'required' }]);
          }
          const { keptSuppressionHash } = await eraseReader(deps.database, s.id, now());
          deps.log.info({ subscriber: s.id, keptSuppressionHash }, 'reader deleted their data');
          res.send(deps.render('message', { title: 'Deleted', heading: 'Your data is deleted', message: 'Paperboy no longer holds anything about you, and this link no longer works. You can subscribe again from the start page at any time.', link: { href: '/', label: 'Go to the start page' } }));
        } catch (err) {
          next(err);
        }
      }),
    );
  });
}
