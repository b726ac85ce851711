// Vocabulary learned from Paperboy's own corpus: how common each word is
// (IDF), which words appear together (related terms), which derivations of a
// word the corpus uses together ("classifier" / "classification"), compound
// spellings ("pretraining" / "pre-training"), and acronyms with the long forms
// papers define them by ("large language models (LLMs)").
import { porterStem, stem, STOPWORDS, tokenize } from './term-match.js';

/** A paper's text as the vocabulary needs it. */
export interface CorpusText {
  title: string;
  abstract: string;
  keywords?: string[];
}

/** A word learned to go with another, and how strongly (normalised PMI in (0, 1]). */
export interface Related {
  stem: string;
  strength: number;
}

/** An acronym's long form: its words' stems and how it was written. */
export interface LongForm {
  stems: string[];
  text: string;
}

// Related terms need this much evidence: a pair seen in one or two papers is chance.
const RELATED = { minPair: 3, minStrength: 0.3, max: 6, sample: 200, shrink: 2 } as const;

// A word the corpus never uses may be a slip ("reinforcment"): long enough that one edit is not another word.
const SPELLING = { minLength: 6, minPapers: 2 } as const;

/** Whether two words differ by one letter inserted, dropped, changed, or two neighbours swapped. */
export function oneEdit(a: string, b: string): boolean {
  if (a === b) return false;
  if (a.length > b.length) [a, b] = [b, a];
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
  return b.length === a.length + 1 && a.slice(i) === b.slice(i + 1);
}

/** Corpus statistics over a set of papers (built once per run from the newest papers). */
export function buildCorpusStats(texts: CorpusText[]) {
  const ids = new Map<string, number>();
  const names: string[] = [];
  const postings: number[][] = [];
  // How each word (light stem) was first written, for reading a typing slip back as a word.
  const spelled: string[] = [];
  const respelled = new Map<string, string | null>();
  // Adjacent word pairs by id (a × 2²² + b): numbers, not strings, so a large corpus stays small in memory.
  const bigrams = new Map<number, number>();
  const pairKey = (a: number, b: number) => a * 4_194_304 + b;
  const porterGroups = new Map<string, Set<string>>();
  const longForms = new Map<string, Map<string, { form: LongForm; count: number }>>();
  let totalLength = 0;

  const idOf = (s: string) => {
    let id = ids.get(s);
    if (id === undefined) {
      id = names.length;
      ids.set(s, id);
      names.push(s);
      postings.push([]);
    }
    return id;
  };

  // Each paper's distinct words (ids), for counting what appears with what.
  const docWords: Uint32Array[] = [];
  texts.forEach((t, doc) => {
    const text = `${t.title}\n${t.abstract}\n${(t.keywords ?? []).join('\n')}`;
    const words = tokenize(text);
    totalLength += words.length;
    const seenBigrams = new Set<number>();
    const distinct: number[] = [];
    words.forEach((w, i) => {
      const s = stem(w);
      const id = idOf(s);
      spelled[id] ??= w;
      const list = postings[id]!;
      if (list[list.length - 1] !== doc) {
        list.push(doc);
        distinct.push(id);
      }
      const p = porterStem(w);
      let group = porterGroups.get(p);
      if (!group) porterGroups.set(p, (group = new Set()));
      group.add(s);
      if (i + 1 < words.length) seenBigrams.add(pairKey(id, idOf(stem(words[i + 1]!))));
    });
    docWords.push(Uint32Array.from(distinct));
    for (const b of seenBigrams) bigrams.set(b, (bigrams.get(b) ?? 0) + 1);
    for (const [acronym, form] of acronymDefinitions(`${t.title}. ${t.abstract}`)) {
      let forms = longForms.get(acronym);
      if (!forms) longForms.set(acronym, (forms = new Map()));
      const key = form.stems.join(' ');
      const known = forms.get(key);
      if (known) known.count++;
      else forms.set(key, { form, count: 1 });
    }
  });

  const n = texts.length;
  const relatedCache = new Map<string, Related[]>();
  let sortedNames: string[] | undefined;
  const byLongForm = new Map<string, string>();
  for (const [acronym, forms] of longForms) for (const key of forms.keys()) if (!byLongForm.has(key)) byLongForm.set(key, acronym);

  const docsOf = (s: string) => {
    const id = ids.get(s);
    return id === undefined ? [] : postings[id]!;
  };
  const df = (s: string) => docsOf(s).length;

  return {
    size: n,
    avgLength: n ? totalLength / n : 1,

    /** Papers containing the word (by light stem). */
    df,

    /** A number for the word (light stem), for compact vectors; a word the corpus has not seen gets one too. */
    termId: idOf,

    /** Papers containing all of these words (an upper bound for a phrase's document frequency). */
    dfAll(stems: string[]): number {
      if (stems.length === 1) return df(stems[0]!);
      const lists = stems.map(docsOf).sort((a, b) => a.length - b.length);
      let common = new Set(lists[0]);
      for (const l of lists.slice(1)) {
        const next = new Set<number>();
        for (const d of l) if (common.has(d)) next.add(d);
        common = next;
      }
      return common.size;
    },

    /** BM25 inverse document frequency of a number of papers. */
    idf(docFreq: number): number {
      return Math.log(1 + (n - docFreq + 0.5) / (docFreq + 0.5));
    },

    /** Papers where the two words stand next to each other. */
    bigramDf(a: string, b: string): number {
      const [x, y] = [ids.get(a), ids.get(b)];
      return x === undefined || y === undefined ? 0 : (bigrams.get(pairKey(x, y)) ?? 0);
    },

    /** Other light stems sharing the word's porter stem, with the share of their papers that also use the word. */
    derivations(s: string, porter: string): { stem: string; together: number }[] {
      const mine = new Set(docsOf(s));
      return [...(porterGroups.get(porter) ?? [])]
        .filter((o) => o !== s)
        .map((o) => {
          const theirs = docsOf(o);
          const both = theirs.reduce((k, d) => k + (mine.has(d) ? 1 : 0), 0);
          return { stem: o, together: theirs.length ? both / theirs.length : 0 };
        });
    },

    /** The word (light stem) most used in the corpus that starts with this one and is longer by 3+ letters, in 2+ papers. */
    completions(prefix: string): string[] {
      const sorted = (sortedNames ??= [...names].sort());
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid]! < prefix) lo = mid + 1;
        else hi = mid;
      }
      let best: string | null = null;
      for (let i = lo; i < sorted.length && sorted[i]!.startsWith(prefix); i++) {
        const s = sorted[i]!;
        if (s.length > prefix.length + 2 && df(s) >= 2 && (!best || df(s) > df(best))) best = s;
      }
      return best ? [best] : [];
    },

    /** For a word no paper uses, the word one typing slip away that the corpus uses most (in 2+ papers), as papers write it. */
    respelt(word: string): string | null {
      const s = stem(word);
      if (word.length < SPELLING.minLength || df(s) || /\d/.test(word)) return null;
      // A scan of the whole vocabulary: remembered, since a keyword is read for its query and again for a topic.
      const known = respelled.get(s);
      if (known !== undefined) return known;
      let best = -1;
      names.forEach((name, id) => {
        if (Math.abs(name.length - s.length) > 1 || name[0] !== s[0]) return;
        if (postings[id]!.length >= SPELLING.minPapers && oneEdit(s, name) && (best < 0 || postings[id]!.length > postings[best]!.length)) best = id;
      });
      const out = best < 0 ? null : (spelled[best] ?? null);
      respelled.set(s, out);
      return out;
    },

    /** Long forms the corpus defines for an acronym (by its singular stem), most frequent first. */
    longForms(acronym: string): LongForm[] {
      const forms = longForms.get(acronym);
      return forms ? [...forms.values()].sort((a, b) => b.count - a.count).map((f) => f.form) : [];
    },

    /** The acronym whose long form these stems spell, if the corpus defines one. */
    acronymFor: (stems: string[]) => byLongForm.get(stems.join(' ')),

    /** Words that appear with this one far more often than chance, strongest first. */
    related(s: string): Related[] {
      let out = relatedCache.get(s);
      if (out) return out;
      out = [];
      const mine = docsOf(s);
      if (mine.length >= RELATED.minPair && mine.length < n / 4) {
        // Count co-occurrences over the word's own papers only: cheap even for a large vocabulary.
        // A common word's papers are sampled: co-occurrence shares are estimated as well from a few hundred.
        const sample = mine.length > RELATED.sample ? mine.filter((_, i) => i % Math.ceil(mine.length / RELATED.sample) === 0) : mine;
        const scale = mine.length / sample.length;
        const counts = new Map<number, number>();
        for (const d of sample) for (const id of docWords[d]!) counts.set(id, (counts.get(id) ?? 0) + 1);
        for (const [id, sampled] of counts) {
          const both = sampled * scale;
          const theirs = postings[id]!.length;
          const name = names[id]!;
          if (both < RELATED.minPair || theirs > n / 4 || name === s || STOPWORDS.has(name) || name.length < 3 || /^\d+$/.test(name)) continue;
          const pmi = Math.log((both * n) / (mine.length * theirs));
          const strength = (pmi / -Math.log(both / n)) * (both / (both + RELATED.shrink));
          if (strength >= RELATED.minStrength) out.push({ stem: names[id]!, strength });
        }
        out.sort((a, b) => b.strength - a.strength);
        out = out.slice(0, RELATED.max);
      }
      relatedCache.set(s, out);
      return out;
    },
  };
}
export type CorpusStats = ReturnType<typeof buildCorpusStats>;

/**
 * Acronyms defined in a text as "long form (ACRONYM)", e.g. "large language
 * models (LLMs)", "Low-Rank Adaptation (LoRA)". The acronym's letters are
 * found, last to first, at word starts or inside words of the preceding text
 * (Schwartz & Hearst's rule: its first letter starts the long form's first word).
 */
export function acronymDefinitions(text: string): [string, LongForm][] {
  const out: [string, LongForm][] = [];
  for (const m of text.matchAll(/\(([A-Za-z][A-Za-z0-9-]{1,9})\)/g)) {
    const raw = m[1]!.replace(/-/g, '');
    const letters = raw.replace(/s$/, '').toLowerCase();
    if (letters.length < 2 || !/[A-Z].*[A-Z]/.test(raw) || letters.length > 8) continue;
    const before = text.slice(Math.max(0, m.index! - 120), m.index!).replace(/\s+$/, '');
    const words = before.split(/\s+/);
    const form = longFormFor(letters, words.slice(-Math.min(letters.length + 5, letters.length * 2)));
    if (form) out.push([stem(letters), form]);
  }
  return out;
}

function longFormFor(letters: string, words: string[]): LongForm | null {
  const text = words.join(' ').toLowerCase();
  let li = letters.length - 1;
  let ti = text.length - 1;
  while (li >= 0) {
    const c = letters[li]!;
    while (ti >= 0 && (text[ti] !== c || (li === 0 && ti > 0 && /[\p{L}\p{N}]/u.test(text[ti - 1]!)))) ti--;
    if (ti < 0) return null;
    li--;
    ti--;
  }
  const start = text.lastIndexOf(' ', ti + 1) + 1;
  const formText = words.join(' ').slice(start).replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
  const tokens = tokenize(formText);
  if (tokens.length < 2 || tokens.length > letters.length + 2) return null;
  return { stems: tokens.map(stem), text: formText };
}
