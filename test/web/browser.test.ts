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
    await loadSampleIfEmpty(app.database, new Date());
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

    // A bad address: the error is summarised at the top and the field marked, with its message beside it.
    await page.getByLabel('Email address').fill('not-an-address');
    await page.getByLabel('Your own keywords or phrases').fill('GRPO');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.locator('#form-errors').waitFor();
    expect(await page.locator('#form-errors').textContent()).toContain('Email address');
    expect(await page.getAttribute('#email', 'aria-invalid')).toBe('true');
    expect(await page.isVisible('#err-email')).toBe(true);
    await shot('0-errors-1280');
    // Chromium logs the intended 400 answer as a console error; only that one is expected.
    expect(problems).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    problems.length = 0;
    await page.getByLabel('Your own keywords or phrases').fill('');

    await page.getByLabel('Email address').fill('browser@example.org');
    await page.getByRole('checkbox', { name: /Interpretability/ }).check();
    await page.getByLabel('Your own keywords or phrases').fill('sparse autoencoders, GRPO');
    // The live preview answers while the reader types.
    await page.locator('#preview:not([hidden])').waitFor();
    await page.getByText(/Last week this would have sent you \d+ papers?\./).waitFor();
    expect(await page.locator('#preview li').count()).toBeGreaterThan(0);
    await page.getByLabel('Weekly', { exact: true }).check();
    expect(await page.isVisible('#field-weekday')).toBe(true);
    await page.getByLabel('Weekday (weekly digests)').selectOption('3');
    await page.getByLabel('Delivery hour').selectOption('7');
    await shot('1-subscribe');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await shot('2-check-inbox');
    expect(await findByEmail(app.database, 'browser@example.org')).toMatchObject({
      status: 'pending', topics: ['interpretability'], keywords: ['sparse autoencoders', 'GRPO'], frequency: 'weekly', weekday: 3, hour: 7, timezone: 'Europe/Berlin',
    });

    const [mail] = await smtp.waitFor(1);
    await page.goto(local(linkIn(mail!.parsed.text, 'confirm')));
    await shot('3-confirm');
    expect((await findByEmail(app.database, 'browser@example.org'))!.status).toBe('pending');
    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await page.getByRole('heading', { name: /subscribed/ }).waitFor();
    await shot('4-confirmed');
    expect((await findByEmail(app.database, 'browser@example.org'))!.status).toBe('active');

    await page.goto(local(await page.getByRole('link', { name: 'Manage preferences' }).getAttribute('href') as string));
    await page.getByRole('checkbox', { name: /Diffusion & flow models/ }).check();
    await page.getByLabel('Never send papers about').fill('medical');
    await page.getByLabel('Papers per digest').selectOption('5');
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByText('Preferences saved.').waitFor();
    await shot('5-preferences');
    expect(await findByEmail(app.database, 'browser@example.org')).toMatchObject({ topics: ['interpretability', 'diffusion-models'], exclude: ['medical'], maxPapers: 5 });

    // The form on the manage page posts to the unsubscribe URL, which is on PUBLIC_URL: follow it locally.
    const unsubscribe = await page.locator('form:has(button.danger)').getAttribute('action');
    await page.goto(local(unsubscribe!));
    await shot('6-unsubscribe');
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByRole('heading', { name: "You're unsubscribed" }).waitFor();
    await shot('7-unsubscribed');
    expect((await findByEmail(app.database, 'browser@example.org'))!.status).toBe('unsubscribed');
    // No manage link on the unsubscribe page; coming back takes a fresh confirmation.
    expect(await page.locator('a[href*="/manage/"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Subscribe again' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await shot('7b-subscribe-again');
    const [, again] = await smtp.waitFor(2);
    expect(again!.parsed.subject).toBe('Confirm your Paperboy subscription');
    expect((await findByEmail(app.database, 'browser@example.org'))!.status).toBe('pending');
    expect(problems).toEqual([]);
  });

  it('on a phone the keywords and the Subscribe button come before the folded topic grid; nothing matching shows a warning', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(app.url);
    expect(await phone.evaluate<boolean>('document.getElementById("field-topics").open')).toBe(false);
    const y = (sel: string) => phone.evaluate<number>(`document.querySelector('${sel}').getBoundingClientRect().top + window.scrollY`);
    expect(await y('#keywords')).toBeLessThan(844);
    // The whole grid (25 topics) would be ~2,500 px at this width; folded, the button is within about two screens.
    expect(await y('button[type=submit]')).toBeLessThan(2 * 844);
    await phone.getByLabel('Your own keywords or phrases').fill('zzqx flibbertigibbet');
    await phone.getByText(/0 papers\. Nothing from the last week matches/).waitFor();
    expect(await phone.getAttribute('#preview', 'class')).toContain('empty');
    await phone.screenshot({ path: join(SHOTS, '9-preview-empty-390.png'), fullPage: true });
    await phone.getByRole('button', { name: 'Subscribe' }).click();
    await phone.locator('#form-errors').waitFor();
    expect(await phone.getAttribute('#email', 'aria-invalid')).toBe('true');
    // The summary is at the top of the form, above the first field.
    expect(await y('#form-errors')).toBeLessThan(await y('#email'));
    await phone.screenshot({ path: join(SHOTS, '0-errors-390.png'), fullPage: true });
    await phone.close();
  });

  it('a sent digest: titles at the top link to the papers; its web copy has no personal links and outlives unsubscribing; the feed link works', async () => {
    await app.database.run(
      `INSERT INTO subscribers (email, status, topics, keywords, exclude, hour, timezone, created_at, updated_at, confirmed_at, link_key)
       VALUES ('reader@example.org', 'active', '["diffusion-models","agents"]', '["GRPO"]', '[]', 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'browserreaderkey000001')`,
    );
    const before = smtp.received.length;
    // Tomorrow at noon UTC: past the reader's 08:00 slot whatever the time of day the test runs
    // (a bare "now + 24 h" before 08:00 UTC was not due, and nothing was sent).
    const noonTomorrow = new Date(Date.now() + 86_400_000);
    noonTomorrow.setUTCHours(12, 0, 0, 0);
    await app.runDigests({ now: noonTomorrow });
    const mail = (await smtp.waitFor(before + 1)).slice(before).find((m) => m.envelopeTo[0] === 'reader@example.org')!;
    for (const width of [1280, 390]) {
      const p = await browser.newPage({ viewport: { width, height: 900 } });
      await p.setContent(mail.parsed.html as string);
      const first = p.locator('ol li a').first();
      const target = (await first.getAttribute('href'))!;
      expect(target).toMatch(/^#p\d+$/);
      expect(await p.locator(target).count()).toBe(1);
      expect(await p.getByRole('link', { name: 'More like this' }).count()).toBeGreaterThan(0);
      expect(await p.getByRole('link', { name: /feed/ }).count()).toBe(1);
      await p.screenshot({ path: join(SHOTS, `10-digest-${width}.png`), fullPage: true });
      await p.close();
    }
    const view = local(linkIn(mail.parsed.text, 'digest'));
    const feed = local(linkIn(mail.parsed.text, 'feed'));
    const checkArchive = async (name: string) => {
      for (const width of [1280, 390]) {
        const p = await browser.newPage({ viewport: { width, height: 900 } });
        const res = await p.goto(view);
        expect(res!.status()).toBe(200);
        expect(await p.locator('a[href*="/manage/"], a[href*="/unsubscribe/"], a[href*="/feedback/"], a[href*="/feed/"]').count()).toBe(0);
        expect(await p.content()).not.toContain('reader@example.org');
        expect(await p.locator('.paper').count()).toBe(await p.locator('ol li').count());
        await p.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
        await p.close();
      }
    };
    await checkArchive('11-archive');
    const atom = await fetch(feed);
    expect(atom.status).toBe(200);
    expect(await atom.text()).toContain('<feed xmlns="http://www.w3.org/2005/Atom">');
    // The manage page links the same feed.
    await page.goto(local(linkIn(mail.parsed.text, 'manage')));
    expect(local((await page.locator('#feed-link').getAttribute('href'))!)).toBe(feed);
    await page.goto(local((await page.locator("form:has(button.danger)").getAttribute("action"))!));
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByRole('heading', { name: "You're unsubscribed" }).waitFor();
    await checkArchive('12-archive-after-unsubscribe');
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
