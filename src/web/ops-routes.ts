import { fileURLToPath } from 'node:url';
import type { Express, Request } from 'express';
import type { Database_ } from '../db/client.js';
import { listMigrations } from '../db/client.js';
import { safeEqual } from '../admin/admin-auth.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/** What /readyz and /metrics need. */
export interface OpsRouteDeps {
  database: Database_;
  log: Logger;
  metrics: Metrics;
  /** Bearer tokens /metrics answers to: METRICS_TOKEN and ADMIN_TOKEN (unset ones left out). */
  metricsTokens: string[];
}

/** The bearer token of an Authorization header, as Prometheus' `bearer_token` sends it. */
function bearer(req: Request): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  return m?.[1];
}

/** /readyz (the database answers and is migrated) and /metrics (Prometheus, bearer token only). */
export function registerOpsRoutes(app: Express, deps: OpsRouteDeps): void {
  // Each engine has its own numbered migrations (migrations/ and migrations/postgres/).
  const dir = deps.database.dialect === 'postgres' ? fileURLToPath(new URL('../../migrations/postgres/', import.meta.url)) : undefined;
  const latest = Math.max(0, ...listMigrations(dir).map((m) => m.version));
  // Both engines answer the same query; on PostgreSQL it also proves a pooled connection can be had.
  app.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      const row = (await deps.database.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations'))!;
      if ((row.v ?? 0) < latest) return res.status(503).json({ ok: false, error: `database schema at ${row.v}, this version needs ${latest}` });
      res.json({ ok: true });
    } catch (err) {
      deps.log.error({ err }, 'readiness check failed');
      res.status(503).json({ ok: false, error: 'database not answering' });
    }
  });

  app.get('/metrics', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const token = bearer(req);
    // No token configured: /metrics is off rather than public.
    if (!deps.metricsTokens.length) return res.status(404).type('text/plain').send('metrics are off: set METRICS_TOKEN or ADMIN_TOKEN\n');
    if (!token || !deps.metricsTokens.some((t) => safeEqual(token, t))) {
      return res.status(401).set('WWW-Authenticate', 'Bearer realm="paperboy-metrics"').type('text/plain').send('bearer token required\n');
    }
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.scrape());
  });
}
