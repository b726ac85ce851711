import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSampleIfEmpty } from '../src/papers/sample-corpus.js';
import { startPaperboy } from './helpers.js';

describe('the web app', () => {
  let http: Awaited<ReturnType<typeof startPaperboy>>;
  beforeAll(async () => {
    http = await startPaperboy();
    await loadSampleIfEmpty(http.database, new Date());
  });
  afterAll(() => http.stop());

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
