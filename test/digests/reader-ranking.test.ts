import { afterAll, describe, expect, it } from 'vitest';
import { createCandidateIndex } from '../../src/digests/candidate-index.js';
import { buildDigest } from '../../src/digests/digest-builder.js';
import { authorKey, nearestEach, paperVector, type Vector } from '../../src/digests/reader-model.js';
import { createSignalLoader } from '../../src/digests/reader-signals.js';
import { upsertPapers } from '../../src/papers/paper-repo.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { Preferences } from '../../src/subscribers/subscription-input.js';
import { insertSubscriber } from '../../src/subscribers/subscriber-repo.js';
import { tempDatabase } from '../helpers.js';

const NOW = new Date('2025-12-31T00:00:00Z');
const db = await tempDatabase();
await loadSampleIfEmpty(db, new Date('2025-12-30T00:00:00Z'));
afterAll(() => db.cleanup());

/** The plain definition: a merge of two sorted sparse unit vectors, summing shared words' products in ascending id. */
function cosine(a: Vector, b: Vector): number {
  let dot = 0;
  for (let i = 0, j = 0; i < a.ids.length && j < b.ids.length; ) {
    if (a.ids[i] === b.ids[j]) dot += a.w[i++]! * b.w[j++]!;
    else if (a.ids[i]! < b.ids[j]!) i++;
    else j++;
  }
  return dot;
}

const paper = (arxivId: string, title: string, authors: string[] = [], abstract = 'We study something else entirely.') => ({
  arxivId, title, abstract, authors, authorCount: authors.length || null, organization: null, publishedAt: null, listedOn: null,
  upvotes: 0, comments: 0, keywords: [], urls: { page: null, abs: null, pdf: null, code: null }, source: 'test',
});
let n = 0;
/** A reader's digest over every stored paper, with their stored seeds and authors loaded as a run loads them. */
async function digestOf(prefs: Record<string, unknown>, since = '0000') {
  const s = await insertSubscriber(db, `reader${++n}@example.org`, 'active', Preferences.parse(prefs), NOW.toISOString());
  const index = await createCandidateIndex(db, since, NOW);
  const signals = (await createSignalLoader(db, index.stats).load([s])).get(s.id);
  return buildDigest(index, s, { since, now: NOW, limit: 10, alreadySent: () => false, signals });
}

describe('per-reader signals', async () => {
  it('finds each candidate\'s nearest rated paper and its cosine exactly as pairwise cosines do', async () => {
    const index = await createCandidateIndex(db, '0000', NOW);
    const rows = await db.all<{ title: string; abstract: string }>('SELECT title, abstract FROM papers ORDER BY pk');
    const vs = rows.map((r) => paperVector(r, index.stats));
    const rated = vs.slice(0, 7).map((vector) => ({ vector }));
    const { at, sim } = nearestEach(vs, rated);
    vs.forEach((v, k) => {
      const sims = rated.map((r) => cosine(v, r.vector));
      const best = sims.indexOf(Math.max(...sims));
      expect(at[k]).toBe(best);
      expect(sim[k]).toBe(sims[best]); // the same sums in the same order: equal to the last bit
    });
    expect(nearestEach(vs, []).at.every((x) => x === -1)).toBe(true);
  });

  it('leaves the digest exactly as the interests give it while the reader has told us nothing', async () => {
    const index = await createCandidateIndex(db, '0000', NOW);
    const sub = { topics: [], keywords: ['diffusion models'], exclude: [] };
    const req = { since: '0000', now: NOW, limit: 10, alreadySent: () => false };
    expect(buildDigest(index, sub, { ...req, signals: { liked: [], disliked: [], seeds: [], authors: [] } })).toEqual(buildDigest(index, sub, req));
  });

  it('matches new papers similar to a seed paper, explains it, and never sends the seed itself', async () => {
    const seed = 'Transformers learn in-context by gradient descent';
    const items = await digestOf({ seeds: [seed] });
    expect(items.length).toBeGreaterThan(0);
    expect(items.some((i) => i.title === seed)).toBe(false);
    expect(items[0]!.why).toMatch(/^Similar to ‘Transformers learn in-context by gradient descent’ that you follow/);
    expect(items.some((i) => /in-context/i.test(i.title))).toBe(true);
  });

  it('once a reader disliked something, keeps strong matches and leaves out weak ones unless they look like what the reader liked', async () => {
    const index = await createCandidateIndex(db, '0000', NOW);
    const sub = { topics: [], keywords: ['federated learning'], exclude: [] };
    const req = { since: '0000', now: NOW, limit: 25, alreadySent: () => false };
    const vectorOf = (title: string, abstract: string) => ({ title, vector: paperVector({ title, abstract }, index.stats) });
    const unrelated = vectorOf('Soil chemistry of alpine meadows', 'Nitrogen and phosphorus in mountain soils across seasons.');
    const before = buildDigest(index, sub, req);
    const after = buildDigest(index, sub, { ...req, signals: { liked: [], disliked: [unrelated], seeds: [], authors: [] } });
    expect(after.every((i) => before.some((b) => b.pk === i.pk))).toBe(true);
    expect(after[0]!.pk).toBe(before[0]!.pk);
    const left = before.filter((b) => !after.some((i) => i.pk === b.pk));
    expect(left.length).toBeGreaterThan(0);
    // A weak match left out comes back once the reader liked a paper like it.
    const weak = (await db.get<{ title: string; abstract: string }>('SELECT title, abstract FROM papers WHERE pk = ?', [left[0]!.pk]))!;
    const liked = buildDigest(index, sub, { ...req, signals: { liked: [vectorOf(weak.title, weak.abstract)], disliked: [unrelated], seeds: [], authors: [] } });
    expect(liked.some((i) => i.pk === left[0]!.pk)).toBe(true);
  });

  it('counts a seed the reader follows as liked: a dislike elsewhere does not take away papers like it', async () => {
    const index = await createCandidateIndex(db, '0000', NOW);
    // A seed whose nearest papers are only a little like it (cosines 0.15–0.2): weak matches by relevance.
    const seedRow = (await db.get<{ pk: number; title: string; abstract: string }>("SELECT pk, title, abstract FROM papers WHERE title LIKE 'SVD-Free Low-Rank Adaptive Gradient Optimization%'"))!;
    const seed = { pk: seedRow.pk, title: seedRow.title, vector: paperVector(seedRow, index.stats) };
    const unrelated = { title: 'Soil chemistry of alpine meadows', vector: paperVector({ title: 'Soil chemistry of alpine meadows', abstract: 'Nitrogen and phosphorus in mountain soils across seasons.' }, index.stats) };
    const sub = { topics: [], keywords: [], exclude: [] };
    const req = { since: '0000', now: NOW, limit: 10, alreadySent: () => false };
    const seeded = buildDigest(index, sub, { ...req, signals: { liked: [], disliked: [], seeds: [seed], authors: [] } });
    expect(seeded.length).toBeGreaterThan(1);
    const withDislike = buildDigest(index, sub, { ...req, signals: { liked: [], disliked: [unrelated], seeds: [seed], authors: [] } });
    expect(withDislike.map((i) => i.pk)).toEqual(seeded.map((i) => i.pk));
  });

  it('accepts a seed id nobody has seen yet and uses it once the paper arrives', async () => {
    expect(await digestOf({ seeds: ['https://arxiv.org/abs/2612.00001v2'] })).toEqual([]);
    await upsertPapers(db, [paper('2612.00001', 'Denoising diffusion models for image classification and generation', [], 'Diffusion models trained as classifiers beat GANs on image classification benchmarks.')], '2025-12-30T12:00:00.000Z');
    const items = await digestOf({ seeds: ['arXiv:2612.00001'] });
    expect(items.length).toBeGreaterThan(0);
    expect(items[0]!.why).toMatch(/that you follow/);
  });

  it('includes a followed author\'s new paper whatever its topic, matching initials and diacritics', async () => {
    expect(authorKey('Y. LeCun')).toBe(authorKey('Yann LeCun'));
    expect(authorKey('José Müller')).toBe(authorKey('J. Muller'));
    expect(authorKey('Ada Lovelace')).not.toBe(authorKey('Alan Turing'));
    await upsertPapers(db, [paper('2612.00002', 'A paper about soil chemistry', ['José Müller', 'B. Other'])], '2025-12-30T12:00:00.000Z');
    const items = await digestOf({ keywords: ['diffusion models'], authors: ['J. Muller'] });
    const hit = items.find((i) => i.id === '2612.00002');
    expect(hit?.why).toBe('By J. Muller, whom you follow');
  });
});
