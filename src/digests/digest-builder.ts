import type { CandidateIndex, RecentPaper } from './candidate-index.js';
import { excludeTerms, interestsOf, type Interest } from './interests.js';
import { RANKING, relevance, score } from './rank.js';

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
}

interface Candidate {
  paper: RecentPaper;
  best: { interest: Interest; rel: number; terms: string[] };
  others: Interest[];
  words: Set<string>;
}

function why(c: Candidate): string {
  const { interest, terms } = c.best;
  const shown = terms.slice(0, 4).join(', ');
  const main = interest.kind === 'topic' ? `Matches ${interest.label}: ${shown}` : `Matches your keyword ${interest.label}${terms.length > 1 || terms[0]?.toLowerCase() !== interest.label.slice(1, -1).toLowerCase() ? `: ${shown}` : ''}`;
  return c.others.length ? `${main} · also ${c.others.map((o) => o.label).join(', ')}` : main;
}

/**
 * Chooses the papers of one digest: first seen after `since`, never sent to
 * this reader before, matching an interest above the relevance floor, not
 * excluded, best score first, at most `limit`.
 */
export function buildDigest(index: CandidateIndex, subscriber: { topics: string[]; keywords: string[]; exclude: string[] }, req: DigestRequest): DigestItem[] {
  const excluded = index.excluded(excludeTerms(subscriber));
  const candidates = new Map<number, Candidate>();
  for (const interest of interestsOf(subscriber)) {
    for (const hit of index.hits(interest)) {
      const paper = index.paper(hit.pk)!;
      if (paper.firstSeenAt <= req.since || excluded.has(hit.pk) || req.alreadySent(hit.pk)) continue;
      const rel = relevance(hit.bm25);
      const c = candidates.get(hit.pk);
      if (!c) {
        candidates.set(hit.pk, { paper, best: { interest, rel, terms: hit.terms }, others: [], words: new Set(hit.words) });
        continue;
      }
      if (rel > c.best.rel) {
        c.others.push(c.best.interest);
        c.best = { interest, rel, terms: hit.terms };
      } else c.others.push(interest);
      for (const w of hit.words) c.words.add(w);
    }
  }
  const ranked: DigestItem[] = [];
  for (const c of candidates.values()) {
    if (c.best.rel < RANKING.RELEVANCE_FLOOR) continue;
    const rel = Math.min(1, c.best.rel + RANKING.OTHER_INTEREST_BONUS * c.others.length);
    ranked.push({
      pk: c.paper.pk,
      id: c.paper.id,
      title: c.paper.title,
      score: Math.round(score({ ...c.paper, relevance: rel }, req.now) * 1000) / 1000,
      why: why(c),
      interests: [c.best.interest.label, ...c.others.map((o) => o.label)],
      words: [...c.words],
    });
  }
  ranked.sort((a, b) => b.score - a.score || a.pk - b.pk);
  return ranked.slice(0, req.limit);
}
