import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewDigest } from '../../src/digests/digest-preview.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { Preferences } from '../../src/subscribers/subscription-input.js';
import { findByEmail, insertSubscriber } from '../../src/subscribers/subscriber-repo.js';
import { launchChromium } from '../browser.js';
import { ROOT, startPaperboy } from '../helpers.js';

// Issue 14 in a real browser: the feedback page walk and what the manage page shows of it.

const SHOTS = join(ROOT, 'test-output/screenshots');
const EMAIL = 'walker@example.org';
let app: Awaited<ReturnType<typeof startPaperboy>>;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  app = await startPaperboy({ PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
  await loadSampleIfEmpty(app.database, new Date());
  await insertSubscriber(app.database, EMAIL, 'active', Preferences.parse({ keywords: ['in-context learning'] }), new Date().toISOString());
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  page.setDefaultTimeout(8000);
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const local = (url: string) => url.replace('https://paperboy.example', app.url);
const reader = async () => (await findByEmail(app.database, EMAIL))!;
const ratings = () => app.database.all<{ choice: string }>('SELECT choice FROM paper_feedback ORDER BY paper_pk');
const firstPaper = async () => (await previewDigest(app.database, EMAIL, { now: new Date(), since: '2000-01-01T00:00:00Z', limit: 5, lookbackDays: 7 })).papers[0]!;

describe('feedback in a real browser', () => {
  it('when a reader opens "More like this", then the page pre-selects it, records only on the button, and can undo', async () => {
    const paper = await firstPaper();
    await page.goto(local(app.links.feedbackUrl(await reader(), paper.id, 'more')));
    expect(await page.locator('input[name=choice][value=more]').isChecked()).toBe(true);
    expect(await page.textContent('main, body')).toContain(paper.title);
    expect(await ratings()).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'feedback-390.png'), fullPage: true });
    await page.click('button[type=submit]');
    await page.waitForSelector('text=More papers like this from now on');
    expect(await ratings()).toEqual([{ choice: 'more' }]);
    await page.click('text=Undo');
    await page.waitForSelector('text=Rating removed');
    expect(await ratings()).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('when a reader opens their manage page, then it lists rated papers to remove and takes seed papers and authors', async () => {
    const paper = await firstPaper();
    await page.goto(local(app.links.feedbackUrl(await reader(), paper.id, 'less')));
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Fewer papers like this from now on');
    await page.goto(local(app.links.manageUrl(await reader())));
    expect(await page.textContent('#ratings-title')).toBe('Papers you rated');
    expect(await page.textContent('.ratings')).toContain(paper.title);
    await page.fill('#seeds', 'Transformers learn in-context by gradient descent\narXiv:2612.00009');
    await page.fill('#authors', 'Yann LeCun, J. Müller');
    await page.click('text=Save preferences');
    await page.waitForSelector('text=Preferences saved.');
    expect((await reader()).seeds).toEqual(['Transformers learn in-context by gradient descent', 'arXiv:2612.00009']);
    expect((await reader()).authors).toEqual(['Yann LeCun', 'J. Müller']);
    await page.screenshot({ path: join(SHOTS, 'manage-ratings-390.png'), fullPage: true });
    await page.click('.ratings button');
    await page.waitForSelector('text=Rating removed.');
    expect(await ratings()).toEqual([]);
    expect(problems).toEqual([]);
  });
});
