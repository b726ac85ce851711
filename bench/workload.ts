// A realistic synthetic workload (written straight into a SQLite file; the
// PostgreSQL measurements copy it with `paperboy db copy`) built from the sample corpus: papers whose
// titles and abstracts recombine real sentences, subscribers whose interests
// are catalogue topics and words and phrases that occur in those papers.
import type { Sqlite } from '../src/db/client.js';
import { localTime } from '../src/digests/schedule.js';
import { TOPICS } from '../src/subscribers/topic-catalogue.js';

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const STOP = new Set('the and for with from that this into over under using via are our its their which based towards toward when what how why new can than more less not but also each such these those both between within without through show shows study approach method methods model models learning deep neural network networks paper results data large'.split(' '));

/** Title and abstract of a corpus paper. */
export type CorpusText = { title: string; abstract: string };

/** Inserts `count` papers first seen between `from` and `to` (ms), recombined from the corpus. */
export function insertPapers(sqlite: Sqlite, corpus: CorpusText[], count: number, from: number, to: number, seed: number, idPrefix: string) {
  const r = rng(seed);
  const sentences = corpus.flatMap((p) => p.abstract.split(/(?<=[.!?])\s+/).filter((s) => s.length > 40));
  const insert = sqlite.prepare(
    `INSERT INTO papers (id, title_key, title, abstract, authors, author_count, published_at, upvotes, keywords, url_page, url_abs, url_pdf, source, first_seen_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, 'bench', ?, ?)`,
  );
  sqlite.transaction(() => {
    for (let i = 0; i < count; i++) {
      const base = r.pick(corpus);
      const other = r.pick(corpus);
      const title = `${base.title.split(':')[0]}: ${other.title.split(':').at(-1)!.trim()} ${i}`;
      const abstract = Array.from({ length: 4 + r.int(5) }, () => r.pick(sentences)).join(' ');
      const seen = new Date(from + ((to - from) * i) / count).toISOString();
      const id = `${idPrefix}.${String(i).padStart(5, '0')}`;
      insert.run(id, `${title.toLowerCase()} ${id}`, title, abstract, JSON.stringify(['A. Author', 'B. Author', 'C. Author', 'D. Author'].slice(0, 1 + r.int(4))), 1 + r.int(12), seen.slice(0, 10), r.int(5) === 0 ? r.int(200) : r.int(8), `https://huggingface.co/papers/${id}`, `https://arxiv.org/abs/${id}`, `https://arxiv.org/pdf/${id}`, seen, seen);
    }
  })();
}

/** Words and two-word phrases that occur in corpus titles: what readers type. */
export function vocabulary(corpus: CorpusText[]): string[] {
  const out = new Set<string>();
  for (const p of corpus) {
    const words = p.title.toLowerCase().match(/[a-z][a-z-]{3,}/g) ?? [];
    words.forEach((w, i) => {
      if (!STOP.has(w)) out.add(w);
      const n = words[i + 1];
      if (n && !STOP.has(w) && !STOP.has(n)) out.add(`${w} ${n}`);
    });
  }
  return [...out];
}

const ZONES = ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Kolkata', 'Asia/Shanghai', 'Asia/Tokyo', 'Australia/Sydney', 'America/Sao_Paulo'];

/** Inserts `count` active subscribers, all due at `now`, with 1–5 interests each. */
export function insertSubscribers(sqlite: Sqlite, corpus: CorpusText[], count: number, now: Date, seed: number) {
  const r = rng(seed);
  const vocab = vocabulary(corpus);
  const insert = sqlite.prepare(
    `INSERT INTO subscribers (email, status, topics, keywords, exclude, frequency, weekday, hour, timezone, max_papers, created_at, updated_at, confirmed_at)
     VALUES (?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
  );
  sqlite.transaction(() => {
    for (let i = 0; i < count; i++) {
      const tz = r.pick(ZONES);
      const local = localTime(now, tz);
      const interests = 1 + r.int(5);
      const topics = new Set<string>();
      const keywords = new Set<string>();
      for (let k = 0; k < interests; k++) {
        if (r.next() < 0.5) topics.add(r.pick(TOPICS).slug);
        else keywords.add(r.pick(vocab));
      }
      const exclude = r.next() < 0.2 ? [r.pick(vocab)] : [];
      const weekly = r.next() < 0.2;
      insert.run(`reader${i}@bench.example`, JSON.stringify([...topics]), JSON.stringify([...keywords]), JSON.stringify(exclude), weekly ? 'weekly' : 'daily', weekly ? 1 + r.int(local.weekday) : 1, r.int(local.hour + 1), tz, r.pick([5, 10, 10, 10, 15, 20]));
    }
  })();
}

/** Gives `share` of the subscribers what readers tell Paperboy: 5 ratings of older papers, a seed paper and a followed author. */
export function insertReaderSignals(sqlite: Sqlite, share: number, seed: number) {
  const r = rng(seed);
  const ids = (sqlite.prepare('SELECT id FROM subscribers ORDER BY id').all() as { id: number }[]).map((x) => x.id);
  const older = sqlite.prepare('SELECT pk, id FROM papers ORDER BY pk LIMIT 5000').all() as { pk: number; id: string }[];
  const prefs = sqlite.prepare('UPDATE subscribers SET seeds = ?, authors = ? WHERE id = ?');
  const rate = sqlite.prepare("INSERT OR IGNORE INTO paper_feedback (subscriber_id, paper_pk, choice, created_at) VALUES (?, ?, ?, '2026-11-01T00:00:00Z')");
  sqlite.transaction(() => {
    for (const id of ids) {
      if (r.next() >= share) continue;
      prefs.run(JSON.stringify([r.pick(older).id]), JSON.stringify(['Z. Reader']), id);
      for (let k = 0; k < 5; k++) rate.run(id, r.pick(older).pk, r.next() < 0.5 ? 'more' : 'less');
    }
  })();
}
