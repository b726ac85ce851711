import type { Express } from 'express';
import type { Database_ } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Links } from '../subscribers/links.js';
import type { SubscriptionService } from '../subscribers/subscription-service.js';
import type { DigestContext } from '../email/digest-email.js';
import { registerDigestRoutes } from './digest-routes.js';
import { registerFeedRoutes } from './feed-routes.js';
import { registerPreviewRoutes } from './preview-routes.js';
import { registerFeedbackRoutes } from './feedback-routes.js';
import { registerOutboxRoutes } from './outbox-routes.js';
import { rateLimits } from './rate-limits.js';
import { registerSubscribeRoutes } from './subscribe-routes.js';
import { registerTokenRoutes } from './token-routes.js';
import type { RenderPage } from './views.js';

/** Everything the routes call into. */
export interface RouteDeps {
  database: Database_;
  render: RenderPage;
  log: Logger;
  subscriptions: SubscriptionService;
  links: Links;
  /** Rate limits on (the default) or lifted (benchmarks, tests that need it). */
  rateLimited: boolean;
  /** Directory of the development outbox, or null when mail goes to SMTP. */
  outboxDir: string | null;
  /** Rendering context of digests ("view in browser"). */
  digest: DigestContext;
}

/** All routes, registered in one place. */
export function registerRoutes(app: Express, deps: RouteDeps): void {
  const limits = rateLimits(deps);
  app.get('/healthz', async (_req, res) => {
    await deps.database.get('SELECT 1 AS one');
    res.json({ ok: true });
  });
  app.get('/favicon.ico', (_req, res) => res.redirect(301, '/static/favicon.svg'));
  registerSubscribeRoutes(app, deps, limits);
  registerTokenRoutes(app, deps, limits);
  registerDigestRoutes(app, deps, limits);
  registerFeedRoutes(app, deps, limits);
  registerPreviewRoutes(app, deps, limits);
  registerFeedbackRoutes(app, deps, limits);
  if (deps.outboxDir) registerOutboxRoutes(app, deps.outboxDir, deps.render);
}
