// Term matching in plain TypeScript, the source of truth for "did this paper
// match, and on which words". FTS5 (porter stemming) finds candidates and
// scores them; this decides, explains and highlights.
//
import { stemmer } from 'stemmer';

// Porter stemming (what FTS5 uses) conflates families a reader keeps apart:
// "optimizers", "optimal" and "optimization" all become "optim";
// "explainability" and "explains" become "explain". So FTS5 only proposes
// candidates, and here a word matches
//  - for a typed keyword: any word with the same porter stem ("quantization"
//    finds "quantized"), unless that stem is one of the broad ones below;
//  - otherwise (catalogue terms, broad stems): its own inflections only
//    (plural, -ed, -ing), since catalogue terms list their variants.

export const BROAD_STEMS = new Set([
  'optim', 'gener', 'transform', 'interpret', 'explain', 'adapt', 'model', 'learn', 'train', 'comput', 'network',
  'process', 'represent', 'perform', 'activ', 'condit', 'attent', 'predict', 'evalu', 'inform', 'differ', 'object',
  'design', 'control', 'continu', 'effici', 'effect', 'improv', 'reason', 'align', 'robust', 'rank', 'attribut',
  'medic', 'probabl', 'structur', 'complex', 'special', 'organ', 'natur', 'nation', 'posit', 'relat', 'select',
]);

/** Words inside phrases that carry no topic of their own. */
export const FUNCTION_WORDS = new Set(['a', 'an', 'the', 'of', 'to', 'in', 'on', 'for', 'and', 'or', 'with', 'by', 'from', 'at', 'as', 'is', 'are', 'be', 'via', 'into', 'vs']);

/** One word of a paper, lowercased, with its light and porter stems. */
export interface Token {
  word: string;
  stem: string;
  porter: string;
}

/** A word or phrase to look for; `prefix` lets the last word match any ending, `porter` allows stem matches. */
export interface TermSpec {
  text: string;
  words: string[];
  prefix: boolean;
  porter: boolean;
  /** Per word, what a token must equal: [field of Token, value] (precomputed). */
  keys: { field: 'word' | 'stem' | 'porter'; value: string }[];
}

/** The word without a plural ending: "optimizers" → "optimizer", "studies" → "study". */
export function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(ches|shes|sses|xes|zes)$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

const undouble = (w: string) => (/([b-df-hj-np-tv-z])\1$/.test(w) && !/(ll|ss|zz)$/.test(w) ? w.slice(0, -1) : w);

/**
 * Light stem: plural, -ed and -ing removed, and a final e ("denoising",
 * "denoised", "denoises" → "denois"), but derivations kept apart
 * ("optimizer" ≠ "optimization" ≠ "optimal").
 */
export function lightStem(word: string): string {
  let w = singular(word);
  if (w.length > 5 && w.endsWith('ing')) w = undouble(w.slice(0, -3));
  else if (w.length > 4 && w.endsWith('ed') && !w.endsWith('eed')) w = undouble(w.slice(0, -2));
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

/** Remembers a word function's answers (papers repeat the same words a lot), up to a bound. */
function memoWords(fn: (word: string) => string): (word: string) => string {
  const cache = new Map<string, string>();
  return (word) => {
    let s = cache.get(word);
    if (s === undefined) {
      s = fn(word);
      if (cache.size < 500_000) cache.set(word, s);
    }
    return s;
  };
}

/** Cached light stem. */
export const stem = memoWords(lightStem);

/** Porter stem, as SQLite's FTS5 porter tokenizer computes it. */
export const porterStem = memoWords(stemmer);

/** Splits text the way FTS5's unicode61 tokenizer does (letters and digits; diacritics removed). */
export function tokenize(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** Tokens with stems, for matching. */
export function analyse(text: string): Token[] {
  return tokenize(text).map((word) => ({ word, stem: stem(word), porter: porterStem(word) }));
}

/** A term from user or catalogue text ("sparse autoencoder*" → words + prefix flag). */
export function termSpec(text: string, porter = false): TermSpec | null {
  const prefix = text.trimEnd().endsWith('*');
  const words = tokenize(text);
  if (!words.length) return null;
  const keys = words.map((w, j) => {
    if (prefix && j === words.length - 1) return { field: 'word' as const, value: w };
    const p = porterStem(w);
    return porter && !BROAD_STEMS.has(p) ? { field: 'porter' as const, value: p } : { field: 'stem' as const, value: stem(w) };
  });
  return { text: text.replace(/\*$/, '').trim(), words, prefix, porter, keys };
}

function wordMatches(token: Token, key: TermSpec['keys'][number]): boolean {
  return key.field === 'word' ? token.word.startsWith(key.value) : token[key.field] === key.value;
}

/** Indexes of tokens where the term starts (empty when it does not occur). */
export function findTerm(tokens: Token[], term: TermSpec): number[] {
  const hits: number[] = [];
  const n = term.words.length;
  outer: for (let i = 0; i + n <= tokens.length; i++) {
    for (let j = 0; j < n; j++) {
      if (!wordMatches(tokens[i + j]!, term.keys[j]!)) continue outer;
    }
    hits.push(i);
  }
  return hits;
}
