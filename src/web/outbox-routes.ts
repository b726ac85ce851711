import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Express } from 'express';
import { simpleParser } from 'mailparser';
import type { RenderPage } from './views.js';

const EML = /^\d+-\d+-\d+\.eml$/;

/**
 * The development outbox (only when SMTP_URL is unset): lists the .eml files
 * Paperboy wrote and shows each one as its recipient would see it.
 */
export function registerOutboxRoutes(app: Express, dir: string, render: RenderPage): void {
  const files = () => {
    try {
      return readdirSync(dir).filter((f) => EML.test(f)).sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
    } catch {
      return [];
    }
  };

  app.get('/outbox', async (_req, res) => {
    const mails = await Promise.all(
      files()
        .slice(0, 200)
        .map(async (file) => {
          const m = await simpleParser(readFileSync(join(dir, file)));
          return { file, subject: m.subject ?? '(no subject)', to: m.to && !Array.isArray(m.to) ? m.to.text : '', date: m.date?.toISOString().replace('T', ' ').slice(0, 19) };
        }),
    );
    res.send(render('outbox', { title: 'Outbox', mails, dir }));
  });

  app.get('/outbox/:file', async (req, res) => {
    const file = String(req.params.file);
    if (!EML.test(file) || !files().includes(file)) return void res.status(404).send(render('message', { title: 'Not found', heading: 'No such message', message: 'It may have been deleted.' }));
    const raw = readFileSync(join(dir, file));
    if (req.query.raw !== undefined) return void res.type('message/rfc822').send(raw);
    const m = await simpleParser(raw);
    // The message's own HTML, sandboxed: no scripts, no forms posting anywhere from here.
    res.set('Content-Security-Policy', "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation");
    res.type('html').send(m.html || `<pre>${(m.text ?? '').replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>`);
  });
}
