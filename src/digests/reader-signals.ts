// The shell around reader-ranking.ts: stores "more/less like this" ratings and
// loads what each reader told us (ratings, seed papers, followed authors) as
// vectors for a run. Seeds are looked up at each run, so one pasted before its
// paper arrived starts working when it does.
import type { Sql } from '../db/sql.js';
import { parseArxivId, titleKey } from '../papers/paper-record.js';
import type { CorpusStats } from './corpus-stats.js';
import type { ReaderSignals, SignalPaper } from './reader-ranking.js';
import { paperVector } from './reader-model.js';

export type FeedbackChoice = 'more' | 'less';

/** Records (or changes) a reader's rating of a paper. */
export async function recordFeedback(database: Sql, subscriberId: number, paperPk: number, choice: FeedbackChoice, now: Date): Promise<void> {
  await database.run(
    'INSERT INTO paper_feedback (subscriber_id, paper_pk, choice, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (subscriber_id, paper_pk) DO UPDATE SET choice = excluded.choice, created_at = excluded.created_at',
    [subscriberId, paperPk, choice, now.toISOString()],
  );
}

/** Removes a reader's rating of a paper (undo). */
export async function clearFeedback(database: Sql, subscriberId: number, paperPk: number): Promise<void> {
  await database.run('DELETE FROM paper_feedback WHERE subscriber_id = ? AND paper_pk = ?', [subscriberId, paperPk]);
}

/** A reader's ratings, newest first, with the papers' ids and titles. */
export function ratingsOf(database: Sql, subscriberId: number): Promise<{ paperId: string; title: string; choice: FeedbackChoice; ratedAt: string }[]> {
  return database.all(
    'SELECT p.id AS paperId, p.title, f.choice, f.created_at AS ratedAt FROM paper_feedback f JOIN papers p ON p.pk = f.paper_pk WHERE f.subscriber_id = ? ORDER BY f.created_at DESC, p.pk DESC',
    [subscriberId],
  );
}

/** A stored paper by its id (what a feedback link or a rating names). */
export function paperById(database: Sql, id: string): Promise<{ pk: number; title: string; abstract: string } | undefined> {
  return database.get('SELECT pk, title, abstract FROM papers WHERE id = ?', [id]);
}

/** A reader's current rating of a paper, if any. */
export async function ratingOf(database: Sql, subscriberId: number, paperPk: number): Promise<FeedbackChoice | undefined> {
  const row = await database.get<{ choice: FeedbackChoice }>('SELECT choice FROM paper_feedback WHERE subscriber_id = ? AND paper_pk = ?', [subscriberId, paperPk]);
  return row?.choice;
}

/** The paper a seed names (arXiv id or arXiv/Hugging Face link, else a title), if it is stored. */
export function resolveSeed(database: Sql, ref: string): Promise<{ pk: number; title: string; abstract: string } | undefined> {
  const id = parseArxivId(ref.replace(/^https?:\/\/huggingface\.co\/papers\//i, ''));
  if (id) return paperById(database, id);
  return database.get('SELECT pk, title, abstract FROM papers WHERE title_key = ? ORDER BY pk LIMIT 1', [titleKey(ref)]);
}

/** Loads readers' signals for a run; paper vectors are computed once per run. */
export function createSignalLoader(database: Sql, stats: CorpusStats) {
  const vectors = new Map<number, SignalPaper>();
  const seeds = new Map<string, Awaited<ReturnType<typeof resolveSeed>>>();
  const seedOf = async (ref: string) => {
    if (!seeds.has(ref)) seeds.set(ref, await resolveSeed(database, ref));
    return seeds.get(ref);
  };
  const paperOf = (p: { pk: number; title: string; abstract: string }) => {
    let s = vectors.get(p.pk);
    if (!s) vectors.set(p.pk, (s = { pk: p.pk, title: p.title, vector: paperVector(p, stats) }));
    return s;
  };
  // The chunk's readers go as one JSON list (SQLite) or one array (PostgreSQL): one statement per chunk.
  // Ratings come as paper keys; a rated paper's text is read once per run, when first needed.
  const pg = database.dialect === 'postgres';
  const readerList = (ids: number[]) => (pg ? ids : JSON.stringify(ids));
  const ratings = pg
    ? 'SELECT subscriber_id AS sid, choice, paper_pk AS pk FROM paper_feedback WHERE subscriber_id = ANY(?::int[]) ORDER BY created_at, paper_pk'
    : 'SELECT subscriber_id AS sid, choice, paper_pk AS pk FROM paper_feedback WHERE subscriber_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, paper_pk';
  const texts = pg
    ? 'SELECT pk, title, abstract FROM papers WHERE pk = ANY(?::int[])'
    : 'SELECT pk, title, abstract FROM papers WHERE pk IN (SELECT value FROM json_each(?))';
  const rated = async (pks: number[]) => {
    const missing = [...new Set(pks.filter((pk) => !vectors.has(pk)))];
    if (missing.length) for (const p of await database.all<{ pk: number; title: string; abstract: string }>(texts, [readerList(missing)])) paperOf(p);
  };
  return {
    /** Signals of the readers who told us anything (readers without any are absent: their digest is exactly what their interests give). */
    async load(readers: { id: number; seeds: string[]; authors: string[] }[]): Promise<Map<number, ReaderSignals>> {
      const out = new Map<number, ReaderSignals>();
      const of = (id: number) => {
        let s = out.get(id);
        if (!s) out.set(id, (s = { liked: [], disliked: [], seeds: [], authors: [] }));
        return s;
      };
      const rows = await database.all<{ sid: number; choice: FeedbackChoice; pk: number }>(ratings, [readerList(readers.map((r) => r.id))]);
      await rated(rows.map((r) => r.pk));
      for (const r of rows) {
        const paper = vectors.get(r.pk);
        // A paper deleted between the two statements has no text (its ratings go with it: the key cascades).
        if (paper) (r.choice === 'more' ? of(r.sid).liked : of(r.sid).disliked).push(paper);
      }
      for (const r of readers) {
        for (const ref of r.seeds) {
          const paper = await seedOf(ref);
          if (paper) of(r.id).seeds.push(paperOf(paper));
        }
        if (r.authors.length) of(r.id).authors.push(...r.authors);
      }
      return out;
    },
  };
}
