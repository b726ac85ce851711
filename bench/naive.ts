// The naive baselines Paperboy must beat, in their own process so MJML's code
// and data (tens of MB) are not counted against the pipeline's peak RSS.
// Usage: naive.ts DB_PATH NOW_ISO LOOKBACK_DAYS → prints { mjml: {n, ms}, fts: {n, ms} }
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { openDatabase } from '../src/db/client.js';
import { createCandidateIndex } from '../src/digests/candidate-index.js';
import { buildDigest } from '../src/digests/digest-builder.js';
import { sinceFor } from '../src/digests/digest-run.js';
import { anyOf, parseTerms } from '../src/papers/fts-query.js';
import { findTopic, topicQuery } from '../src/subscribers/topic-catalogue.js';
import { listSubscribers } from '../src/subscribers/subscriber-repo.js';

const [path, nowIso, lookbackDays] = process.argv.slice(2);
const now = new Date(nowIso!);
const database = await openDatabase(path!);
const since = sinceFor(null, now, Number(lookbackDays));
const readers = (await listSubscribers(database, ['active'])).slice(0, 300);
const time = async (fn: () => unknown) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

// MJML compiled for every message, as a template engine would naively be used.
const dir = fileURLToPath(new URL('../templates/email/', import.meta.url));
const mjmlTemplate = Handlebars.create().compile(readFileSync(`${dir}digest.mjml`, 'utf8'));
const index = await createCandidateIndex(database, since, now);
const mjmlSample = readers.slice(0, 200);
const mjmlMs = await time(async () => {
  for (const sub of mjmlSample) {
    const items = buildDigest(index, sub, { since, now, limit: sub.maxPapers, alreadySent: () => false });
    await mjml2html(mjmlTemplate({ subject: 'x', papers: items }), { filePath: `${dir}digest.mjml`, ignoreIncludes: false, includePath: dir, validationLevel: 'skip' });
  }
});

// Each interest's FTS query over the whole paper table, keeping only the recent hits afterwards.
const wholeTable = database.sqlite!.prepare(
  'SELECT p.pk, p.first_seen_at FROM papers_fts JOIN papers p ON p.pk = papers_fts.rowid WHERE papers_fts MATCH ? ORDER BY bm25(papers_fts, 10.0, 1.0, 3.0)',
);
let kept = 0;
const ftsMs = await time(() => {
  for (const sub of readers) {
    const queries = [...sub.topics.map((t) => topicQuery(findTopic(t)!)), ...sub.keywords.map((k) => anyOf(parseTerms(k)))];
    for (const q of queries) if (q) for (const row of wholeTable.all(q) as { first_seen_at: string }[]) if (row.first_seen_at > since) kept++;
  }
});
await database.close();
process.stdout.write(JSON.stringify({ mjml: { n: mjmlSample.length, ms: mjmlMs }, fts: { n: readers.length, ms: ftsMs, kept } }));
