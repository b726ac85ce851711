import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { ROOT, tempDatabase } from '../helpers.js';
import { tenPaperDigest } from './digest-fixture.js';

const SHOTS = join(ROOT, 'test-output/screenshots');

describe('a 10-paper digest on a phone', () => {
  let database: Awaited<ReturnType<typeof tempDatabase>>;
  beforeAll(async () => void (database = await tempDatabase()));
  afterAll(() => database.cleanup());

  it('is short enough to skim at 390 px', async () => {
    mkdirSync(SHOTS, { recursive: true });
    await loadSampleIfEmpty(database, new Date());
    const { mail } = await tenPaperDigest(database);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
    try {
      const heights: Record<number, number> = {};
      for (const width of [1280, 390]) {
        const page = await browser.newPage({ viewport: { width, height: 800 } });
        await page.setContent(mail.html);
        heights[width] = await page.evaluate<number>('document.documentElement.scrollHeight');
        await page.screenshot({ path: join(SHOTS, `digest-${width}.png`), fullPage: true });
        await page.close();
      }
      console.log(`digest height: ${JSON.stringify(heights)}`);
      // Before issue 15 this digest was 4,462 px tall at 390 px (3,173 at 1280); the goal was about half.
      expect(heights[390]).toBeLessThanOrEqual(2450);
    } finally {
      await browser.close();
    }
  });
});
