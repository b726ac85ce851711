// Shows how a typed interest is read (concepts, alternatives, IDF) and how the sample corpus scores against it.
// Usage: npx tsx scripts/explain-query.ts "typed interest" [top=15]
import { openDatabase } from '../src/db/client.js';
import { corpusStats, createCandidateIndex } from '../src/digests/candidate-index.js';
import { buildQuery } from '../src/digests/interest-query.js';
import { createSliceIndex } from '../src/digests/slice-scorer.js';
import { loadSampleIfEmpty } from '../src/papers/sample-corpus.js';

const [text = '', top = '15'] = process.argv.slice(2);
const database = await openDatabase(':memory:');
await loadSampleIfEmpty(database, new Date('2025-12-30T00:00:00Z'));
const stats = await corpusStats(database);
const query = buildQuery(text, stats);
if (!query) throw new Error('no words');
for (const c of query.concepts) {
  console.log(`${c.text}  idf ${c.idf.toFixed(2)}`);
  for (const a of c.alts) console.log(`    ${a.kind.padEnd(8)} ${a.weight.toFixed(2)} ${a.stems.join(' ')}  (${a.text})`);
}
const index = await createCandidateIndex(database, '0000', new Date('2025-12-31T00:00:00Z'));
const slice = createSliceIndex([...Array(400).keys()].map((pk) => index.paper(pk)).filter((p) => p !== undefined), stats);
const hits = slice.score(query).sort((a, b) => b.rel - a.rel);
for (const h of hits.slice(0, Number(top))) {
  console.log(`${h.rel.toFixed(2)} cov ${h.coverage.toFixed(2)} ${index.paper(h.pk)!.title.slice(0, 70)} [${h.matches.map((m) => `${m.concept.text}:${m.alt.kind}`).join(', ')}]`);
}
