import { TOPICS } from './topic-catalogue.js';

// Pure: what an operator or reader probably meant by a slug the catalogue does not have.

const words = (s: string) => s.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 2);

/** Levenshtein distance, for typos such as "agnets" or "diffusion-model". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The same word, a 4+ letter prefix of it ("reinforce"), or a spelling of it ("quantisation"). */
function sameWord(w: string, x: string): boolean {
  if (w === x) return true;
  if (w.length >= 4 && x.length >= 4 && (x.startsWith(w) || w.startsWith(x))) return true;
  return w.length >= 6 && editDistance(w, x) <= Math.floor(w.length / 6);
}

/**
 * Up to `max` catalogue slugs closest to `input`: first those sharing a word with the
 * topic's slug, name or aliases (a word of 4+ letters also matches as a prefix, so
 * "reinforce" finds reinforcement-learning), then those within a few typos of a slug.
 */
export function suggestTopics(input: string, max = 3): string[] {
  const typed = input.trim().toLowerCase();
  const mine = words(typed);
  const scored = TOPICS.map((t) => {
    const inSlug = words(t.slug);
    const elsewhere = words([t.name, ...(t.aliases ?? [])].join(' '));
    // A word in the slug itself counts double: "llm" means llm-reasoning before a topic that only mentions LLMs.
    const shared = mine.reduce((n, w) => n + (inSlug.some((x) => sameWord(w, x)) ? 2 : elsewhere.some((x) => sameWord(w, x)) ? 1 : 0), 0);
    const distance = Math.min(editDistance(typed, t.slug), ...(t.aliases ?? []).map((a) => editDistance(typed, a)));
    return { slug: t.slug, shared, distance };
  });
  // Short words are too easily a typo of anything.
  const typoLimit = typed.length <= 4 ? 1 : Math.max(2, Math.floor(typed.length / 4));
  return scored
    .filter((s) => s.shared > 0 || s.distance <= typoLimit)
    .sort((a, b) => b.shared - a.shared || a.distance - b.distance || a.slug.localeCompare(b.slug))
    .slice(0, max)
    .map((s) => s.slug);
}

/** `unknown topic "x" (did you mean a or b?)`, or without the hint when nothing is close. */
export function unknownTopicMessage(input: string): string {
  const near = suggestTopics(input);
  const hint = near.length ? ` (did you mean ${near.length === 1 ? near[0] : `${near.slice(0, -1).join(', ')} or ${near.at(-1)}`}?)` : '';
  return `unknown topic "${input}"${hint}`;
}
