import type { Express } from 'express';
import { createAdminAuth } from '../admin/admin-auth.js';
import { compileAdminPages } from '../admin/admin-views.js';
import type { Config } from '../config.js';
import type { Database_ } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Links } from '../subscribers/links.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerOpsRoutes } from './ops-routes.js';
import { registerProviderRoutes } from './provider-routes.js';
import { registerDataRightsRoutes } from './data-rights-routes.js';
import type { RenderPage } from './views.js';

/** The operator's side of the HTTP app (issue 16), mounted by createApp at two points. */
export interface OpsMount {
  /** Before the body parsers: request metrics, and provider webhooks that need the raw body to check signatures. */
  beforeParsers(app: Express): void;
  /** With the other routes: /readyz, /metrics, /admin, readers' data requests. */
  routes(app: Express): void;
}

/** What the operator routes are built from (main.ts passes its Services). */
export interface OpsMountDeps {
  config: Config;
  database: Database_;
  log: Logger;
  metrics: Metrics;
  links: Links;
  render: RenderPage;
  clock?: () => Date;
}

/** Builds the operator routes of one app. */
export function opsMount(deps: OpsMountDeps): OpsMount {
  const { config, database, log } = deps;
  return {
    beforeParsers(app) {
      app.use(deps.metrics.httpMiddleware);
      registerProviderRoutes(app, { database, log, providers: config.providers, softBounces: config.softBounces, clock: deps.clock });
      // Ahead of the manage page's own routes: they own every other /manage/<token> request.
      registerDataRightsRoutes(app, { database, log, links: deps.links, render: deps.render, rateLimited: config.rateLimits, clock: deps.clock });
    },
    routes(app) {
      registerOpsRoutes(app, { database, log, metrics: deps.metrics, metricsTokens: [config.metricsToken, config.adminToken].filter((t): t is string => Boolean(t)) });
      if (config.adminToken) {
        registerAdminRoutes(app, {
          database,
          log,
          auth: createAdminAuth(database, config.adminToken, deps.clock),
          renderAdmin: compileAdminPages(),
          publicUrl: config.publicUrl,
          softBounces: config.softBounces,
          clock: deps.clock,
        });
      }
    },
  };
}
