import type { Database_ } from '../db/client.js';
import { createCandidateIndex } from './candidate-index.js';
import { buildDigest } from './digest-builder.js';

/** One labelled interest: a typed keyword and the titles (prefixes) a reader wants. */
export interface Label {
  keyword: string;
  relevant: string[];
}

/** Precision and recall of what would be sent for one labelled interest. */
export interface LabelScore {
  keyword: string;
  relevant: number;
  sent: number;
  hits: number;
  precision: number;
  recall: number;
  falsePositives: string[];
  missed: string[];
}

/** Runs each label as a one-keyword subscriber over every stored paper and scores what would be sent. */
export function evaluateLabels(database: Database_, labels: Label[], limit: number, now: Date): LabelScore[] {
  const index = createCandidateIndex(database, '0000', now);
  const titles = (database.sqlite.prepare('SELECT pk, title FROM papers').all() as { pk: number; title: string }[]);
  return labels.map((label) => {
    const wanted = new Set(titles.filter((t) => label.relevant.some((r) => t.title.startsWith(r))).map((t) => t.pk));
    const unmatched = label.relevant.filter((r) => !titles.some((t) => t.title.startsWith(r)));
    if (unmatched.length) throw new Error(`label "${label.keyword}": no paper titled "${unmatched[0]}…"`);
    const sent = buildDigest(index, { topics: [], keywords: [label.keyword], exclude: [] }, { since: '0000', now, limit, alreadySent: () => false });
    const hits = sent.filter((s) => wanted.has(s.pk));
    const sentPks = new Set(sent.map((s) => s.pk));
    return {
      keyword: label.keyword,
      relevant: wanted.size,
      sent: sent.length,
      hits: hits.length,
      precision: sent.length ? hits.length / sent.length : 1,
      recall: wanted.size ? hits.length / wanted.size : 1,
      falsePositives: sent.filter((s) => !wanted.has(s.pk)).map((s) => s.title),
      missed: titles.filter((t) => wanted.has(t.pk) && !sentPks.has(t.pk)).map((t) => t.title),
    };
  });
}
