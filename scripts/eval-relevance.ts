// Relevance of digests on the labelled typed interests (test/fixtures/relevance-typed.json),
// for both halves, against two baselines measured in the same run: `papers search`
// with the same words, and the matcher as it was before the relevance work (commit
// BASELINE, read from git into a cached tree with its own dependencies).
// Usage: npx tsx scripts/eval-relevance.ts [--limit 25] [--verbose] [--no-baseline] [--dev-only]
// --dev-only prints the development half alone: what tuning may look at (the held-out half is reported, not tuned on).
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database_ } from '../src/db/client.js';
import { digestRetriever, evaluate, summarise, type Label, type Retriever } from '../src/digests/relevance-eval.js';
import { searchPapers } from '../src/papers/paper-repo.js';
import { loadSampleIfEmpty } from '../src/papers/sample-corpus.js';

const BASELINE = '6415ee2';
const args = process.argv.slice(2);
const limit = Number(args[args.indexOf('--limit') + 1]) || 25;
const verbose = args.includes('--verbose');
const halves = args.includes('--dev-only') ? (['dev'] as const) : (['dev', 'heldout'] as const);
const root = fileURLToPath(new URL('..', import.meta.url));
const { labels } = JSON.parse(readFileSync(join(root, 'test/fixtures/relevance-typed.json'), 'utf8')) as { labels: Label[] };
const NOW = new Date('2025-12-31T00:00:00Z');

async function sampleDatabase(): Promise<Database_> {
  const database = await openDatabase(':memory:');
  await loadSampleIfEmpty(database, new Date('2025-12-30T00:00:00Z'));
  return database;
}

/**
 * A tree of BASELINE with its own dependencies (its package-lock.json, installed once with
 * `npm ci`), cached under node_modules/.cache keyed by commit: the baseline used drizzle-orm,
 * which this version no longer installs.
 */
function baselineTree(): string {
  const commit = execFileSync('git', ['rev-parse', BASELINE], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(root, 'node_modules/.cache/paperboy', `baseline-${commit}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execSync(`git archive ${commit} package.json package-lock.json src migrations samples | tar -x -C ${dir}`, { cwd: root });
  console.error(`installing the baseline's dependencies once into ${dir} (npm ci, about a minute)`);
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(join(dir, '.complete'), `${commit}\n`);
  return dir;
}

/** The matcher at BASELINE, run on its own copy of the sample corpus. */
async function baselineRetriever(): Promise<Retriever> {
  const dir = baselineTree();
  const client = await import(join(dir, 'src/db/client.ts'));
  const sample = await import(join(dir, 'src/papers/sample-corpus.ts'));
  const ci = await import(join(dir, 'src/digests/candidate-index.ts'));
  const builder = await import(join(dir, 'src/digests/digest-builder.ts'));
  const database = client.openDatabase(':memory:');
  sample.loadSampleIfEmpty(database, new Date('2025-12-30T00:00:00Z'));
  const index = ci.createCandidateIndex(database, '0000', NOW);
  return (interest) =>
    builder.buildDigest(index, { topics: [], keywords: [interest], exclude: [] }, { since: '0000', now: NOW, limit, alreadySent: () => false }).map((i: { id: string }) => i.id);
}

const database = await sampleDatabase();
// Search is asynchronous: every labelled interest is searched up front.
const searched = new Map<string, string[]>();
for (const l of labels) searched.set(l.interest, (await searchPapers(database, l.interest, limit)).map((p) => p.id));
const retrievers: [string, Retriever][] = [
  ['digest (this version)', await digestRetriever(database, limit, NOW)],
  ['papers search', (q) => searched.get(q) ?? []],
];
if (!args.includes('--no-baseline')) retrievers.push([`digest before (${BASELINE})`, await baselineRetriever()]);

const f = (x: number) => x.toFixed(2);
console.log(`limit ${limit}; ${labels.length} labelled interests\n`);
console.log('| retriever | half | readers | macro F1 | P@10 | empty (with relevant papers) |\n|---|---|---:|---:|---:|---:|');
for (const [name, retrieve] of retrievers) {
  for (const half of halves) {
    const s = summarise(evaluate(labels.filter((l) => l.half === half), retrieve));
    console.log(`| ${name} | ${half} | ${s.readers} | ${f(s.macroF1)} | ${f(s.precisionAt10)} | ${s.empty} (${s.emptyWithRelevant}) |`);
  }
}
if (verbose) {
  const titles = new Map((await database.all<{ id: string; title: string }>('SELECT id, title FROM papers')).map((r) => [r.id, r.title]));
  const t = (ids: string[]) => ids.map((id) => `    - ${titles.get(id)?.slice(0, 90)}`).join('\n');
  const half = args.includes('--heldout') && !args.includes('--dev-only') ? 'heldout' : 'dev';
  for (const s of evaluate(labels.filter((l) => l.half === half), retrievers[0]![1])) {
    console.log(`\n${s.interest}: F1 ${f(s.f1)} (sent ${s.sent}, relevant ${s.relevant}, hits ${s.hits})\n  false positives:\n${t(s.falsePositives)}\n  missed:\n${t(s.missed)}`);
  }
}
await database.close();
