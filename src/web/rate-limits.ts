import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Sql } from '../db/sql.js';
import { DatabaseRateStore } from './rate-limit-store.js';
import type { RenderPage } from './views.js';

const pass: RequestHandler = (_req, _res, next) => next();

/**
 * Per-IP limits: signups are scarce, token pages generous. On PostgreSQL the
 * counters live in the database, shared by every web node; one SQLite node
 * counts in memory. Each set of limits (`scope`) counts on its own, on both
 * engines, as separate in-memory counters do.
 */
export function rateLimits({ rateLimited, render, database, scope = 'web' }: { rateLimited: boolean; render: RenderPage; database?: Sql; scope?: string }) {
  const shared = database?.dialect === 'postgres' ? database : undefined;
  const make = (name: string, windowMs: number, limit: number): RequestHandler =>
    rateLimited
      ? rateLimit({
          windowMs,
          limit,
          ...(shared ? { store: new DatabaseRateStore(shared, `${scope}:${name}`) } : {}),
          standardHeaders: 'draft-8',
          legacyHeaders: false,
          handler: (req, res) => {
            const message = 'Too many requests from your network. Please wait a few minutes and try again.';
            if (req.path.startsWith('/api/')) res.status(429).json({ error: { code: 'rate_limited', message } });
            else res.status(429).send(render('message', { title: 'Slow down', heading: 'Too many requests', message }));
          },
        })
      : pass;
  // The live preview answers as a reader types: generous, but bounded.
  return { subscribe: make('subscribe', 15 * 60 * 1000, 20), tokens: make('tokens', 60 * 1000, 60), preview: make('preview', 60 * 1000, 120) };
}
export type RateLimits = ReturnType<typeof rateLimits>;
