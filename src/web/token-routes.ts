import type { Express, Request, Response } from 'express';
import { clearFeedback, paperById, ratingsOf } from '../digests/reader-signals.js';
import { setSilenceNotes, silenceNotesEnabled } from '../email/silence-notes.js';
import { AppError } from '../errors.js';
import { firstDelivery, formatDelivery } from './first-delivery.js';
import { Preferences, fromForm } from '../subscribers/subscription-input.js';
import type { Subscriber } from '../subscribers/subscriber-repo.js';
import { describeInterests, describeInterestsUnquoted } from '../subscribers/topic-catalogue.js';
import type { ConfirmationRequest, RequestedInterests } from '../subscribers/subscription-service.js';
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

// What "Subscribe again" did. Over the daily mail cap nothing changed (see requestConfirmation),
// so the page says so and sends the reader to tomorrow, not to a link an unsubscribe revoked.
const RESUBSCRIBE_NOTICE: Record<ConfirmationRequest | 'active', (s: Subscriber) => string> = {
  mailed: (s) => `We sent a confirmation link to ${s.email}. Digests start again only after you click it.`,
  capped: (s) =>
    s.status === 'pending'
      ? 'Paperboy already sent several emails to this address today, so it sent no new confirmation. Click the link in the latest confirmation email, or try again tomorrow.'
      : 'Paperboy already sent several emails to this address today, so it sent no confirmation and nothing changed: you are still unsubscribed. Try again tomorrow.',
  suppressed: () => 'Mail to this address bounced, so Paperboy stopped sending to it and cannot send a confirmation. Ask whoever runs this Paperboy to re-enable it.',
  active: () => 'This address already gets digests.',
};

// RFC 8058 one-click: a POST whose body is "List-Unsubscribe=One-Click"
// (urlencoded, or multipart which we do not need to parse: any POST here unsubscribes).
const isOneClick = (req: Request) =>
  (req.body as Record<string, unknown> | undefined)?.['List-Unsubscribe'] === 'One-Click' || req.is('multipart/form-data') !== false;

/** The manage page's summary of requested interests (this page is the owner's, so typed words may be shown, escaped). */
function describeRequested(r: RequestedInterests | null) {
  if (!r) return null;
  const parts = [
    r.topics.length || r.keywords.length ? describeInterests(r) : '',
    r.exclude.length ? `excluding ${r.exclude.map((x) => `“${x}”`).join(', ')}` : '',
    r.seeds.length ? `${r.seeds.length} ${r.seeds.length === 1 ? 'paper' : 'papers'} to follow` : '',
    r.authors.length ? `authors ${r.authors.join(', ')}` : '',
  ];
  return parts.filter(Boolean).join('; ');
}

/**
 * Confirm, manage and unsubscribe pages. GET (and HEAD) only show a page,
 * because mail scanners follow every link; only POST acts.
 */
export function registerTokenRoutes(app: Express, deps: RouteDeps, limits: RateLimits): void {
  const { render, subscriptions, links } = deps;
  const token = (req: Request) => String(req.params.token ?? '');
  const pageNoStore = (res: Response) => res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');

  const managePage = async (s: Subscriber, notice?: string, issues: { field: string; message: string }[] = [], values?: object) =>
    render('manage', {
      title: 'Your subscription',
      email: s.email,
      status: s.status,
      statusLabel: STATUS_LABELS[s.status],
      inactive: s.status === 'unsubscribed' || s.status === 'bounced' || s.status === 'pending',
      canResubscribe: s.status === 'unsubscribed' || s.status === 'pending',
      unsubscribeUrl: links.unsubscribeUrl(s),
      // The Atom feed of their digests, for readers who get digests (revoked with the manage links).
      feedUrl: s.status === 'active' || s.status === 'paused' ? links.feedUrl(s) : null,
      notice,
      silenceNotes: await silenceNotesEnabled(deps.database, s.id),
      form: formView(values ?? s, issues),
      // Interests a signup asked for while this address already got digests: shown, applied only by its button.
      requested: describeRequested(subscriptions.requestedInterests(s)),
      // Papers the reader rated "more/less like this", each removable (issue 14).
      ratings: (await ratingsOf(deps.database, s.id)).map((r) => ({ ...r, label: r.choice === 'more' ? 'More like this' : 'Less like this' })),
    });

  app.get('/confirm/:token', limits.tokens, async (req, res) => {
    pageNoStore(res);
    const s = await subscriptions.forConfirm(token(req), new Date());
    const done = s.status === 'active' || s.status === 'paused';
    res.send(render('confirm', { title: 'Confirm', done, interests: describeInterestsUnquoted(s), manageUrl: links.manageUrl(s) }));
  });

  app.post('/confirm/:token', limits.tokens, async (req, res) => {
    pageNoStore(res);
    const now = new Date();
    const s = await subscriptions.confirm(token(req), consentContext(req, 'web'), now);
    const first = firstDelivery(s, now);
    res.send(render('confirm', { title: 'Subscribed', done: true, manageUrl: links.manageUrl(s), firstDelivery: first && formatDelivery(first, s.timezone) }));
  });

  app.get('/manage/:token', limits.tokens, async (req, res) => {
    pageNoStore(res);
    res.send(await managePage(await subscriptions.forManage(token(req), new Date())));
  });

  app.post('/manage/:token', limits.tokens, async (req, res) => {
    pageNoStore(res);
    const now = new Date();
    const body = (req.body ?? {}) as Record<string, unknown>;
    const action = String(body.action ?? 'save');
    const ctx = consentContext(req, 'web');
    if (action === 'pause' || action === 'resume') {
      const s = await subscriptions.setStatus(token(req), action, now);
      return void res.send(await managePage(s, action === 'pause' ? 'Digests are paused. Resume whenever you like.' : 'Digests are back on.'));
    }
    if (action === 'resubscribe') {
      const { subscriber, outcome } = await subscriptions.resubscribe(token(req), 'manage', ctx, now);
      return void res.send(await managePage(await subscriptions.forManage(token(req), now), RESUBSCRIBE_NOTICE[outcome](subscriber)));
    }
    if (action === 'apply-requested') {
      const { subscriber, applied } = await subscriptions.applyRequested(token(req), now);
      return void res.send(await managePage(subscriber, applied ? 'The interests you asked for are now your interests.' : 'There were no requested interests to apply.'));
    }
    if (action === 'reset-links') {
      const s = await subscriptions.resetLinks(token(req), now);
      return void res.redirect(303, links.manageUrl(s).replace(/^https?:\/\/[^/]+/, ''));
    }
    if (action === 'forget-rating') {
      const s = await subscriptions.forManage(token(req), now);
      const paper = await paperById(deps.database, String(body.paper ?? ''));
      if (paper) await clearFeedback(deps.database, s.id, paper.pk);
      return void res.send(await managePage(s, 'Rating removed.'));
    }
    if (action !== 'save') throw new AppError('bad_request', 'Unknown action.');
    const { action: _a, silenceNotes, ...fields } = fromForm(body);
    const parsed = Preferences.safeParse(fields);
    if (!parsed.success) {
      const s = await subscriptions.forManage(token(req), now);
      const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
      return void res.status(400).send(await managePage(s, undefined, issues, fields));
    }
    const s = await subscriptions.updatePreferences(token(req), parsed.data, now);
    // The form always posts the checkbox when it is ticked: absent means off.
    await setSilenceNotes(deps.database, s.id, silenceNotes === 'on');
    res.send(await managePage(s, 'Preferences saved.'));
  });

  // The unsubscribe pages never show a manage link: unsubscribe links of every
  // version work, so one would hand out the current manage link to anyone
  // holding an old digest and bypass "Invalidate old links". "Subscribe again"
  // posts back to the link the reader already has, and only mails a confirmation.
  const resubscribeAction = (req: Request) => `/unsubscribe/${encodeURIComponent(token(req))}/resubscribe`;

  // A genuine unsubscribe link of a deleted reader (see resolveUnsubscribe): 200, no address, nothing changed.
  const NOT_SUBSCRIBED = 'You are not subscribed; Paperboy holds nothing about this address.';
  const notSubscribedPage = () =>
    render('message', {
      title: 'Not subscribed',
      heading: 'You are not subscribed',
      message: `${NOT_SUBSCRIBED} The subscription this link belonged to was deleted with all its data, so there is nothing to unsubscribe. To get digests again, subscribe from the start page.`,
      link: { href: '/', label: 'Go to the start page' },
    });

  app.get('/unsubscribe/:token', limits.tokens, async (req, res) => {
    pageNoStore(res);
    const s = await subscriptions.forUnsubscribe(token(req), new Date());
    if (!s) return void res.send(notSubscribedPage());
    const done = s.status === 'unsubscribed';
    res.send(render('unsubscribe', { title: done ? 'Unsubscribed' : 'Unsubscribe', done, email: s.email, resubscribeAction: resubscribeAction(req) }));
  });

  // No rate limit and no CSRF token here: mailbox providers POST one-click
  // unsubscribes from shared IPs, and the signed token is the authority.
  app.post('/unsubscribe/:token', async (req, res) => {
    pageNoStore(res);
    const oneClick = isOneClick(req);
    const s = await subscriptions.unsubscribe(token(req), consentContext(req, oneClick ? 'one-click' : 'web'), new Date());
    if (oneClick) return void res.type('text/plain').send(s ? 'Unsubscribed.' : NOT_SUBSCRIBED);
    if (!s) return void res.send(notSubscribedPage());
    res.send(render('unsubscribe', { title: 'Unsubscribed', done: true, email: s.email, resubscribeAction: resubscribeAction(req) }));
  });

  app.post('/unsubscribe/:token/resubscribe', limits.tokens, async (req, res) => {
    pageNoStore(res);
    // No address to mail a confirmation to: the start page is the way back.
    if (!(await subscriptions.forUnsubscribe(token(req), new Date()))) return void res.send(notSubscribedPage());
    const { subscriber, outcome } = await subscriptions.resubscribe(token(req), 'unsubscribe', consentContext(req, 'web'), new Date());
    res.send(render('message', { title: 'Subscribe again', heading: outcome === 'mailed' ? 'Check your inbox' : 'Subscribe again', message: RESUBSCRIBE_NOTICE[outcome](subscriber) }));
  });
}
