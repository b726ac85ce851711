// Words as the relevance engine sees them: lowercased, diacritics folded, and
// reduced to a light stem (plural, -ed, -ing) so "denoising" meets "denoised";
// derivations ("optimizer" / "optimization") stay apart here and are joined
// only where the corpus shows they go together (see corpus-stats.ts).
import { stemmer } from 'stemmer';
import { foldDiacritics } from '../papers/text-normalise.js';

/** Words that carry no topic of their own: function words and the way people phrase a request. */
export const STOPWORDS = new Set(
  (
    'a an the of to in on for and or with without by from at as is are be been being was were via into vs versus than then that this these those it its ' +
    'i me my we our you your they them their he she his her do does did doing done can could would should will shall may might must ' +
    'about what which who whom whose how why when where there here any anyone anything some such more most less few many much very ' +
    'not no nor so too just also only other others own same both each all again further once out up down off over under ' +
    'like get make making made use using used want wants interested interest papers paper research researchers work works ' +
    'stuff things thing something new latest recent better good lots kind kinds sort type types e g eg etc ie ' +
    'actually really basically anyone someone everyone anybody doing don t s re ve ll d isn aren doesn didn won ' +
    'even still quite rather well way ways matter matters help helps whether every since yet though although'
  ).split(/\s+/),
);

/** Function words inside a phrase ("to" of "text-to-image"): never highlighted on their own. */
export const FUNCTION_WORDS = new Set(['a', 'an', 'the', 'of', 'to', 'in', 'on', 'for', 'and', 'or', 'with', 'by', 'from', 'at', 'as', 'is', 'are', 'be', 'via', 'into', 'vs']);

/** The word without a plural ending: "optimizers" → "optimizer", "studies" → "study". */
export function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(ches|shes|sses|xes|zes)$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

const undouble = (w: string) => (/([b-df-hj-np-tv-z])\1$/.test(w) && !/(ll|ss|zz)$/.test(w) ? w.slice(0, -1) : w);

// British and American spellings are one word to a reader ("optimisation", "modelling").
const spelling = (w: string) => w.replace(/is(e|ed|es|ing|ation|ations|er|ers)$/, 'iz$1').replace(/(?<=[aeiou][a-z])ll(ing|ed|er)$/, 'l$1').replace(/our$/, 'or');

/**
 * Light stem: spelling unified, plural, -ed and -ing removed, and a final e
 * ("denoising", "denoised", "denoises" → "denois"), but derivations kept
 * apart ("optimizer" ≠ "optimization" ≠ "optimal").
 */
export function lightStem(word: string): string {
  let w = singular(word.length > 5 ? spelling(word) : word);
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

/** Porter stem (derivations together: "classifier", "classification" → "classif"). */
export const porterStem = memoWords((w) => stemmer(lightStem(w)));

/** Splits text into words (letters and digits; diacritics removed), as FTS5's unicode61 tokenizer does. */
export function tokenize(text: string): string[] {
  return (
    foldDiacritics(text)
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}
