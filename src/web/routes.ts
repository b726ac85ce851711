import type { Express } from 'express';
import type { Database_ } from '../db/client.js';
import { recentPapers } from '../papers/paper-repo.js';
import type { Logger } from '../logger.js';
import type { RenderPage } from './views.js';

/** Everything the routes call into. */
export interface RouteDeps {
  database: Database_;
  render: RenderPage;
  log: Logger;
}

/** All routes, registered in one place. */
export function registerRoutes(app: Express, deps: RouteDeps): void {
  const { database, render } = deps;

  app.get('/healthz', (_req, res) => {
    database.sqlite.prepare('SELECT 1').get();
    res.json({ ok: true });
  });

  app.get('/', (_req, res) => {
    res.send(render('index', { title: 'Subscribe', papers: recentPapers(database, 6) }));
  });
}
