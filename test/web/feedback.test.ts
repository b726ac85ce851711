import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewDigest } from '../../src/digests/digest-preview.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { Preferences } from '../../src/subscribers/subscription-input.js';
import { insertSubscriber, findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { startPaperboy } from '../helpers.js';

// Issue 14: "More like this" / "Less like this" through the real app.

let app: Awaited<ReturnType<typeof startPaperboy>>;
const NOW = new Date('2025-12-31T00:00:00Z');
const EMAIL = 'rater@example.org';

beforeAll(async () => {
  app = await startPaperboy({ RATE_LIMITS: 'false', PUBLIC_URL: 'https://paperboy.example' });
  await loadSampleIfEmpty(app.database, new Date('2025-12-30T00:00:00Z'));
  await insertSubscriber(app.database, EMAIL, 'active', Preferences.parse({ keywords: ['diffusion models'] }), NOW.toISOString());
});
afterAll(async () => app.stop());

const local = (url: string) => url.replace('https://paperboy.example', app.url);
const reader = async () => (await findByEmail(app.database, EMAIL))!;
const ratings = () => app.database.all<{ id: string; choice: string }>('SELECT p.id, f.choice FROM paper_feedback f JOIN papers p ON p.pk = f.paper_pk ORDER BY p.id');
const preview = async () => (await previewDigest(app.database, EMAIL, { now: NOW, since: '2000-01-01T00:00:00Z', limit: 10, lookbackDays: 7 })).papers;
const post = (url: string, choice: string) => fetch(local(url), { method: 'POST', body: new URLSearchParams({ choice }) });

describe('feedback links', () => {
  it('when a mail scanner follows a feedback link (GET or HEAD), then nothing is recorded and the page pre-selects the choice', async () => {
    const [paper] = await preview();
    const url = app.links.feedbackUrl(await reader(), paper!.id, 'less');
    const head = await fetch(local(url), { method: 'HEAD' });
    expect(head.status).toBe(200);
    const page = await fetch(local(url));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('value="less" checked');
    expect(html).toContain('Papers like this one?');
    expect(await ratings()).toEqual([]);
  });

  it('when the reader presses the button, then the rating is recorded, the page says what changes, and undo removes it', async () => {
    const [paper] = await preview();
    const url = app.links.feedbackUrl(await reader(), paper!.id, 'more');
    const saved = await post(url, 'less');
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain('Fewer papers like this from now on');
    expect(await ratings()).toEqual([{ id: paper!.id, choice: 'less' }]);
    const undone = await post(url, 'undo');
    expect(await undone.text()).toContain('Rating removed');
    expect(await ratings()).toEqual([]);
  });

  it('when a feedback token is tampered with or revoked, then a friendly 4xx page answers and nothing is recorded', async () => {
    const [paper] = await preview();
    const url = app.links.feedbackUrl(await reader(), paper!.id, 'more');
    const tampered = url.replace(/\/feedback\/(.)/, (_m, c: string) => `/feedback/${c === 'A' ? 'B' : 'A'}`);
    for (const res of [await fetch(local(tampered)), await post(tampered, 'more')]) {
      expect(res.status).toBe(400);
      const body = await res.text();
      expect(body).toMatch(/not valid|no longer valid/);
      expect(body).not.toMatch(/at .*\.ts:\d+/);
    }
    const otherPurpose = app.links.manageUrl(await reader()).replace('/manage/', '/feedback/');
    expect((await post(otherPurpose, 'more')).status).toBe(400);
    await app.database.run('UPDATE subscribers SET token_version = token_version + 1 WHERE email = ?', [EMAIL]);
    expect((await post(url, 'more')).status).toBe(400);
    expect(await ratings()).toEqual([]);
    const fresh = app.links.feedbackUrl(await reader(), paper!.id, 'more');
    expect((await post(fresh, 'bogus')).status).toBe(400);
  });

  it('when the reader rates papers, then the next digest changes: a disliked paper and its likes move down or out, and the why line says so', async () => {
    const before = await preview();
    expect(before.length).toBeGreaterThanOrEqual(3);
    const [top, second] = before;
    expect((await post(app.links.feedbackUrl(await reader(), top!.id, 'less'), 'less')).status).toBe(200);
    expect((await post(app.links.feedbackUrl(await reader(), second!.id, 'more'), 'more')).status).toBe(200);
    const after = await preview();
    expect(after.map((p) => p.id)).not.toEqual(before.map((p) => p.id));
    const topNow = after.findIndex((p) => p.id === top!.id);
    expect(topNow === -1 || topNow > 0).toBe(true);
    expect(after.some((p) => /which you liked|because you liked|less like this/.test(p.why))).toBe(true);
  });
});
