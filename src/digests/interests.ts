import { findTopic, TOPICS, type Topic } from '../subscribers/topic-catalogue.js';
import type { CorpusStats } from './corpus-stats.js';
import { buildQuery, respell, type Query } from './interest-query.js';
import { singular, tokenize } from './term-match.js';

/** One thing a reader asked for: a catalogue topic or a typed keyword, as queries. */
export interface Interest {
  /** Stable key shared by every subscriber with the same interest (the per-run cache key). */
  key: string;
  label: string;
  kind: 'topic' | 'keyword';
  /** A typed keyword is one query; a topic is one query per catalogue term. */
  queries: Query[];
  /** The catalogue topic a typed keyword borrowed, if any: its terms follow the reader's own query, at BORROWED_WEIGHT. */
  borrowed?: string;
}

/**
 * A keyword that names a topic also searches the topic's terms, well below the
 * reader's own words: the topic fills in where the corpus does not know the
 * word ("XAI"), while papers with the reader's own words lead the cut.
 */
export const BORROWED_WEIGHT = 0.5;


const norm = (text: string) => tokenize(text).map(singular).join(' ');

// Names under which a typed keyword borrows a topic's terms: the slug, the
// full name and the topic's aliases. Not every word in a name: a reader who
// typed "quantization" wants quantization, not all of compression.
const ALIASES = new Map<string, Topic>();
for (const t of TOPICS) {
  for (const n of [t.slug.replace(/-/g, ' '), t.name, ...(t.aliases ?? [])]) {
    const key = norm(n.replace(/\*$/, ''));
    if (key && !ALIASES.has(key)) ALIASES.set(key, t);
  }
}

/** The topic a typed keyword names, if any. */
export function topicForKeyword(keyword: string): Topic | undefined {
  return ALIASES.get(norm(keyword));
}

// A catalogue term is a phrase: "feature attribution" means both words together.
const termQueries = (topic: Topic, stats: CorpusStats) =>
  topic.terms.map((t) => buildQuery(`"${t.replace(/\*$/, '')}"`, stats, { typed: false })).filter((q): q is Query => q !== null);

/** A catalogue topic as an interest: any of its terms, each a query of its own. */
export function topicInterest(topic: Topic, stats: CorpusStats): Interest {
  return { key: `topic:${topic.slug}`, label: topic.name, kind: 'topic', queries: termQueries(topic, stats) };
}

/** A typed keyword as an interest; one that names a catalogue topic (its name, slug or an alias) also searches its terms. */
export function keywordInterest(keyword: string, stats: CorpusStats): Interest | null {
  const query = buildQuery(keyword, stats);
  if (!query) return null;
  const label = `“${keyword.replace(/["“”]/g, '').trim()}”`;
  const key = `kw:${tokenize(keyword).join(' ')}`;
  const topic = topicForKeyword(keyword) ?? topicForKeyword(respell(keyword, stats));
  if (!topic) return { key, label, kind: 'keyword', queries: [query] };
  return { key: `${key}+${topic.slug}`, label, kind: 'keyword', queries: [query, ...termQueries(topic, stats)], borrowed: topic.slug };
}

/** One interest from a topic slug or a typed keyword; null for an unknown slug or a keyword without words. */
export function interestFor(kind: 'topic' | 'keyword', value: string, stats: CorpusStats): Interest | null {
  if (kind === 'keyword') return keywordInterest(value, stats);
  const topic = findTopic(value);
  return topic ? topicInterest(topic, stats) : null;
}

/** What an excluded keyword removes: its own words and their close variants, never related words. */
export function excludeQueries(s: { exclude: string[] }, stats: CorpusStats): Query[] {
  return s.exclude
    .map((e) => buildQuery(e, stats, { typed: false }))
    .filter((q): q is Query => q !== null)
    .map((q) => ({ ...q, concepts: q.concepts.map((c) => ({ ...c, alts: c.alts.filter((a) => a.kind !== 'derived') })) }));
}
