// What a reader typed, as a retrieval query: one concept per word or phrase
// they meant, each with the spellings that count for it. The reader's own
// words weigh most; variants the corpus shows (compounds, acronyms and their
// long forms) almost as much; derivations and related words much less.
import { parseTerms } from '../papers/fts-query.js';
import type { CorpusStats } from './corpus-stats.js';
import { porterStem, singular, stem, STOPWORDS, tokenize } from './term-match.js';

/** One way a concept can appear in a paper: a word or a phrase of light stems. */
export interface Alternative {
  stems: string[];
  /** Surface text, for the why line. */
  text: string;
  kind: 'own' | 'variant' | 'acronym' | 'derived' | 'related';
  weight: number;
}

/** One thing the reader meant ("post-training", "LLM"), with its alternatives and how informative it is. */
export interface Concept {
  text: string;
  alts: Alternative[];
  idf: number;
}

/** A typed interest as concepts; a paper must cover `minShould` of their IDF mass. */
export interface Query {
  text: string;
  concepts: Concept[];
}

export const QUERY_WEIGHTS = {
  variant: 1,
  acronym: 0.9,
  /** Derivations the corpus uses together: 0.2 + 0.5 × share of the variant's papers that also use the word. */
  derivedBase: 0.2,
  derivedShare: 0.5,
  /** A word the corpus mostly writes in full ("nets" → "networks"). */
  shortened: 0.6,
  /** Derivations of a word the corpus never uses ("finetuner"). */
  derivedUnseen: 0.6,
  /** Related words: this times their normalised PMI; never enough to admit a paper alone. */
  related: 0.3,
} as const;

// Words are a collocation when the corpus writes them together in several papers and in a good share of the papers using either.
const COLLOCATION = { minPapers: 2, minShare: 0.25 } as const;

function collocation(stats: CorpusStats, a: string, b: string): boolean {
  const n = stats.bigramDf(a, b);
  return n >= COLLOCATION.minPapers && n >= COLLOCATION.minShare * Math.min(stats.df(a), stats.df(b));
}

interface Unit {
  words: string[];
  quoted: boolean;
}

/** The reader's text as units: words, hyphenated or quoted phrases, and long forms of known acronyms merged. */
function units(text: string, stats: CorpusStats): Unit[] {
  const flat: { word: string; unit: number; quoted: boolean }[] = [];
  parseTerms(text).forEach((t, u) => {
    for (const word of tokenize(t.text)) flat.push({ word, unit: u, quoted: t.phrase });
  });
  const out: Unit[] = [];
  for (let i = 0; i < flat.length; ) {
    let merged = 0;
    // A run of words that spells an acronym's long form ("large language models") is one concept.
    for (let len = Math.min(6, flat.length - i); len >= 2 && !merged; len--) {
      const span = flat.slice(i, i + len);
      if (stats.acronymFor(span.map((w) => stem(w.word)))) merged = len;
    }
    if (merged) {
      out.push({ words: flat.slice(i, i + merged).map((w) => w.word), quoted: true });
      i += merged;
      continue;
    }
    const u = flat[i]!.unit;
    let j = i;
    while (j < flat.length && flat[j]!.unit === u) j++;
    // Two typed words the corpus uses as one term ("activation functions", "anomaly detection") are one concept.
    const next = flat[j];
    const last = flat[j - 1]!.word;
    if (next && !flat[i]!.quoted && !next.quoted && !STOPWORDS.has(last) && !STOPWORDS.has(next.word) && collocation(stats, stem(last), stem(next.word))) {
      let k = j + 1;
      while (k < flat.length && flat[k]!.unit === next.unit) k++;
      out.push({ words: flat.slice(i, k).map((w) => w.word), quoted: true });
      i = k;
      continue;
    }
    out.push({ words: flat.slice(i, j).map((w) => w.word), quoted: flat[i]!.quoted });
    i = j;
  }
  // A unit of only stopwords ("about", or "don't" split at its apostrophe) says nothing about the topic.
  const topical = out.filter((u) => u.quoted || !u.words.every((w) => STOPWORDS.has(w)));
  // Nor does a stray letter ("diffusion x", the "b" of "<b>diffusion</b>"), though abstracts use
  // letters as variables often enough to make it look informative; typed alone, it is kept.
  const words = topical.filter((u) => u.quoted || u.words.length > 1 || u.words[0]!.length > 1);
  return words.length ? words : topical;
}

/** The two words the corpus writes this one as ("pretraining" → "pre training"), if it does. */
function splitCompound(word: string, stats: CorpusStats): string[] | null {
  let best: { parts: string[]; n: number } | null = null;
  for (let k = 2; k <= word.length - 3; k++) {
    const parts = [stem(word.slice(0, k)), stem(word.slice(k))];
    const n = stats.bigramDf(parts[0]!, parts[1]!);
    if (n && (!best || n > best.n)) best = { parts, n };
  }
  return best?.parts ?? null;
}

// An acronym stands for its long form only where the corpus uses it so: "SINC" defined once, but
// "sinc" is also how every "since" stems; "AD" for Alzheimer's disease, but also "ad hoc".
const ACRONYM = { minShare: 0.2, fewPapers: 2 } as const;

/** Whether the papers using an acronym mostly also write this long form (always, when only a couple use it). */
function reliableAcronym(stats: CorpusStats, acronym: string, stems: string[]): boolean {
  const n = stats.df(acronym);
  return n <= ACRONYM.fewPapers || stats.dfAll([acronym, ...stems]) >= ACRONYM.minShare * n;
}

function alternatives(words: string[], stats: CorpusStats, typed: boolean): Alternative[] {
  const stems = words.map(stem);
  const text = words.join(words.length > 1 ? '-' : '');
  const alts: Alternative[] = [{ stems, text, kind: 'own', weight: 1 }];
  const add = (a: Alternative) => {
    if (!alts.some((b) => b.stems.join(' ') === a.stems.join(' '))) alts.push(a);
  };
  if (words.length > 1) {
    // "pre-training" / "pre training" / "pretraining"
    const joined = stem(words.join(''));
    if (stats.df(joined)) add({ stems: [joined], text: words.join(''), kind: 'variant', weight: QUERY_WEIGHTS.variant });
    const acronym = stats.acronymFor(stems);
    if (acronym && reliableAcronym(stats, acronym, stems)) add({ stems: [acronym], text: acronym.toUpperCase(), kind: 'acronym', weight: QUERY_WEIGHTS.acronym });
    return alts;
  }
  const [word] = words as [string];
  const own = stems[0]!;
  for (const form of stats.longForms(own).slice(0, 2)) add({ stems: form.stems, text: form.text.toLowerCase(), kind: 'acronym', weight: QUERY_WEIGHTS.acronym });
  // A shortened word the corpus uses in full far more often ("backprop" → "backpropagation", "nets" → "networks").
  const rare = stats.df(own) <= 1;
  const forms: [string, number][] = [[word, QUERY_WEIGHTS.variant]];
  if (typed && word.length >= 4) {
    for (const full of stats.completions(singular(word))) {
      if (rare || stats.df(full) >= 10 * stats.df(own)) forms.push([full, rare ? QUERY_WEIGHTS.variant : QUERY_WEIGHTS.shortened]);
    }
  }
  for (const [form, weight] of forms) {
    if (form !== word) add({ stems: [stem(form)], text: form, kind: 'variant', weight });
    // "pretraining" → "pre training", where the corpus writes it so.
    const split = splitCompound(form, stats);
    if (split) add({ stems: split, text: form, kind: 'variant', weight });
  }
  if (word.length > 3 && !/\d/.test(word)) {
    const seen = stats.df(own) > 0;
    for (const d of stats.derivations(own, porterStem(word))) {
      const weight = seen ? QUERY_WEIGHTS.derivedBase + QUERY_WEIGHTS.derivedShare * d.together : QUERY_WEIGHTS.derivedUnseen;
      if (weight >= 0.3) add({ stems: [d.stem], text: d.stem, kind: 'derived', weight });
    }
  }
  if (typed) {
    for (const r of stats.related(own)) add({ stems: [r.stem], text: r.stem, kind: 'related', weight: QUERY_WEIGHTS.related * r.strength });
  }
  return alts;
}

/** The words as the reader wrote them ("LLM", not "llm"), where the text has them. */
function asTyped(text: string, words: string): string {
  const at = text.toLowerCase().indexOf(words);
  return at >= 0 ? text.slice(at, at + words.length) : words;
}

/** The reader's text with each word no paper uses, and one typing slip from a word papers use, read as that word ("reinforcment" → "reinforcement"). */
export function respell(text: string, stats: CorpusStats): string {
  return text.replace(/[\p{L}\p{N}]+/gu, (w) => {
    const lower = w.toLowerCase();
    return STOPWORDS.has(lower) ? w : (stats.respelt(lower) ?? w);
  });
}

/**
 * A reader's typed interest (or, with `typed: false`, a catalogue term or an excluded word: no
 * related words or completions) as a query; null when it has no words that carry meaning.
 */
export function buildQuery(text: string, stats: CorpusStats, opts: { typed?: boolean } = {}): Query | null {
  const read = (opts.typed ?? true) ? respell(text, stats) : text;
  const concepts = units(read, stats).map((u): Concept => {
    const alts = alternatives(u.words, stats, opts.typed ?? true);
    const df = Math.max(...alts.filter((a) => a.kind !== 'related' && a.kind !== 'derived').map((a) => stats.dfAll(a.stems)));
    return { text: asTyped(read, u.words.join(u.words.length > 1 && !u.quoted ? '-' : ' ')), alts, idf: stats.idf(df) };
  });
  // A word typed twice ("data pruning and data valuation") is one concept.
  const distinct = concepts.filter((c, i) => concepts.findIndex((d) => d.alts[0]!.stems.join(' ') === c.alts[0]!.stems.join(' ')) === i);
  return distinct.length ? { text, concepts: distinct } : null;
}
