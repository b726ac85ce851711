import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordBounce } from '../../src/bounces/suppression.js';
import { ROOT, startPaperboy } from '../helpers.js';

const SHOTS = join(ROOT, 'test-output/screenshots/admin');
const TOKEN = 'admin-token-for-browser-tests-01';

// Debian's chromium, headless (.ci/run installs it), as test/web/browser.test.ts launches it.
const launchChromium = () =>
  chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });

/** A little history: signups over a week, a digest run, a bounce, a complaint, an ingest. */
async function seed(app: Awaited<ReturnType<typeof startPaperboy>>) {
  const db = app.database;
  const now = Date.now();
  const ids: number[] = [];
  for (let i = 1; i <= 40; i++) {
    const at = new Date(now - (i % 7) * 86_400_000).toISOString();
    const topics = JSON.stringify(i % 2 ? ['interpretability'] : ['agents', 'diffusion-models']);
    const { id } = (await db.get<{ id: number }>(
      "INSERT INTO subscribers (email, status, topics, created_at, updated_at, confirmed_at) VALUES (?, 'active', ?, ?, ?, ?) RETURNING id",
      [`reader${i}@example.org`, topics, at, at, at],
    ))!;
    ids.push(id);
    await db.run('INSERT INTO consent_events (subscriber_id, event, method, at) VALUES (?, ?, ?, ?)', [id, 'subscribe_requested', 'web', at]);
    await db.run('INSERT INTO consent_events (subscriber_id, event, method, at) VALUES (?, ?, ?, ?)', [id, 'confirmed', 'web', at]);
  }
  const runAt = new Date(now - 3_600_000).toISOString();
  for (const id of ids.slice(0, 30)) {
    await db.run("INSERT INTO deliveries (subscriber_id, period_key, status, message_id, since, created_at) VALUES (?, 'p', 'sending', 'm', 'x', ?)", [id, runAt]);
  }
  for (const id of ids.slice(0, 25)) await db.run("UPDATE deliveries SET status = 'sent', finished_at = ? WHERE subscriber_id = ?", [runAt, id]);
  const rule = { count: 3, windowDays: 14 };
  await recordBounce(app.database, { provider: 'ses', eventId: 'e1', kind: 'hard_bounce', email: 'reader3@example.org', detail: '550 5.1.1 user unknown' }, rule, new Date());
  await recordBounce(app.database, { provider: 'postmark', eventId: 'e2', kind: 'complaint', email: 'reader4@example.org' }, rule, new Date());
  await db.run(
    "INSERT INTO source_status (source, last_run_at, ok, fetched, last_error, last_error_at) VALUES ('hf', ?, 1, 30, NULL, NULL), ('arxiv:cs.LG', ?, 0, 0, 'HTTP 503', ?)",
    [runAt, runAt, runAt],
  );
}

const statusOf = async (app: Awaited<ReturnType<typeof startPaperboy>>, email: string) =>
  (await app.database.get<{ status: string }>('SELECT status FROM subscribers WHERE email = ?', [email]))!.status;

describe('the admin console in a real browser', () => {
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startPaperboy({ ADMIN_TOKEN: TOKEN });
    await seed(app);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const open = async (width: number, javaScriptEnabled = true): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled });
    const page = await context.newPage();
    // CSP violations and script errors land here; the console must have none.
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    return page;
  };
  const signIn = async (page: Page) => {
    await page.goto(`${app.url}/admin`);
    expect(page.url()).toBe(`${app.url}/admin/login`);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${app.url}/admin`);
  };

  for (const width of [1280, 390]) {
    it(`walks the console at ${width} px: charts drawn by the served library, pause from a subscriber page, lift a suppression`, async () => {
      const page = await open(width);
      await page.goto(`${app.url}/admin/login`);
      await page.screenshot({ path: join(SHOTS, `login-${width}.png`), fullPage: true });
      await signIn(page);
      await expect.poll(() => page.locator('.chart canvas').count()).toBe(6);
      expect(await page.locator('text=A digest run is in progress').count()).toBe(1);
      await page.screenshot({ path: join(SHOTS, `overview-${width}.png`), fullPage: true });

      await page.getByRole('link', { name: 'Digest runs' }).click();
      expect(await page.locator('progress').getAttribute('value')).toBe('25');
      await page.screenshot({ path: join(SHOTS, `runs-${width}.png`), fullPage: true });

      await page.getByRole('link', { name: 'Subscribers' }).first().click();
      await page.getByLabel('Address').fill('reader1@');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('link', { name: 'reader1@example.org' }).click();
      await page.screenshot({ path: join(SHOTS, `subscriber-${width}.png`), fullPage: true });
      if (width === 1280) {
        await page.getByRole('button', { name: 'Pause' }).click();
        expect(await page.locator('.notice').textContent()).toContain('Now paused');
        expect(await statusOf(app, 'reader1@example.org')).toBe('paused');
      }

      await page.getByRole('link', { name: 'Topics' }).click();
      await page.screenshot({ path: join(SHOTS, `topics-${width}.png`), fullPage: true });
      await page.getByRole('link', { name: 'Sources' }).click();
      expect(await page.locator('text=HTTP 503').count()).toBe(1);
      await page.screenshot({ path: join(SHOTS, `sources-${width}.png`), fullPage: true });
      await page.getByRole('link', { name: 'Suppressions' }).click();
      expect(await page.locator('tbody tr').count()).toBeGreaterThanOrEqual(width === 1280 ? 2 : 1);
      await page.screenshot({ path: join(SHOTS, `suppressions-${width}.png`), fullPage: true });
      if (width === 1280) {
        await page.locator('tr', { hasText: 'reader3@example.org' }).getByRole('button', { name: 'Lift' }).click();
        expect(await page.locator('.notice').textContent()).toContain('Suppression lifted');
        expect(await statusOf(app, 'reader3@example.org')).toBe('active');
      }
      expect(problems).toEqual([]);
    }, 60_000);
  }

  it('reads the overview as tables without JavaScript', async () => {
    const page = await open(1280, false);
    await signIn(page);
    expect(await page.locator('table[data-chart]').count()).toBe(6);
    expect(await page.locator('canvas').count()).toBe(0);
    expect(await page.locator('#status').isVisible()).toBe(true);
    const active = await page.locator('#status tbody tr').last().locator('td').nth(1).textContent();
    expect(Number(active)).toBeGreaterThan(30);
    await page.screenshot({ path: join(SHOTS, 'overview-no-js-1280.png'), fullPage: true });
  }, 60_000);
});
