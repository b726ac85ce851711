import { parseTerms, phrase } from '../papers/fts-query.js';
import { findTopic, TOPICS, topicQuery, type Topic } from '../subscribers/topic-catalogue.js';
import { singular, termSpec, tokenize, type TermSpec } from './term-match.js';

/** One thing a reader asked for: a catalogue topic or a typed keyword. */
export interface Interest {
  /** Stable key shared by every subscriber with the same interest (the per-run cache key). */
  key: string;
  label: string;
  kind: 'topic' | 'keyword';
  /** FTS5 expression that finds candidates. */
  fts: string;
  terms: TermSpec[];
  /** The catalogue topic a typed keyword borrowed, if any. */
  borrowed?: string;
}

const norm = (text: string) => tokenize(text).map(singular).join(' ');

// Names under which a typed keyword borrows a topic's whole query: the slug,
// the full name and the topic's aliases. Not every word in a name: a reader
// who typed "quantization" wants quantization, not all of compression.
const ALIASES = new Map<string, Topic>();
for (const t of TOPICS) {
  const names = [t.slug.replace(/-/g, ' '), t.name, ...(t.aliases ?? [])];
  for (const n of names) {
    const key = norm(n.replace(/\*$/, ''));
    if (key && !ALIASES.has(key)) ALIASES.set(key, t);
  }
}

/** The topic a typed keyword names or closely matches, if any. */
export function topicForKeyword(keyword: string): Topic | undefined {
  return ALIASES.get(norm(keyword));
}

const specs = (texts: string[]) => texts.map((t) => termSpec(t)).filter((t): t is TermSpec => t !== null);

/** A catalogue topic as an interest. */
export function topicInterest(topic: Topic): Interest {
  return { key: `topic:${topic.slug}`, label: topic.name, kind: 'topic', fts: topicQuery(topic), terms: specs(topic.terms) };
}

/**
 * A typed keyword as an interest. "quoted phrases" stay phrases; several
 * words without quotes are one phrase too ("sparse autoencoders"). A keyword
 * that names a catalogue topic also searches for the topic's synonyms.
 */
export function keywordInterest(keyword: string): Interest | null {
  const parsed = parseTerms(keyword);
  const text = parsed.map((t) => t.text).join(' ');
  const own = termSpec(parsed.length === 1 && parsed[0]!.prefix ? `${text}*` : text, true);
  const ownFts = phrase(text, own?.prefix ?? false);
  if (!own || !ownFts) return null;
  const topic = topicForKeyword(text);
  const label = `“${keyword.replace(/["“”]/g, '').trim()}”`;
  if (!topic) return { key: `kw:${own.words.join(' ')}${own.prefix ? '*' : ''}`, label, kind: 'keyword', fts: ownFts, terms: [own] };
  return {
    key: `kw:${own.words.join(' ')}+${topic.slug}`,
    label,
    kind: 'keyword',
    fts: `${ownFts} OR ${topicQuery(topic)}`,
    terms: [own, ...specs(topic.terms)],
    borrowed: topic.slug,
  };
}

/** One interest from a topic slug or a typed keyword; null for an unknown slug or a keyword without words. */
export function interestFor(kind: 'topic' | 'keyword', value: string): Interest | null {
  if (kind === 'keyword') return keywordInterest(value);
  const topic = findTopic(value);
  return topic ? topicInterest(topic) : null;
}

/** Every interest of a subscriber (unknown topic slugs are ignored). */
export function interestsOf(s: { topics: string[]; keywords: string[] }): Interest[] {
  return [...s.topics.map((t) => interestFor('topic', t)), ...s.keywords.map((k) => interestFor('keyword', k))].filter((i): i is Interest => i !== null);
}

/** Exclusion terms of a subscriber. */
export function excludeTerms(s: { exclude: string[] }): TermSpec[] {
  return specs(s.exclude.map((e) => parseTerms(e).map((t) => t.text).join(' ')));
}
