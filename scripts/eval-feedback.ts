// Reader feedback, simulated over 14 days of digests on the labelled typed interests
// (test/fixtures/relevance-typed.json): precision of each day's digest with and
// without "more/less like this" ratings, and the effect of seed papers on a cold start.
// Usage: npx tsx scripts/eval-feedback.ts [--limit 10] [--rotations 14]
// With about 13 papers a day a single spread of the corpus over the days is noisy: each figure is the
// mean over `rotations` spreads (day = (pk + r) mod 14 for r = 0 … rotations − 1).
import { readFileSync } from 'node:fs';
import { openDatabase } from '../src/db/client.js';
import { simulateFeedback, spreadOverDays } from '../src/digests/feedback-eval.js';
import type { Label } from '../src/digests/relevance-eval.js';
import { loadSampleIfEmpty } from '../src/papers/sample-corpus.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || fallback : fallback);
const limit = option('--limit', 10);
const DAYS = 14;
const rotations = Math.min(DAYS, option('--rotations', DAYS));
const { labels } = JSON.parse(readFileSync(new URL('../test/fixtures/relevance-typed.json', import.meta.url), 'utf8')) as { labels: Label[] };
const START = new Date('2025-12-01T00:00:00Z');
const database = await openDatabase(':memory:');
await loadSampleIfEmpty(database, new Date('2025-11-30T00:00:00Z'));

const ARMS = [
  ['typed words only', { feedback: false, seeds: 0, useSeeds: false }],
  ['with ratings', { feedback: true, seeds: 0, useSeeds: false }],
  ['typed words only, 2 relevant papers held out', { feedback: false, seeds: 2, useSeeds: false }],
  ['+ those 2 papers as seeds', { feedback: false, seeds: 2, useSeeds: true }],
] as const;
const HALVES = ['dev', 'heldout'] as const;
const readersOf = Object.fromEntries(HALVES.map((half) => [half, labels.filter((l) => l.half === half && l.relevant.length > 0)]));
// Per half and arm: summed precision per day and relevant papers shown, over the rotations.
const sums = new Map<string, { precision: number[]; relevant: number }>();
for (let r = 0; r < rotations; r++) {
  await spreadOverDays(database, DAYS, START, r);
  for (const half of HALVES) {
    for (const [arm, opts] of ARMS) {
      const s = await simulateFeedback(database, readersOf[half]!, { days: DAYS, limit, start: START, ...opts });
      const sum = sums.get(`${half}|${arm}`) ?? { precision: new Array<number>(DAYS).fill(0), relevant: 0 };
      s.precision.forEach((p, d) => (sum.precision[d]! += p));
      sum.relevant += s.relevantShown.reduce((a, b) => a + b, 0);
      sums.set(`${half}|${arm}`, sum);
    }
  }
}

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (x: number) => x.toFixed(2);
console.log(`${DAYS} days, ≤ ${limit} papers a day, readers with at least one relevant paper, mean of ${rotations} spreads of the corpus over the days\n`);
console.log('| half | readers | arm | P day 1 | P day 7 | P day 14 | P days 1–3 | P days 12–14 | relevant shown (14 days) |\n|---|---:|---|---:|---:|---:|---:|---:|---:|');
for (const half of HALVES) {
  for (const [arm] of ARMS) {
    const sum = sums.get(`${half}|${arm}`)!;
    const p = sum.precision.map((x) => x / rotations);
    console.log(`| ${half} | ${readersOf[half]!.length} | ${arm} | ${f(p[0]!)} | ${f(p[6]!)} | ${f(p[13]!)} | ${f(avg(p.slice(0, 3)))} | ${f(avg(p.slice(11)))} | ${f(sum.relevant / rotations)} |`);
  }
}
await database.close();
