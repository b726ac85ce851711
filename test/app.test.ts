import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadSampleIfEmpty } from '../src/papers/sample-corpus.js';
import { compilePages } from '../src/web/views.js';
import { serveApp, silentLog, tempDatabase } from './helpers.js';

describe('the web app', () => {
  const database = tempDatabase();
  let http: Awaited<ReturnType<typeof serveApp>>;
  beforeAll(async () => {
    loadSampleIfEmpty(database, new Date());
    http = await serveApp(createApp({ database, log: silentLog, render: compilePages(), trustProxy: 'loopback' }));
  });
  afterAll(async () => {
    await http.close();
    database.cleanup();
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${http.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('serves the start page with an email form, sample papers and a strict CSP', async () => {
    const res = await fetch(`${http.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('type="email"');
    expect(html).toContain('Diffusion');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('answers unknown pages with a friendly 404', async () => {
    const res = await fetch(`${http.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Page not found');
  });
});
