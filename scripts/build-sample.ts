// Rebuilds samples/daily-papers.jsonl from the listing pages in ../shared.
// The pages were captured at the end of December 2025; resolving their
// yearless dates against that day gives the right years.
// Usage: npx tsx scripts/build-sample.ts [asOf=2025-12-31]
import { readdirSync, writeFileSync } from 'node:fs';
import { openDatabase } from '../src/db/client.js';
import { applyFiles, parseFiles } from '../src/papers/import-service.js';
import { toRecord } from '../src/papers/paper-record.js';
import { papers } from '../src/db/schema.js';
import { SAMPLE_CORPUS } from '../src/papers/sample-corpus.js';

const dir = new URL('../../shared/corpus/daily-papers/', import.meta.url).pathname;
const asOf = process.argv[2] ?? '2025-12-31';
const database = openDatabase(':memory:');
const files = readdirSync(dir).sort().map((f) => dir + f);
applyFiles(database, parseFiles(files, 'page', asOf), new Date());
const rows = database.db.select().from(papers).orderBy(papers.pk).all();
const lines = rows.map((row) => {
  const { firstSeenAt: _unused, ...record } = toRecord(row);
  return JSON.stringify({ ...record, source: 'sample' });
});
writeFileSync(SAMPLE_CORPUS, `${lines.join('\n')}\n`);
console.log(`wrote ${rows.length} papers to ${SAMPLE_CORPUS}`);
