import type { Sql } from '../db/sql.js';
import { createCandidateIndex } from './candidate-index.js';
import { buildDigest } from './digest-builder.js';

/** One labelled typed interest: the papers (by id) both annotators judged relevant, and those they disagreed on. */
export interface Label {
  n: number;
  interest: string;
  half: 'dev' | 'heldout';
  relevant: string[];
  /** Judged relevant by one annotator only: left out of the scores (neither a hit nor a miss). */
  disputed: string[];
}

/** How one retriever did on one labelled interest. */
export interface LabelScore {
  interest: string;
  relevant: number;
  sent: number;
  hits: number;
  precision: number;
  recall: number;
  f1: number;
  precisionAt10: number;
  falsePositives: string[];
  missed: string[];
}

/** Ids a retriever returns for a typed interest, best first. */
export type Retriever = (interest: string) => string[];

/**
 * Scores a retriever on labels. Disputed papers are dropped from what was
 * sent. A reader with nothing relevant scores 1 when sent nothing, else 0.
 * Precision at 10 is over the first min(10, sent) papers.
 */
export function evaluate(labels: Label[], retrieve: Retriever): LabelScore[] {
  return labels.map((label) => {
    const wanted = new Set(label.relevant);
    const disputed = new Set(label.disputed);
    const sent = retrieve(label.interest).filter((id) => !disputed.has(id));
    const hits = sent.filter((id) => wanted.has(id));
    const precision = sent.length ? hits.length / sent.length : wanted.size ? 0 : 1;
    const recall = wanted.size ? hits.length / wanted.size : sent.length ? 0 : 1;
    const top = sent.slice(0, 10);
    return {
      interest: label.interest,
      relevant: wanted.size,
      sent: sent.length,
      hits: hits.length,
      precision,
      recall,
      f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
      precisionAt10: top.length ? top.filter((id) => wanted.has(id)).length / top.length : wanted.size ? 0 : 1,
      falsePositives: sent.filter((id) => !wanted.has(id)),
      missed: label.relevant.filter((id) => !sent.includes(id)),
    };
  });
}

/** Macro averages of a set of scores, and how many readers with relevant papers got nothing. */
export function summarise(scores: LabelScore[]) {
  const mean = (f: (s: LabelScore) => number) => scores.reduce((a, s) => a + f(s), 0) / Math.max(1, scores.length);
  return {
    readers: scores.length,
    macroF1: mean((s) => s.f1),
    precisionAt10: mean((s) => s.precisionAt10),
    empty: scores.filter((s) => s.sent === 0).length,
    emptyWithRelevant: scores.filter((s) => s.sent === 0 && s.relevant > 0).length,
  };
}

/** The digest a one-keyword reader would get over every stored paper (what `digest preview --limit N --since 2000-…` shows). */
export async function digestRetriever(database: Sql, limit: number, now: Date): Promise<Retriever> {
  const index = await createCandidateIndex(database, '0000', now);
  return (interest) =>
    buildDigest(index, { topics: [], keywords: [interest], exclude: [] }, { since: '0000', now, limit, alreadySent: () => false }).map((i) => i.id);
}
