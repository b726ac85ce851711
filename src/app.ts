import express, { type ErrorRequestHandler, type Express } from 'express';
import helmet from 'helmet';
import { fileURLToPath } from 'node:url';
import { ZodError } from 'zod';
import { AppError, databaseBusyError, fieldIssues, isDatabaseBusy } from './errors.js';
import type { Logger } from './logger.js';
import type { RenderPage } from './web/views.js';
import { registerRoutes, type RouteDeps } from './web/routes.js';
import type { OpsMount } from './web/ops-mount.js';

/** What the HTTP layer needs; built in main.ts (or by tests). */
export type AppDeps = RouteDeps & { log: Logger; render: RenderPage; trustProxy: boolean | number | string; ops?: OpsMount };


const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

/** Builds the express app: security headers, routes, one error handler. Never listens by itself. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
    }),
  );
  deps.ops?.beforeParsers(app);
  app.use('/static', express.static(PUBLIC_DIR, { maxAge: '1h', index: false }));
  app.use(express.json({ limit: '16kb' }));
  app.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 200 }));
  registerRoutes(app, deps);
  deps.ops?.routes(app);
  app.use((req, res) => {
    if (req.path.startsWith('/api/')) res.status(404).json({ error: { code: 'not_found', message: 'No such endpoint.' } });
    else res.status(404).send(deps.render('message', { title: 'Not found', heading: 'Page not found', message: 'There is nothing at this address.', link: { href: '/', label: 'Go to the start page' } }));
  });
  app.use(errorHandler(deps));
  return app;
}

function errorHandler({ log, render }: AppDeps): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const app =
      err instanceof AppError
        ? err
        : err instanceof ZodError
          ? new AppError('validation', 'Some fields are invalid.', fieldIssues(err))
          : isDatabaseBusy(err)
            ? databaseBusyError()
            : bodyParserError(err) ?? new AppError('internal', 'Something went wrong on our side.');
    if (app.status >= 500) log.error({ err, path: redactPath(req.path) }, 'request failed');
    if (res.headersSent) return;
    if (app.retryAfterSeconds) res.set('Retry-After', String(app.retryAfterSeconds));
    if (req.path.startsWith('/api/') || req.is('application/json')) {
      res.status(app.status).json({ error: { code: app.code, message: app.message, ...(app.issues.length ? { issues: app.issues } : {}) } });
    } else {
      // A dead link's page points at the start page, where entering the address mails a working link.
      const link = app.code === 'invalid_token' ? { href: '/', label: 'Go to the start page' } : undefined;
      res.status(app.status).send(render('message', { title: 'Error', heading: app.status >= 500 ? 'Something went wrong' : 'That did not work', message: app.message, link }));
    }
  };
}

// body-parser errors carry a `type`: too large, malformed JSON, bad charset.
function bodyParserError(err: { type?: string; status?: number }): AppError | undefined {
  if (err.type === 'entity.too.large') return new AppError('payload_too_large', 'The request body is too large.');
  if (err.type === 'entity.parse.failed') return new AppError('bad_request', 'The request body is not valid JSON.');
  if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) return new AppError('bad_request', 'The request could not be read.');
  return undefined;
}

/** A path fit for logs: tokens in confirm/manage/unsubscribe/digest links replaced. */
export function redactPath(path: string): string {
  return path.replace(/\/(confirm|manage|unsubscribe|digest)\/[^/]+/, '/$1/[token]');
}
