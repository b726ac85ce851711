import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { launchChromium } from '../browser.js';
import { linkIn, ROOT, startPaperboy, startSmtp } from '../helpers.js';

const SHOTS = join(ROOT, 'test-output/screenshots');

describe('a reader in a real browser', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    smtp = await startSmtp();
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example' });
    loadSampleIfEmpty(app.database, new Date());
    browser = await launchChromium();
    const context = await browser.newContext({ timezoneId: 'Europe/Berlin', viewport: { width: 1200, height: 900 } });
    page = await context.newPage();
    // CSP violations and script errors show up here; the pages must have none.
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await smtp?.close();
  });

  // Links in emails point at PUBLIC_URL; in the test that host is this app.
  const local = (url: string) => url.replace('https://paperboy.example', app.url);
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  it('subscribes → confirms from the emailed link → changes preferences → unsubscribes', async () => {
    await page.goto(app.url);
    expect(await page.locator('h1').textContent()).toContain('in your inbox');
    expect(await page.locator('.sample .papers li').count()).toBeGreaterThan(3);
    expect(await page.inputValue('#timezone')).toBe('Europe/Berlin');
    expect(await page.isHidden('#field-weekday')).toBe(true);

    await page.getByLabel('Email address').fill('browser@example.org');
    await page.getByRole('checkbox', { name: /Interpretability/ }).check();
    await page.getByLabel('Your own keywords or phrases').fill('sparse autoencoders, GRPO');
    await page.getByLabel('Weekly', { exact: true }).check();
    expect(await page.isVisible('#field-weekday')).toBe(true);
    await page.getByLabel('Weekday (weekly digests)').selectOption('3');
    await page.getByLabel('Delivery hour').selectOption('7');
    await shot('1-subscribe');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await shot('2-check-inbox');
    expect(findByEmail(app.database, 'browser@example.org')).toMatchObject({
      status: 'pending', topics: ['interpretability'], keywords: ['sparse autoencoders', 'GRPO'], frequency: 'weekly', weekday: 3, hour: 7, timezone: 'Europe/Berlin',
    });

    const [mail] = await smtp.waitFor(1);
    await page.goto(local(linkIn(mail!.parsed.text, 'confirm')));
    await shot('3-confirm');
    expect(findByEmail(app.database, 'browser@example.org')!.status).toBe('pending');
    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await page.getByRole('heading', { name: /subscribed/ }).waitFor();
    await shot('4-confirmed');
    expect(findByEmail(app.database, 'browser@example.org')!.status).toBe('active');

    await page.goto(local(await page.getByRole('link', { name: 'Manage preferences' }).getAttribute('href') as string));
    await page.getByRole('checkbox', { name: /Diffusion & flow models/ }).check();
    await page.getByLabel('Never send papers about').fill('medical');
    await page.getByLabel('Papers per digest').selectOption('5');
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByText('Preferences saved.').waitFor();
    await shot('5-preferences');
    expect(findByEmail(app.database, 'browser@example.org')).toMatchObject({ topics: ['interpretability', 'diffusion-models'], exclude: ['medical'], maxPapers: 5 });

    // The form on the manage page posts to the unsubscribe URL, which is on PUBLIC_URL: follow it locally.
    const unsubscribe = await page.locator('form:has(button.danger)').getAttribute('action');
    await page.goto(local(unsubscribe!));
    await shot('6-unsubscribe');
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByRole('heading', { name: "You're unsubscribed" }).waitFor();
    await shot('7-unsubscribed');
    expect(findByEmail(app.database, 'browser@example.org')!.status).toBe('unsubscribed');
    // No manage link on the unsubscribe page; coming back takes a fresh confirmation.
    expect(await page.locator('a[href*="/manage/"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Subscribe again' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await shot('7b-subscribe-again');
    const [, again] = await smtp.waitFor(2);
    expect(again!.parsed.subject).toBe('Confirm your Paperboy subscription');
    expect(findByEmail(app.database, 'browser@example.org')!.status).toBe('pending');
    expect(problems).toEqual([]);
  });

  it('keeps the subscribe page usable on a phone-sized screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 } });
    await phone.goto(app.url);
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(SHOTS, '8-subscribe-phone.png'), fullPage: false });
    await phone.close();
  });
});
