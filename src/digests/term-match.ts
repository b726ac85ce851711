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

const stemCache = new Map<string, string>();
/** Cached light stem (papers repeat the same words a lot). */
export function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = lightStem(word);
    if (stemCache.size < 500_000) stemCache.set(word, s);
  }
  return s;
}

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

const porterCache = new Map<string, string>();
/** Porter stem, as SQLite's FTS5 porter tokenizer computes it. */
export function porterStem(word: string): string {
  let s = porterCache.get(word);
  if (s === undefined) {
    s = stemmer(word);
    if (porterCache.size < 500_000) porterCache.set(word, s);
  }
  return s;
}

/** Tokens with stems, for matching. */
export function analyse(text: string): Token[] {
  return tokenize(text).map((word) => ({ word, stem: stem(word), porter: porterStem(word) }));
}

/** A term from user or catalogue text ("sparse autoencoder*" → words + prefix flag). */
export function termSpec(text: string, porter = false): TermSpec | null {
  const prefix = text.trimEnd().endsWith('*');
  const words = tokenize(text);
  return words.length ? { text: text.replace(/\*$/, '').trim(), words, prefix, porter } : null;
}

function wordMatches(token: Token, word: string, prefix: boolean, porter: boolean): boolean {
  if (prefix) return token.word.startsWith(word);
  if (porter) {
    const p = porterStem(word);
    if (!BROAD_STEMS.has(p)) return token.porter === p;
  }
  return token.stem === stem(word);
}

/** Indexes of tokens where the term starts (empty when it does not occur). */
export function findTerm(tokens: Token[], term: TermSpec): number[] {
  const hits: number[] = [];
  const n = term.words.length;
  outer: for (let i = 0; i + n <= tokens.length; i++) {
    for (let j = 0; j < n; j++) {
      if (!wordMatches(tokens[i + j]!, term.words[j]!, term.prefix && j === n - 1, term.porter)) continue outer;
    }
    hits.push(i);
  }
  return hits;
}

/** The terms that occur in the tokens, and the surface words they matched (for highlighting). */
export function matchTerms(tokens: Token[], terms: TermSpec[]): { terms: string[]; words: Set<string> } {
  const matched: string[] = [];
  const seen = new Set<string>();
  const words = new Set<string>();
  for (const term of terms) {
    const hits = findTerm(tokens, term);
    const key = term.words.map(stem).join(' ');
    if (!hits.length || seen.has(key)) continue;
    seen.add(key);
    matched.push(term.text);
    for (const i of hits) for (let j = 0; j < term.words.length; j++) words.add(tokens[i + j]!.word);
  }
  return { terms: matched, words };
}
