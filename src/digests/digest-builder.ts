import type { CandidateIndex, RankedHit } from './candidate-index.js';
import type { Interest } from './interests.js';
import { relevance } from './rank.js';
import { emptySignals, rerankForReader, type Candidate, type ReaderSignals } from './reader-ranking.js';
import type { ConceptMatch } from './slice-scorer.js';

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

interface Match {
  interest: Interest;
  hit: RankedHit;
}

// How a concept matched, in the reader's terms: "post-training", "LLM = large language model", "classification (from classifier)".
function matched(m: ConceptMatch): string {
  const { concept, alt } = m;
  if (alt.kind === 'own' || alt.kind === 'variant') return concept.text;
  if (alt.kind === 'acronym') return `${concept.text} = ${alt.text}`;
  return `${alt.text} (related to ${concept.text})`;
}

/** The matched words of a hit, the reader's own first, then variants and related words. */
function matchedTerms(hit: RankedHit): string[] {
  const order = { own: 0, variant: 0, acronym: 1, derived: 2, related: 3 } as const;
  const ms = [...hit.matches].sort((a, b) => order[a.alt.kind] - order[b.alt.kind] || b.concept.idf - a.concept.idf);
  return [...new Set(ms.map(matched))];
}

function why(best: Match, others: Match[]): string {
  const { interest, hit } = best;
  const shown = matchedTerms(hit).slice(0, 4).join('; ');
  const main = interest.kind === 'topic' ? `Matches ${interest.label}: ${shown}` : `${shown} — from your ${interest.label}`;
  return others.length ? `${main} · also ${others.map((o) => o.interest.label).join(', ')}` : main;
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
  const ranked = interests.map((i) => ({ interest: i, ...index.ranked(i) }));
  const accept = (pk: number) => index.paper(pk)!.firstSeenAt > req.since && !excluded.has(pk) && !req.alreadySent(pk);
  const chosen = new Set<number>();
  for (const r of ranked) {
    let taken = 0;
    for (const hit of r.list) {
      if (taken >= req.limit) break;
      if (!accept(hit.pk)) continue;
      chosen.add(hit.pk);
      taken++;
    }
  }
  const candidates: Candidate[] = [...chosen].map((pk) => {
    const matches: Match[] = [];
    for (const r of ranked) {
      const hit = r.byPk.get(pk);
      if (hit) matches.push({ interest: r.interest, hit });
    }
    matches.sort((a, b) => b.hit.rel - a.hit.rel);
    const [best, ...others] = matches as [Match, ...Match[]];
    return {
      pk,
      rel: relevance(best.hit.rel, others.length),
      why: why(best, others),
      interests: matches.map((m) => m.interest.label),
      words: [...new Set(matches.flatMap((m) => m.hit.words))],
    };
  });
  const final = req.signals && !emptySignals(req.signals) ? rerankForReader(index, req.signals, candidates, accept) : candidates;
  const scored = final.map((c) => ({ ...c, score: Math.round(c.rel * index.boost(c.pk) * 1000) / 1000 }));
  scored.sort((a, b) => b.score - a.score || a.pk - b.pk);
  return scored.slice(0, req.limit).map(({ pk, score, why: line, interests: labels, words }) => {
    const paper = index.paper(pk)!;
    return { pk, id: paper.id, title: paper.title, score, why: line, interests: labels, words };
  });
}
