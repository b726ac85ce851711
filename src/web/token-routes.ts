import type { Express, Request, Response } from 'express';
import { AppError } from '../errors.js';
import { Preferences, fromForm } from '../subscribers/subscription-input.js';
import type { Subscriber } from '../subscribers/subscriber-repo.js';
import { describeInterests } from '../subscribers/topic-catalogue.js';
import { formView } from './form-view.js';
import type { RateLimits } from './rate-limits.js';
import type { RouteDeps } from './routes.js';
import { consentContext } from './subscribe-routes.js';

const STATUS_LABELS: Record<Subscriber['status'], string> = {
  pending: 'waiting for confirmation',
  active: 'active',
  paused: 'paused',
  unsubscribed: 'unsubscribed',
  bounced: 'stopped (mail to this address bounced)',
};

// RFC 8058 one-click: a POST whose body is "List-Unsubscribe=One-Click"
// (urlencoded, or multipart which we do not need to parse: any POST here unsubscribes).
const isOneClick = (req: Request) =>
  (req.body as Record<string, unknown> | undefined)?.['List-Unsubscribe'] === 'One-Click' || req.is('multipart/form-data') !== false;

/**
 * Confirm, manage and unsubscribe pages. GET (and HEAD) only show a page,
 * because mail scanners follow every link; only POST acts.
 */
export function registerTokenRoutes(app: Express, deps: RouteDeps, limits: RateLimits): void {
  const { render, subscriptions, links } = deps;
  const token = (req: Request) => String(req.params.token ?? '');
  const pageNoStore = (res: Response) => res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');

  const managePage = (s: Subscriber, notice?: string, issues: { field: string; message: string }[] = [], values?: object) =>
    render('manage', {
      title: 'Your subscription',
      email: s.email,
      status: s.status,
      statusLabel: STATUS_LABELS[s.status],
      inactive: s.status === 'unsubscribed' || s.status === 'bounced' || s.status === 'pending',
      unsubscribeUrl: links.unsubscribeUrl(s),
      notice,
      form: formView(values ?? s, issues),
    });

  app.get('/confirm/:token', limits.tokens, (req, res) => {
    pageNoStore(res);
    const s = subscriptions.forConfirm(token(req), new Date());
    const done = s.status === 'active' || s.status === 'paused';
    res.send(render('confirm', { title: 'Confirm', done, interests: describeInterests(s), manageUrl: links.manageUrl(s) }));
  });

  app.post('/confirm/:token', limits.tokens, (req, res) => {
    pageNoStore(res);
    const s = subscriptions.confirm(token(req), consentContext(req, 'web'), new Date());
    res.send(render('confirm', { title: 'Subscribed', done: true, manageUrl: links.manageUrl(s) }));
  });

  app.get('/manage/:token', limits.tokens, (req, res) => {
    pageNoStore(res);
    res.send(managePage(subscriptions.forManage(token(req), new Date())));
  });

  app.post('/manage/:token', limits.tokens, (req, res) => {
    pageNoStore(res);
    const now = new Date();
    const body = (req.body ?? {}) as Record<string, unknown>;
    const action = String(body.action ?? 'save');
    const ctx = consentContext(req, 'web');
    if (action === 'pause' || action === 'resume' || action === 'resubscribe') {
      const s = subscriptions.setStatus(token(req), action, ctx, now);
      const notice = { pause: 'Digests are paused. Resume whenever you like.', resume: 'Digests are back on.', resubscribe: 'Welcome back: digests are on again.' }[action];
      return void res.send(managePage(s, notice));
    }
    if (action === 'reset-links') {
      const s = subscriptions.resetLinks(token(req), now);
      return void res.redirect(303, links.manageUrl(s).replace(/^https?:\/\/[^/]+/, ''));
    }
    if (action !== 'save') throw new AppError('bad_request', 'Unknown action.');
    const { action: _a, ...fields } = fromForm(body);
    const parsed = Preferences.safeParse(fields);
    if (!parsed.success) {
      const s = subscriptions.forManage(token(req), now);
      const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
      return void res.status(400).send(managePage(s, undefined, issues, fields));
    }
    const s = subscriptions.updatePreferences(token(req), parsed.data, now);
    res.send(managePage(s, 'Preferences saved.'));
  });

  app.get('/unsubscribe/:token', limits.tokens, (req, res) => {
    pageNoStore(res);
    const s = subscriptions.forUnsubscribe(token(req), new Date());
    if (s.status === 'unsubscribed') {
      return void res.send(render('unsubscribe', { title: 'Unsubscribed', done: true, email: s.email, manageUrl: links.manageUrl(s) }));
    }
    res.send(render('unsubscribe', { title: 'Unsubscribe', email: s.email, manageUrl: links.manageUrl(s) }));
  });

  // No rate limit and no CSRF token here: mailbox providers POST one-click
  // unsubscribes from shared IPs, and the signed token is the authority.
  app.post('/unsubscribe/:token', (req, res) => {
    pageNoStore(res);
    const oneClick = isOneClick(req);
    const s = subscriptions.unsubscribe(token(req), consentContext(req, oneClick ? 'one-click' : 'web'), new Date());
    if (oneClick) return void res.type('text/plain').send('Unsubscribed.');
    res.send(render('unsubscribe', { title: 'Unsubscribed', done: true, email: s.email, manageUrl: links.manageUrl(s) }));
  });
}
