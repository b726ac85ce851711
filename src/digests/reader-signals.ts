// The shell around reader-ranking.ts: stores "more/less like this" ratings and
// loads what each reader told us (ratings, seed papers, followed authors) as
// vectors for a run. Seeds are looked up at each run, so one pasted before its
// paper arrived starts working when it does.
import type { Database_ } from '../db/client.js';
import { parseArxivId, titleKey } from '../papers/paper-record.js';
import type { CorpusStats } from './corpus-stats.js';
import type { ReaderSignals, SignalPaper } from './reader-ranking.js';
import { paperVector } from './reader-model.js';

export type FeedbackChoice = 'more' | 'less';

/** Records (or changes) a reader's rating of a paper. */
export function recordFeedback(database: Database_, subscriberId: number, paperPk: number, choice: FeedbackChoice, now: Date): void {
  database.sqlite
    .prepare('INSERT INTO paper_feedback (subscriber_id, paper_pk, choice, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (subscriber_id, paper_pk) DO UPDATE SET choice = excluded.choice, created_at = excluded.created_at')
    .run(subscriberId, paperPk, choice, now.toISOString());
}

/** Removes a reader's rating of a paper (undo). */
export function clearFeedback(database: Database_, subscriberId: number, paperPk: number): void {
  database.sqlite.prepare('DELETE FROM paper_feedback WHERE subscriber_id = ? AND paper_pk = ?').run(subscriberId, paperPk);
}

/** A reader's ratings, newest first, with the papers' ids and titles. */
export function ratingsOf(database: Database_, subscriberId: number): { paperId: string; title: string; choice: FeedbackChoice; ratedAt: string }[] {
  return database.sqlite
    .prepare('SELECT p.id AS paperId, p.title, f.choice, f.created_at AS ratedAt FROM paper_feedback f JOIN papers p ON p.pk = f.paper_pk WHERE f.subscriber_id = ? ORDER BY f.created_at DESC, p.pk DESC')
    .all(subscriberId) as { paperId: string; title: string; choice: FeedbackChoice; ratedAt: string }[];
}

/** A stored paper by its id (what a feedback link or a rating names). */
export function paperById(database: Database_, id: string): { pk: number; title: string; abstract: string } | undefined {
  return database.sqlite.prepare('SELECT pk, title, abstract FROM papers WHERE id = ?').get(id) as { pk: number; title: string; abstract: string } | undefined;
}

/** A reader's current rating of a paper, if any. */
export function ratingOf(database: Database_, subscriberId: number, paperPk: number): FeedbackChoice | undefined {
  const row = database.sqlite.prepare('SELECT choice FROM paper_feedback WHERE subscriber_id = ? AND paper_pk = ?').get(subscriberId, paperPk) as { choice: FeedbackChoice } | undefined;
  return row?.choice;
}

/** The paper a seed names (arXiv id or arXiv/Hugging Face link, else a title), if it is stored. */
export function resolveSeed(database: Database_, ref: string): { pk: number; title: string; abstract: string } | undefined {
  const id = parseArxivId(ref.replace(/^https?:\/\/huggingface\.co\/papers\//i, ''));
  if (id) return paperById(database, id);
  return database.sqlite.prepare('SELECT pk, title, abstract FROM papers WHERE title_key = ? ORDER BY pk LIMIT 1').get(titleKey(ref)) as
    | { pk: number; title: string; abstract: string }
    | undefined;
}

/** Loads readers' signals for a run; paper vectors are computed once per run. */
export function createSignalLoader(database: Database_, stats: CorpusStats) {
  const vectors = new Map<number, SignalPaper>();
  const seeds = new Map<string, ReturnType<typeof resolveSeed>>();
  const seedOf = (ref: string) => {
    if (!seeds.has(ref)) seeds.set(ref, resolveSeed(database, ref));
    return seeds.get(ref);
  };
  const paperOf = (p: { pk: number; title: string; abstract: string }) => {
    let s = vectors.get(p.pk);
    if (!s) vectors.set(p.pk, (s = { pk: p.pk, title: p.title, vector: paperVector(p, stats) }));
    return s;
  };
  const ratings = database.sqlite.prepare(
    'SELECT f.subscriber_id AS sid, f.choice, p.pk, p.title, p.abstract FROM paper_feedback f JOIN papers p ON p.pk = f.paper_pk WHERE f.subscriber_id IN (SELECT value FROM json_each(?)) ORDER BY f.created_at, p.pk',
  );
  return {
    /** Signals of the readers who told us anything (readers without any are absent: their digest is exactly what their interests give). */
    load(readers: { id: number; seeds: string[]; authors: string[] }[]): Map<number, ReaderSignals> {
      const out = new Map<number, ReaderSignals>();
      const of = (id: number) => {
        let s = out.get(id);
        if (!s) out.set(id, (s = { liked: [], disliked: [], seeds: [], authors: [] }));
        return s;
      };
      const rows = ratings.all(JSON.stringify(readers.map((r) => r.id))) as { sid: number; choice: FeedbackChoice; pk: number; title: string; abstract: string }[];
      for (const r of rows) (r.choice === 'more' ? of(r.sid).liked : of(r.sid).disliked).push(paperOf(r));
      for (const r of readers) {
        for (const ref of r.seeds) {
          const paper = seedOf(ref);
          if (paper) of(r.id).seeds.push(paperOf(paper));
        }
        if (r.authors.length) of(r.id).authors.push(...r.authors);
      }
      return out;
    },
  };
}
