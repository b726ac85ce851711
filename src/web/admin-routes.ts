import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { cookieValue, MAX_FAILURES, safeEqual, SESSION_COOKIE, SESSION_MS, type AdminAuth } from '../admin/admin-auth.js';
import { PAGE_SIZE, searchSubscribers, sourceHealth, subscriberDetail, suppressionList, topicPopularity } from '../admin/admin-queries.js';
import type { RenderAdmin } from '../admin/admin-views.js';
import { loadOverview, recentRuns, STATUSES } from '../admin/overview-queries.js';
import { overviewCharts } from '../admin/overview-view.js';
import { liftSuppression, type SoftBounceRule } from '../bounces/suppression.js';
import type { Database_ } from '../db/client.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { findById, logConsent, updateSubscriber } from '../subscribers/subscriber-repo.js';
import { eraseReader } from '../privacy/reader-data.js';
import { TOPICS } from '../subscribers/topic-catalogue.js';

/** What the console needs. */
export interface AdminRouteDeps {
  database: Database_;
  log: Logger;
  auth: AdminAuth;
  renderAdmin: RenderAdmin;
  /** Cookies get `Secure` when PUBLIC_URL is https (or the request came over https through a trusted proxy). */
  publicUrl: string;
  softBounces: SoftBounceRule;
  clock?: () => Date;
}

// chart.js exports no subpath for its UMD build; it sits beside the package's main file.
const CHART_JS = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

type Session = { csrf: string; id: string };
const sessionOf = (res: Response) => res.locals.adminSession as Session;

/** The admin console under /admin: sign-in, overview, runs, subscribers, topics, sources, suppressions. */
export function registerAdminRoutes(app: Express, deps: AdminRouteDeps): void {
  const { database, auth, renderAdmin: render } = deps;
  const now = () => (deps.clock ?? (() => new Date()))();
  const router = express.Router();

  // The chart library, from our own node_modules: no CDN, and the CSP ('self') holds.
  app.get('/admin/assets/chart.umd.min.js', (_req, res) => res.sendFile(CHART_JS, { maxAge: '1d' }));

  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
    next();
  });

  router.get('/login', async (req, res) => {
    if (await auth.session(cookieValue(req.headers.cookie, SESSION_COOKIE))) return res.redirect(303, '/admin');
    res.send(render('login', { title: 'Sign in', maxFailures: MAX_FAILURES }));
  });

  router.post('/login', async (req, res) => {
    // No session exists yet to carry a CSRF token; a cross-site form post is refused by its Origin.
    if (crossSite(req)) throw new AppError('forbidden', 'Cross-site sign-in refused.');
    const token = typeof req.body?.token === 'string' ? req.body.token : '';
    const result = await auth.signIn(req.ip ?? 'unknown', token);
    if (!result.ok) {
      if (result.reason === 'locked') res.set('Retry-After', String(result.retryAfterSeconds));
      deps.log.warn({ ip: req.ip, reason: result.reason }, 'admin sign-in refused');
      const error = result.reason === 'locked' ? 'Too many wrong tokens from this address. Try again in 15 minutes.' : 'That token is not right.';
      return res.status(result.reason === 'locked' ? 429 : 401).send(render('login', { title: 'Sign in', error, maxFailures: MAX_FAILURES }));
    }
    const secure = deps.publicUrl.startsWith('https://') || req.secure;
    res.cookie(SESSION_COOKIE, result.sessionId, { httpOnly: true, sameSite: 'strict', secure, path: '/admin', maxAge: SESSION_MS });
    deps.log.info({ ip: req.ip }, 'admin signed in');
    res.redirect(303, '/admin');
  });

  // Everything below needs a session; every POST below also needs its CSRF token.
  router.use(async (req, res, next) => {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const session = await auth.session(id);
    if (!session) {
      if (req.method === 'GET' || req.method === 'HEAD') return res.redirect(303, '/admin/login');
      throw new AppError('unauthorized', 'Sign in first.');
    }
    if (req.method === 'POST') {
      const sent = typeof req.body?._csrf === 'string' ? req.body._csrf : '';
      if (!safeEqual(sent, session.csrf)) throw new AppError('forbidden', 'The form was stale or not ours (CSRF token). Reload the page and try again.');
    }
    res.locals.adminSession = { csrf: session.csrf, id: id! };
    next();
  });

  const sendingCount = async () => (await database.get<{ n: number }>("SELECT count(*) AS n FROM deliveries WHERE status = 'sending'"))!.n;

  const page = (res: Response, name: string, nav: string, data: Record<string, unknown>) =>
    res.send(render(name, { ...data, nav, csrf: sessionOf(res).csrf, notice: typeof res.req.query.done === 'string' ? res.req.query.done : undefined }));

  router.get('/', async (_req, res) => {
    const o = await loadOverview(database, now(), 30);
    const inFlight = await sendingCount();
    page(res, 'overview', 'overview', {
      title: 'Overview',
      charts: overviewCharts(o),
      totals: STATUSES.map((s) => ({ status: s, n: o.totals[s] ?? 0 })),
      running: inFlight ? o.running : null,
    });
  });

  router.get('/runs', async (_req, res) => {
    const runs = await recentRuns(database, 30);
    const inFlight = await sendingCount();
    const current = inFlight ? runs.find((r) => r.inFlight > 0) : undefined;
    const running = current ? { ...current, done: current.sent + current.failed } : null;
    page(res, 'runs', 'runs', { title: 'Digest runs', runs, running, refreshSeconds: running ? 5 : undefined });
  });

  router.get('/subscribers', async (req, res) => {
    const query = { q: str(req.query.q), status: oneOf(req.query.status, STATUSES), topic: oneOf(req.query.topic, TOPICS.map((t) => t.slug)) };
    const found = await searchSubscribers(database, query);
    page(res, 'subscribers', 'subscribers', { title: 'Subscribers', query, ...found, pageSize: PAGE_SIZE, statuses: STATUSES, topics: TOPICS });
  });

  router.get('/subscribers/:id', async (req, res) => {
    const detail = await subscriberDetail(database, idParam(req));
    if (!detail) throw new AppError('not_found', 'No such subscriber.');
    page(res, 'subscriber', 'subscribers', { title: detail.subscriber.email, s: detail.subscriber, ...detail });
  });

  router.post('/subscribers/:id/:action', async (req, res) => {
    const s = await findById(database, idParam(req));
    if (!s) throw new AppError('not_found', 'No such subscriber.');
    const at = now().toISOString();
    const action = req.params.action;
    if (action === 'remove') {
      if (req.body?.confirm !== 'yes') throw new AppError('validation', 'Tick the box to confirm the removal.', [{ field: 'confirm', message: 'required' }]);
      await eraseReader(database, s.id, now());
      deps.log.info({ subscriber: s.id }, 'admin removed a subscriber');
      return res.redirect(303, `/admin/subscribers?done=${encodeURIComponent('Subscriber removed with all their data.')}`);
    }
    const to = action === 'pause' && s.status === 'active' ? 'paused' : action === 'resume' && s.status === 'paused' ? 'active' : null;
    if (action !== 'pause' && action !== 'resume') throw new AppError('not_found', 'No such action.');
    if (to) {
      await database.tx(async (t) => {
        await updateSubscriber(t, s.id, { status: to }, at);
        await logConsent(t, s.id, to === 'paused' ? 'paused' : 'resumed', { method: 'admin' }, at);
      });
    }
    res.redirect(303, `/admin/subscribers/${s.id}?done=${encodeURIComponent(to ? `Now ${to}.` : `Nothing to do: the subscriber is ${s.status}.`)}`);
  });

  router.get('/topics', async (_req, res) => page(res, 'topics', 'topics', { title: 'Topics', topics: await topicPopularity(database) }));
  router.get('/sources', async (_req, res) => page(res, 'sources', 'sources', { title: 'Sources', sources: await sourceHealth(database) }));
  router.get('/suppressions', async (_req, res) =>
    page(res, 'suppressions', 'suppressions', { title: 'Suppressions', rows: await suppressionList(database), softCount: deps.softBounces.count, softDays: deps.softBounces.windowDays }),
  );

  router.post('/suppressions/lift', async (req, res) => {
    const subscriberId = req.body?.subscriberId ? Number(req.body.subscriberId) : undefined;
    const hash = str(req.body?.hash);
    if (subscriberId === undefined && !/^[0-9a-f]{64}$/.test(hash ?? '')) throw new AppError('validation', 'Name a subscriber or a hash.', [{ field: 'subscriberId', message: 'required' }]);
    const lifted = await liftSuppression(database, { subscriberId, hash }, now());
    deps.log.info({ subscriber: subscriberId, lifted }, 'admin lifted a suppression');
    res.redirect(303, `/admin/suppressions?done=${encodeURIComponent(lifted ? 'Suppression lifted.' : 'Nothing was suppressed there.')}`);
  });

  router.post('/logout', async (_req, res) => {
    await auth.signOut(sessionOf(res).id);
    res.clearCookie(SESSION_COOKIE, { path: '/admin' });
    res.redirect(303, '/admin/login');
  });

  app.use('/admin', router);
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : undefined);
const oneOf = <T extends string>(v: unknown, allowed: readonly T[]) => (allowed.includes(v as T) ? (v as T) : undefined);
function idParam(req: Request): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw new AppError('not_found', 'No such subscriber.');
  return id;
}
/** A browser tells where a form post came from; a sign-in from another site is refused. */
function crossSite(req: Request): boolean {
  if (req.get('sec-fetch-site') === 'cross-site') return true;
  const origin = req.get('origin');
  return Boolean(origin && origin !== 'null' && new URL(origin).host !== req.get('host'));
}
export type { NextFunction };
