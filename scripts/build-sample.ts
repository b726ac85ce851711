// Rebuilds samples/daily-papers.jsonl from the listing pages in ../shared.
// The pages were captured at the end of December 2025; resolving their
// yearless dates against that day gives the right years.
// Usage: npx tsx scripts/build-sample.ts [asOf=2025-12-31]
import { readdirSync, writeFileSync } from 'node:fs';
import { openDatabase } from '../src/db/client.js';
import { applyFiles, parseFiles } from '../src/papers/import-service.js';
import { getPaper } from '../src/papers/paper-repo.js';
import { SAMPLE_CORPUS } from '../src/papers/sample-corpus.js';

const dir = new URL('../../shared/corpus/daily-papers/', import.meta.url).pathname;
const asOf = process.argv[2] ?? '2025-12-31';
const database = await openDatabase(':memory:');
const files = readdirSync(dir).sort().map((f) => dir + f);
await applyFiles(database, parseFiles(files, 'page', asOf), new Date());
const rows = await database.all<{ id: string }>('SELECT id FROM papers ORDER BY pk');
const lines: string[] = [];
for (const { id } of rows) {
  const { firstSeenAt: _unused, ...record } = (await getPaper(database, id))!;
  lines.push(JSON.stringify({ ...record, source: 'sample' }));
}
await database.close();
writeFileSync(SAMPLE_CORPUS, `${lines.join('\n')}\n`);
console.log(`wrote ${rows.length} papers to ${SAMPLE_CORPUS}`);
