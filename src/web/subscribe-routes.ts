import type { Express, Request } from 'express';
import { AppError } from '../errors.js';
import { readerLink } from '../papers/paper-record.js';
import { recentPapers } from '../papers/paper-repo.js';
import { fromForm, parseSubscription } from '../subscribers/subscription-input.js';
import { formView } from './form-view.js';
import type { RateLimits } from './rate-limits.js';
import type { RouteDeps } from './routes.js';

// Byte-identical for new, pending, active and unsubscribed addresses: no enumeration.
const ACCEPTED = JSON.stringify({
  status: 'accepted',
  message: 'If this address can receive mail, a message from Paperboy is on its way.',
});

/** Where a consent event came from. */
export function consentContext(req: Request, method: string) {
  return { method, ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
}

const isBot = (body: Record<string, unknown>) => typeof body.website === 'string' && body.website.trim() !== '';

/** The subscribe page, its form POST and `POST /api/subscriptions`. */
export function registerSubscribeRoutes(app: Express, deps: RouteDeps, limits: RateLimits): void {
  const { database, render, subscriptions } = deps;
  // The live sample changes only when papers arrive (a new highest pk): not worth a sort per page view.
  let cached: { pk: unknown; papers: unknown[] } | undefined;
  const sample = async () => {
    const pk = (await database.get<{ pk: number | null }>('SELECT max(pk) AS pk FROM papers'))?.pk ?? null;
    if (!cached || cached.pk !== pk) cached = { pk, papers: (await recentPapers(database, 8)).map((p) => ({ ...p, url: readerLink(p.urls.page, p.urls.abs, p.title).url })) };
    return cached.papers;
  };
  const page = async (form: ReturnType<typeof formView>) => render('index', { title: 'Subscribe', form, papers: await sample(), summaryAbove: true });

  app.get('/', async (_req, res) => {
    res.send(await page(formView({})));
  });

  app.post('/subscribe', limits.subscribe, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const input = fromForm(body);
    if (isBot(body)) return void res.send(render('check-inbox', { title: 'Check your inbox', email: String(input.email ?? '') }));
    const { website: _w, ...fields } = input;
    const parsed = parseSubscription(fields);
    if (!parsed.success) {
      const issues = parsed.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
      return void res.status(400).send(await page(formView({ ...(input as object), email: String(input.email ?? '') }, issues)));
    }
    await subscriptions.subscribe(parsed.email, parsed.preferences, consentContext(req, 'web'), new Date());
    res.send(render('check-inbox', { title: 'Check your inbox', email: parsed.email }));
  });

  app.post('/api/subscriptions', limits.subscribe, async (req, res) => {
    if (!req.is('application/json')) throw new AppError('bad_request', 'Send JSON with Content-Type: application/json.');
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isBot(body)) {
      const parsed = parseSubscription(body);
      if (!parsed.success) {
        throw new AppError('validation', 'Some fields are invalid.', parsed.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message })));
      }
      await subscriptions.subscribe(parsed.email, parsed.preferences, consentContext(req, 'api'), new Date());
    }
    res.status(202).type('application/json').send(ACCEPTED);
  });

  app.get('/api/topics', (_req, res) => {
    res.json(formView({}).topics.map(({ slug, name, description }) => ({ slug, name, description })));
  });
}
