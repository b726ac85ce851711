import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { titleKey } from '../../src/papers/paper-record.js';
import { parseListingPage } from '../../src/papers/parsers/listing-page.js';
import { CORPUS_DIR } from '../helpers.js';

const pages = readdirSync(CORPUS_DIR)
  .sort()
  .map((f) => ({ file: f, text: readFileSync(join(CORPUS_DIR, f), 'utf8') }));
const parse = (text: string, asOf = '2025-12-31') => parseListingPage(text, 'page.txt', asOf);
const byTitle = (text: string, title: string) => parse(text).papers.find((p) => p.title === title);

describe('Daily Papers listing pages', () => {
  it('reads every entry of the five real pages and finds the papers they share', () => {
    const all = pages.map((p) => parse(p.text));
    expect(all.map((p) => p.papers.length)).toEqual([33, 52, 71, 42, 34]);
    expect(all.map((p) => p.listedOn)).toEqual(['2025-12-30', '2025-10-14', '2025-11-07', '2025-12-26', '2025-11-03']);
    const distinct = new Set(all.flatMap((p) => p.papers.map((x) => titleKey(x.title))));
    expect(distinct.size).toBe(181);
    for (const paper of all.flatMap((p) => p.papers)) {
      expect(paper.title.length).toBeLessThan(300);
      expect(paper.abstract.length).toBeGreaterThan(200);
    }
  });

  it('reads author counts, full dates and an upvote count after the date', () => {
    const yolo = byTitle(pages[0]!.text, 'YOLOv9: Learning What You Want to Learn Using Programmable Gradient Information');
    expect(yolo).toMatchObject({ authorCount: 3, publishedAt: '2024-02-21', upvotes: 3, organization: null });
  });

  it('resolves yearless dates against the listing date, and the listing date against the reference day', () => {
    const page = parse(pages[0]!.text);
    expect(page.listedOn).toBe('2025-12-30');
    expect(page.papers.find((p) => p.title.startsWith('multiMentalRoBERTa'))?.publishedAt).toBe('2025-10-31');
    // Against a reference day in early December, "Dec 30" is last year's.
    expect(parse(pages[0]!.text, '2026-12-05').listedOn).toBe('2025-12-30');
    expect(parse(pages[0]!.text, '2026-12-31').listedOn).toBe('2026-12-30');
  });

  it('reads an organisation line instead of an author count', () => {
    const guide = byTitle(pages[2]!.text, "A Practitioner's Guide to Multi-turn Agentic Reinforcement Learning");
    expect(guide).toMatchObject({ organization: 'PEARLS Lab', authorCount: null, publishedAt: '2025-10-01', upvotes: 2 });
    const editing = byTitle(pages[3]!.text, 'Learning an Image Editing Model without Image Editing Pairs');
    expect(editing?.organization).toBe('Adobe');
  });

  it('keeps an entry with no meta block when the next title follows its abstract', () => {
    const page = parse(pages[1]!.text);
    const dale = page.papers.find((p) => p.title === 'Dale meets Langevin: A Multiplicative Denoising Diffusion Model');
    expect(dale).toMatchObject({ publishedAt: null, authorCount: null });
    expect(dale!.abstract).toMatch(/^Gradient descent has proven/);
    const next = page.papers[page.papers.indexOf(dale!) + 1];
    expect(next?.title).toBe('Denoising Task Routing for Diffusion Models');
  });

  it('keeps the last entry of a page that ends mid-entry', () => {
    const page = parse(pages[4]!.text);
    expect(page.papers.at(-1)?.title).toBe('Dale meets Langevin: A Multiplicative Denoising Diffusion Model');
    expect(page.papers.at(-1)?.publishedAt).toBeNull();
  });

  it('drops a title with nothing after it and counts it as incomplete', () => {
    const page = parse(`${pages[0]!.text}\n\nA Title With No Abstract\n`);
    expect(page.papers).toHaveLength(33);
    expect(page.incomplete).toBe(1);
  });

  it('joins an abstract that spans two paragraphs', () => {
    const text = `Daily Papers\n\nDec 30\n\nA Title\n\nFirst paragraph of the abstract, which is long enough to be prose and ends with a full stop, like abstracts do, and it keeps going for quite a number of words.\n\nSecond paragraph that also reads like prose and clearly belongs to the same abstract as the first one does, really.\n\n  • 2 authors\n·\nDec 1\n`;
    const page = parse(text);
    expect(page.papers).toHaveLength(1);
    expect(page.papers[0]!.abstract).toContain('Second paragraph');
    expect(page.papers[0]!.publishedAt).toBe('2025-12-01');
  });

  it('rejects a page without a listing date, naming the line', () => {
    expect(() => parse('Daily Papers\n\nNot a date\n\nTitle\n\nAbstract')).toThrow(InputError);
    expect(() => parse('Daily Papers\n\nNot a date\n')).toThrow(/line 3/);
  });

  it('never crashes or hangs on truncated or shuffled pages', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const text = pages[1]!.text;
    const lines = text.split('\n');
    for (let i = 0; i < 300; i++) {
      const variant =
        i % 3 === 0
          ? text.slice(0, Math.floor(random() * text.length))
          : i % 3 === 1
            ? [...lines].sort(() => random() - 0.5).join('\n')
            : lines.filter(() => random() > 0.2).join('\n');
      const started = Date.now();
      try {
        const page = parse(variant);
        for (const p of page.papers) expect(typeof p.title).toBe('string');
      } catch (err) {
        expect(err).toBeInstanceOf(InputError);
      }
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });
});
