import type { Sql } from '../db/sql.js';
import { corpusStats, createCandidateIndex, loadPapers } from './candidate-index.js';
import { buildDigest } from './digest-builder.js';
import type { ReaderSignals } from './reader-ranking.js';
import { paperVector } from './reader-model.js';
import type { Label } from './relevance-eval.js';

/** Mean precision of each day's digest (over readers shown anything that day) and relevant papers shown, per day. */
export interface DayScores {
  precision: number[];
  relevantShown: number[];
}

const DAY = 86_400_000;

/**
 * Replays `days` days of digests over a database whose papers are spread over
 * those days (see spreadOverDays): each labelled reader
 * types their interest, gets at most `limit` papers a day, and (with feedback)
 * rates every shown paper as the labels say: relevant → more like this, not
 * relevant → less like this (disputed papers are not rated). Seeds: the first
 * `seeds` relevant papers, given up front and never shown.
 */
export async function simulateFeedback(database: Sql, labels: Label[], opts: { days: number; limit: number; start: Date; feedback: boolean; seeds: number; useSeeds: boolean }): Promise<DayScores> {
  const ids = new Map((await database.all<{ pk: number; id: string }>('SELECT pk, id FROM papers')).map((r) => [r.id, r.pk]));
  const stats = await corpusStats(database);
  const all = await loadPapers(database, [...ids.values()]);
  const signalOf = (pk: number) => {
    const p = all.get(pk)!;
    return { title: p.title, vector: paperVector(p, stats) };
  };
  const readers = labels.map((l) => {
    const relevant = new Set(l.relevant.map((id) => ids.get(id)!));
    const seedPks = [...relevant].sort((a, b) => a - b).slice(0, opts.seeds);
    const signals: ReaderSignals = { liked: [], disliked: [], seeds: opts.useSeeds ? seedPks.map(signalOf) : [], authors: [] };
    return { label: l, relevant, disputed: new Set(l.disputed.map((id) => ids.get(id)!)), seen: new Set(seedPks), signals };
  });
  const out: DayScores = { precision: [], relevantShown: [] };
  for (let day = 0; day < opts.days; day++) {
    const since = new Date(opts.start.getTime() + day * DAY - 1).toISOString();
    const now = new Date(opts.start.getTime() + (day + 1) * DAY - 1);
    const index = await createCandidateIndex(database, since, now);
    let precision = 0;
    let shownTo = 0;
    let relevantShown = 0;
    for (const r of readers) {
      const items = buildDigest(index, { topics: [], keywords: [r.label.interest], exclude: [] }, { since, now, limit: opts.limit, alreadySent: (pk) => r.seen.has(pk), signals: opts.feedback || opts.useSeeds ? r.signals : undefined });
      const shown = items.filter((i) => !r.disputed.has(i.pk));
      const hits = shown.filter((i) => r.relevant.has(i.pk)).length;
      if (shown.length) {
        precision += hits / shown.length;
        shownTo++;
      }
      relevantShown += hits;
      for (const i of items) {
        r.seen.add(i.pk);
        if (!opts.feedback || r.disputed.has(i.pk)) continue;
        (r.relevant.has(i.pk) ? r.signals.liked : r.signals.disliked).push(signalOf(i.pk));
      }
    }
    out.precision.push(shownTo ? precision / shownTo : 0);
    out.relevantShown.push(relevantShown);
  }
  return out;
}

/** Spreads the stored papers over `days` days from `start` (first seen on day (pk + shift) mod days), for simulateFeedback. */
export async function spreadOverDays(database: Sql, days: number, start: Date, shift = 0): Promise<void> {
  // Computed here rather than in SQL: date arithmetic is spelled differently on each engine.
  const DAY_MS = 86_400_000;
  await database.tx(async (t) => {
    for (const { pk } of await t.all<{ pk: number }>('SELECT pk FROM papers')) {
      await t.run('UPDATE papers SET first_seen_at = ? WHERE pk = ?', [new Date(start.getTime() + ((pk + shift) % days) * DAY_MS + DAY_MS / 2).toISOString(), pk]);
    }
  });
}
