// Precision and recall of digests on the labelled sample corpus.
// Usage: npx tsx scripts/eval-relevance.ts [limit=50] [--verbose]
import { readFileSync } from 'node:fs';
import { openDatabase } from '../src/db/client.js';
import { evaluateLabels, type Label } from '../src/digests/relevance-eval.js';
import { loadSampleIfEmpty } from '../src/papers/sample-corpus.js';

const limit = Number(process.argv[2] ?? 50) || 50;
const verbose = process.argv.includes('--verbose');
const { labels } = JSON.parse(readFileSync(new URL('../test/fixtures/relevance-labels.json', import.meta.url), 'utf8')) as { labels: Label[] };
const database = openDatabase(':memory:');
loadSampleIfEmpty(database, new Date('2025-12-31T00:00:00Z'));
const scores = evaluateLabels(database, labels, limit, new Date('2025-12-31T00:00:00Z'));
const pct = (x: number) => `${Math.round(x * 100)}%`.padStart(5);
console.log(`| interest | relevant | sent | precision | recall |\n|---|---:|---:|---:|---:|`);
for (const s of scores) {
  console.log(`| ${s.keyword} | ${s.relevant} | ${s.sent} | ${pct(s.precision)} | ${pct(s.recall)} |`);
}
const mean = (f: (s: (typeof scores)[number]) => number) => scores.reduce((a, s) => a + f(s), 0) / scores.length;
const hits = scores.reduce((a, s) => a + s.hits, 0);
const sent = scores.reduce((a, s) => a + s.sent, 0);
const relevant = scores.reduce((a, s) => a + s.relevant, 0);
console.log(`| **macro average** | | | ${pct(mean((s) => s.precision))} | ${pct(mean((s) => s.recall))} |`);
console.log(`| **micro (all sent)** | ${relevant} | ${sent} | ${pct(hits / sent)} | ${pct(hits / relevant)} |`);
if (verbose) for (const s of scores) console.log(`\n${s.keyword}\n  false positives: ${s.falsePositives.join(' | ')}\n  missed: ${s.missed.join(' | ')}`);
