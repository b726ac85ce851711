import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCandidateIndex } from '../../src/digests/candidate-index.js';
import { buildDigest } from '../../src/digests/digest-builder.js';
import { keywordInterest, topicForKeyword } from '../../src/digests/interests.js';
import { evaluateLabels, type Label } from '../../src/digests/relevance-eval.js';
import { analyse, findTerm, lightStem, termSpec } from '../../src/digests/term-match.js';
import { upsertPapers } from '../../src/papers/paper-repo.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { FIXTURES, tempDatabase } from '../helpers.js';

const NOW = new Date('2025-12-31T00:00:00Z');
const db = tempDatabase();
loadSampleIfEmpty(db, new Date('2025-12-30T00:00:00Z'));
afterAll(() => db.cleanup());
const digest = (sub: { topics?: string[]; keywords?: string[]; exclude?: string[] }, limit = 50) =>
  buildDigest(createCandidateIndex(db, '0000', NOW), { topics: [], keywords: [], exclude: [], ...sub }, { since: '0000', now: NOW, limit, alreadySent: () => false });

describe('matching typed keywords', () => {
  it('keeps derivations apart that porter stemming merges', () => {
    const optimizers = termSpec('optimizers', true)!;
    expect(findTerm(analyse('We compare optimizers such as Adam'), optimizers)).toHaveLength(1);
    expect(findTerm(analyse('an optimizer'), optimizers)).toHaveLength(1);
    expect(findTerm(analyse('we optimize the optimal objective of optimization'), optimizers)).toHaveLength(0);
    expect(findTerm(analyse('quantized weights'), termSpec('quantization', true)!)).toHaveLength(1);
    expect(lightStem('denoising')).toBe(lightStem('denoised'));
  });

  it('lets a keyword that names a topic borrow its query: "interpretability" finds saliency and feature attribution', () => {
    expect(topicForKeyword('Interpretability')?.slug).toBe('interpretability');
    expect(topicForKeyword('optimizer')?.slug).toBe('optimizers');
    expect(topicForKeyword('quantization')).toBeUndefined();
    const titles = digest({ keywords: ['interpretability'] }).map((i) => i.title);
    expect(titles).toContain('There and Back Again: Revisiting Backpropagation Saliency Methods');
    expect(titles.some((t) => t.startsWith('ReAGent: Towards A Model-agnostic Feature Attribution'))).toBe(true);
  });

  it('does not send every paper that merely optimises something to a reader of "optimizers"', () => {
    const titles = digest({ keywords: ['optimizers'] }).map((i) => i.title);
    expect(titles).toContain('8-bit Optimizers via Block-wise Quantization');
    expect(titles).not.toContain('An Integrated Optimization and Machine Learning Models to Predict the Admission Status of Emergency Patients');
    expect(titles).not.toContain('Bilevel Optimization under Unbounded Smoothness: A New Algorithm and Convergence Analysis');
  });

  it('turns any user text into safe FTS5 syntax', () => {
    for (const k of ['"unbalanced', 'NEAR(a b', 'title:x', 'a* OR', '^^^', "it's", 'C++', '(((', '"a" "b"']) {
      expect(() => digest({ keywords: [k] })).not.toThrow();
    }
    expect(keywordInterest('***')).toBeNull();
  });

  it('removes papers matching an excluded keyword', () => {
    const all = digest({ topics: ['interpretability'] });
    const without = digest({ topics: ['interpretability'], exclude: ['medical', 'clinical', 'disease', 'suicidal'] });
    expect(all.some((i) => i.title.includes('Alzheimer'))).toBe(true);
    expect(without.some((i) => i.title.includes('Alzheimer'))).toBe(false);
    expect(without.length).toBeLessThan(all.length);
  });

  it('explains each pick with the interest and the matched terms', () => {
    const [first] = digest({ topics: ['diffusion-models'] });
    expect(first!.why).toMatch(/^Matches Diffusion & flow models: /);
    expect(first!.words.length).toBeGreaterThan(0);
  });

  it('caps the digest and ranks best first', () => {
    const items = digest({ topics: ['diffusion-models'], keywords: ['in-context learning'] }, 5);
    expect(items).toHaveLength(5);
    for (let i = 1; i < items.length; i++) expect(items[i - 1]!.score).toBeGreaterThanOrEqual(items[i]!.score);
  });
});

describe('quality on the labelled corpus', () => {
  const { labels } = JSON.parse(readFileSync(join(FIXTURES, 'relevance-labels.json'), 'utf8')) as { labels: Label[] };

  it('has at least a dozen labelled interests', () => {
    expect(labels.length).toBeGreaterThanOrEqual(12);
  });

  // The figures in the README; this guards them against regressions.
  it('keeps precision and recall of what would be sent above 75%', () => {
    const scores = evaluateLabels(db, labels, 50, NOW);
    const sum = (f: (s: (typeof scores)[number]) => number) => scores.reduce((a, s) => a + f(s), 0);
    expect(sum((s) => s.hits) / sum((s) => s.sent)).toBeGreaterThanOrEqual(0.75);
    expect(sum((s) => s.hits) / sum((s) => s.relevant)).toBeGreaterThanOrEqual(0.75);
  });
});

describe('the recent slice', () => {
  it('only considers papers first seen after the window start', () => {
    const local = tempDatabase();
    try {
      const paper = (id: string, title: string) => ({ arxivId: id, title, abstract: 'Diffusion models for images.', authors: [], authorCount: null, organization: null, publishedAt: null, listedOn: null, upvotes: 0, comments: 0, keywords: [], urls: { page: null, abs: null, pdf: null, code: null }, source: 't' });
      upsertPapers(local, [paper('2401.00001', 'Old diffusion models')], '2025-01-01T00:00:00.000Z');
      upsertPapers(local, [paper('2401.00002', 'New diffusion models')], '2025-02-01T00:00:00.000Z');
      const index = createCandidateIndex(local, '2025-01-15T00:00:00.000Z', NOW);
      const items = buildDigest(index, { topics: ['diffusion-models'], keywords: [], exclude: [] }, { since: '2025-01-15T00:00:00.000Z', now: NOW, limit: 10, alreadySent: () => false });
      expect(items.map((i) => i.id)).toEqual(['2401.00002']);
    } finally {
      local.cleanup();
    }
  });
});
