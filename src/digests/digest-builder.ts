import type { CandidateIndex, RankedHit } from './candidate-index.js';
import type { Interest } from './interests.js';
import { RANKING, relevance } from './rank.js';
import { emptySignals, rerankForReader, type Candidate, type ReaderSignals } from './reader-ranking.js';
import type { MatchedConcept } from './slice-scorer.js';

/** One paper chosen for a digest, with why it was chosen. */
export interface DigestItem {
  pk: number;
  id: string;
  title: string;
  score: number;
  why: string;
  /** Labels of the interests it matched, best first. */
  interests: string[];
  /** Surface words to highlight. */
  words: string[];
}

/** What decides a digest's content. */
export interface DigestRequest {
  since: string;
  now: Date;
  limit: number;
  alreadySent: (pk: number) => boolean;
  /** What the reader told us (ratings, seed papers, followed authors); without any, the digest is exactly what the interests give. */
  signals?: ReaderSignals;
}

/** An interest that admitted a paper, and how. */
export interface Match {
  interest: Interest;
  hit: RankedHit;
}

// How a concept matched, in the reader's terms: "post-training", "LLM = large language model", "classification (from classifier)".
function matched(m: MatchedConcept): string {
  const { concept, alt } = m;
  if (alt.kind === 'own' || alt.kind === 'variant') return concept.text;
  if (alt.kind === 'acronym') return `${concept.text} = ${alt.text}`;
  return `${alt.text} (related to ${concept.text})`;
}

const ORDER = { own: 0, variant: 0, acronym: 1, derived: 2, related: 3 } as const;
// A hit is shared by every reader with its interest in a run: its matched words are spelled out once.
const shownOf = new WeakMap<RankedHit, string>();

/** The matched words of a hit, the reader's own first, then variants and related words. */
function matchedTerms(hit: RankedHit): string {
  let shown = shownOf.get(hit);
  if (shown === undefined) {
    const ms = [...hit.matches].sort((a, b) => ORDER[a.alt.kind] - ORDER[b.alt.kind] || b.concept.idf - a.concept.idf);
    shown = [...new Set(ms.map(matched))].slice(0, 4).join('; ');
    shownOf.set(hit, shown);
  }
  return shown;
}

/** The why line of a paper: the interest that matched best and how, the others, then what the reader's signals added. */
function why(matches: Match[], notes: string[]): string {
  if (!matches.length) return notes.join(' · ').replace(/^./, (c) => c.toUpperCase());
  const [{ interest, hit }, ...others] = matches as [Match, ...Match[]];
  // Most papers go for one interest and nothing else: their line is the same for every reader.
  const sole = others.length === 0 && notes.length === 0;
  const known = sole ? soleWhy.get(hit) : undefined;
  if (known !== undefined) return known;
  const shown = matchedTerms(hit);
  const main = interest.kind === 'topic' ? `Matches ${interest.label}: ${shown}` : `${shown} — from your ${interest.label}`;
  const also = others.length ? ` · also ${others.map((o) => o.interest.label).join(', ')}` : '';
  const line = `${main}${also}${notes.map((n) => ` · ${n}`).join('')}`;
  if (sole) soleWhy.set(hit, line);
  return line;
}
// A hit belongs to one interest, so its why line alone is a function of the hit.
const soleWhy = new WeakMap<RankedHit, string>();

// Ratings move a paper by at most ×2.5 (rel × (1 + 1.5 × cos)), so the papers a reader's
// signals rerank are the interests' strongest few times the digest's size, not all of them.
const RERANK_POOL = 3;

/** Whether a paper first seen at `seen` may go to this reader: inside their window, not excluded, not sent before. */
function fresh(req: DigestRequest, excluded: ReadonlySet<number>, pk: number, seen: string): boolean {
  return seen > req.since && !excluded.has(pk) && !req.alreadySent(pk);
}

// A paper matches one interest, or two or three: a few comparisons, not Array.prototype.sort and a
// Set per paper (both showed in a 100,000-reader run's profile). Stable: equal relevance keeps the reader's order.
function bestFirst(matches: Match[]): void {
  for (let i = 1; i < matches.length; i++) {
    const m = matches[i]!;
    let j = i;
    for (; j > 0 && matches[j - 1]!.hit.rel < m.hit.rel; j--) matches[j] = matches[j - 1]!;
    matches[j] = m;
  }
}

/** The words of all the interests that matched a paper, each once, in order. */
function wordsOf(matches: Match[]): string[] {
  const words: string[] = [];
  for (const m of matches) for (const w of m.hit.words) if (!words.includes(w)) words.push(w);
  return words;
}

/** A candidate's match before relevance is capped at 1: its best interest's rel plus the bonus for the others. */
function strength(c: Candidate): number {
  return c.matches.length ? c.matches[0]!.hit.rel + RANKING.OTHER_INTEREST_BONUS * (c.matches.length - 1) : c.rel;
}

/**
 * The papers that go when a reader's interests offer more than fit: each interest in turn, the one
 * with the best paper first, takes its best paper not yet taken (papers only the reader's signals
 * brought count as one more interest), so a broad catalogue topic cannot crowd out the reader's
 * other interests. `order` is best score first; so is the result.
 */
function balanced(order: number[], final: Candidate[], interests: Interest[], limit: number): number[] {
  const taken = new Uint8Array(final.length);
  const belongs = (i: number, interest: Interest | null) => {
    const ms = final[i]!.matches;
    return interest === null ? ms.length === 0 : ms.some((m) => m.interest === interest);
  };
  // Each group's place in `order`; groups take turns in the order of their best paper.
  const groups = [...interests, null].map((interest) => ({ interest, at: order.findIndex((i) => belongs(i, interest)) })).filter((g) => g.at >= 0);
  groups.sort((a, b) => a.at - b.at);
  let count = 0;
  for (let round = true; round && count < limit; ) {
    round = false;
    for (const g of groups) {
      if (count >= limit) break;
      while (g.at < order.length && (taken[order[g.at]!] || !belongs(order[g.at]!, g.interest))) g.at++;
      if (g.at === order.length) continue;
      taken[order[g.at]!] = 1;
      count++;
      round = true;
    }
  }
  return order.filter((i) => taken[i]);
}

function strongest(index: CandidateIndex, candidates: Candidate[], n: number): Candidate[] {
  if (candidates.length <= n) return candidates;
  return [...candidates].sort((a, b) => b.rel * index.boost(b.pk) - a.rel * index.boost(a.pk)).slice(0, n);
}

/**
 * Chooses the papers of one digest: first seen after `since`, never sent to
 * this reader before, admitted by one of their interests (see rank.ts), not
 * excluded, best score first, at most `limit`.
 *
 * Each interest's hits are scored and sorted once per run (shared by every
 * reader with that interest), so a reader costs a walk down the top of a few
 * lists. The candidates are each interest's best `limit` acceptable papers;
 * a paper that matches several interests gets a bonus per further interest.
 * A reader's ratings, seed papers and followed authors then rerank (and may
 * add) papers: see reader-ranking.ts.
 */
export function buildDigest(index: CandidateIndex, subscriber: { topics: string[]; keywords: string[]; exclude: string[] }, req: DigestRequest): DigestItem[] {
  const excluded = index.excluded(subscriber);
  const interests = index.interestsOf(subscriber);
  const ranked = interests.map((i) => ({ interest: i, r: index.ranked(i) }));
  const candidates: Candidate[] = [];
  const chosen = new Set<number>();
  for (const { interest, r } of ranked) {
    let taken = 0;
    for (const hit of r.list) {
      if (taken >= req.limit) break;
      // A hit carries its paper's firstSeenAt: the walk needs no paper lookup.
      if (!fresh(req, excluded, hit.pk, hit.seen)) continue;
      taken++;
      if (chosen.has(hit.pk)) continue;
      chosen.add(hit.pk);
      // With one interest the hit is the whole match; with several, every interest that admits the paper counts.
      const matches: Match[] = [];
      if (ranked.length === 1) matches.push({ interest, hit });
      else {
        for (const other of ranked) {
          if (other.r === r) matches.push({ interest: other.interest, hit });
          else if (other.r.admits[hit.slot >> 3]! & (1 << (hit.slot & 7))) matches.push({ interest: other.interest, hit: other.r.byPk.get(hit.pk)! });
        }
      }
      if (matches.length > 1) bestFirst(matches);
      candidates.push({ pk: hit.pk, rel: relevance(matches[0]!.hit.rel, matches.length - 1), matches, notes: [] });
    }
  }
  const signals = req.signals && !emptySignals(req.signals) ? req.signals : null;
  const final = signals ? rerankForReader(index, signals, strongest(index, candidates, RERANK_POOL * req.limit), (pk) => fresh(req, excluded, pk, index.paper(pk)!.firstSeenAt), req.limit) : candidates;
  // Scores and order by position (no object per candidate): a reader has a few dozen candidates and 100,000 readers run.
  const scores = final.map((c) => Math.round(c.rel * (c.matches[0]?.hit.boost ?? index.boost(c.pk)) * 1000) / 1000);
  // Equal scores (relevance saturates at 1) go to the stronger match before the older row.
  const order = final.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || strength(final[b]!) - strength(final[a]!) || final[a]!.pk - final[b]!.pk);
  const going = order.length > req.limit && ranked.length > 1 ? balanced(order, final, ranked.map((r) => r.interest), req.limit) : order.slice(0, req.limit);
  // Why lines and highlights only for the papers that go.
  return going.map((i) => {
    const { pk, matches, notes } = final[i]!;
    const score = scores[i]!;
    const paper = index.paper(pk)!;
    const words = matches.length === 1 ? matches[0]!.hit.words : wordsOf(matches);
    return { pk, id: paper.id, title: paper.title, score, why: why(matches, notes), interests: matches.map((m) => m.interest.label), words };
  });
}
