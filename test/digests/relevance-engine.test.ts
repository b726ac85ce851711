// The relevance engine's mechanisms on small, hand-made inputs (the labelled-set floor is in matching.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { corpusStats, createCandidateIndex } from '../../src/digests/candidate-index.js';
import { buildCorpusStats, oneEdit } from '../../src/digests/corpus-stats.js';
import { buildDigest } from '../../src/digests/digest-builder.js';
import { buildQuery } from '../../src/digests/interest-query.js';
import { admit, type Scored } from '../../src/digests/rank.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { tempDatabase } from '../helpers.js';

const NOW = new Date('2025-12-31T00:00:00Z');
const db = await tempDatabase();
await loadSampleIfEmpty(db, new Date('2025-12-30T00:00:00Z'));
afterAll(() => db.cleanup());
const sampleStats = await corpusStats(db);
// A fresh index (and fresh per-run caches) for every digest, so no keyword's answer is another's cached one.
const digest = async (keyword: string) =>
  buildDigest(await createCandidateIndex(db, '0000', NOW), { topics: [], keywords: [keyword], exclude: [] }, { since: '0000', now: NOW, limit: 25, alreadySent: () => false });

describe('related words learned from the corpus', () => {
  // 40 papers: "quokka" goes with "wombat" and with the filler word "been" in the same five papers.
  const texts = Array.from({ length: 40 }, (_, i) =>
    i < 5 ? { title: `Quokka wombat study ${i}`, abstract: 'It has been shown that quokka and wombat coexist.' } : { title: `Filler paper ${i}`, abstract: `Topic number ${i} about something else entirely, item${i}.` },
  );
  const stats = buildCorpusStats(texts);

  it('when a word goes with a topic word and with a function word, then only the topic word is related', () => {
    const related = stats.related('quokka').map((r) => r.stem);
    expect(related).toContain('wombat');
    expect(related).not.toContain('been');
    expect(related).not.toContain('it');
  });

  it('when a pair is seen in few papers, then it is related more weakly than the same share seen in many', () => {
    const few = buildCorpusStats([...texts.slice(0, 3), ...texts.slice(5)]).related('quokka').find((r) => r.stem === 'wombat');
    const many = stats.related('quokka').find((r) => r.stem === 'wombat');
    expect(few && many && few.strength < many.strength).toBe(true);
  });
});

describe('a sentence is never left empty while papers carry half its words', () => {
  const hit = (pk: number, rel: number, coverage: number, matched: number, unseen = 0): Scored => ({ pk, rel, coverage, concepts: 4, matched, unseen });

  it('when no paper covers enough of a four-concept sentence, then its best two papers with two of the words still go', () => {
    const hits = [hit(1, 0.31, 0.39, 2), hit(2, 0.28, 0.3, 2), hit(3, 0.25, 0.3, 2), hit(4, 0.4, 0.37, 1)];
    expect(admit(hits, 181, { catalogue: false }).map((h) => h.pk)).toEqual([1, 2]);
  });

  it('when the reader typed a word no paper uses, then nothing goes (the corpus has nothing on it)', () => {
    const hits = [hit(1, 0.41, 0.4, 2, 1), hit(2, 0.3, 0.3, 2, 1)];
    expect(admit(hits, 181, { catalogue: false })).toEqual([]);
  });

  it('on the sample corpus: "why don\'t huge overparameterized networks overfit" gets papers, "anyone doing AI music generation?" none', async () => {
    expect((await digest("why don't huge overparameterized networks overfit")).length).toBeGreaterThan(0);
    expect(await digest('anyone doing AI music generation?')).toEqual([]);
  });
});

describe('acronyms stand for their long form only where the corpus uses them so', () => {
  const acronyms = (text: string) => buildQuery(text, sampleStats)!.concepts.flatMap((c) => c.alts.filter((a) => a.kind === 'acronym').map((a) => a.stems.join(' ')));

  it('when an acronym is defined once but its letters are a common word ("SINC" / "since", "AD" / "ad hoc"), then the long form does not search for it', () => {
    expect(acronyms('self-supervised in-context learning')).not.toContain('sinc');
    expect(acronyms("Alzheimer's disease")).not.toContain('ad');
  });

  it('when papers using the acronym mostly write its long form too ("LLM", "RL"), then it still does', () => {
    expect(acronyms('large language models')).toContain('llm');
    expect(acronyms('reinforcement learning')).toContain('rl');
  });
});

describe('a typing slip in a word no paper uses', () => {
  it('tells one edit (inserted, dropped, changed or swapped letter) from more', () => {
    expect([oneEdit('reinforcment', 'reinforcement'), oneEdit('tranformer', 'transformer'), oneEdit('optimzier', 'optimizer'), oneEdit('causal', 'casual')]).toEqual([true, true, true, true]);
    expect([oneEdit('music', 'basic'), oneEdit('university', 'universal'), oneEdit('abc', 'abc')]).toEqual([false, false, false]);
  });

  it('when a reader types "reinforcment learning" or "tranformers", then they get the papers on reinforcement learning and transformers', async () => {
    const titlesOf = async (k: string) => (await digest(k)).map((i) => i.title);
    expect(await titlesOf('reinforcment learning')).toEqual(await titlesOf('reinforcement learning'));
    expect((await titlesOf('reinforcment learning')).length).toBeGreaterThan(0);
    expect((await titlesOf('tranformers')).length).toBeGreaterThan(0);
    const transformers = await titlesOf('transformers');
    expect((await titlesOf('tranformers')).every((t) => transformers.includes(t))).toBe(true);
  });

  it('when the word is far from any the corpus uses ("music"), then nothing stands in for it', async () => {
    expect(await digest('anyone doing AI music generation?')).toEqual([]);
  });
});
