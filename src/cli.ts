import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { migrate, openDatabase } from './db/client.js';
import { AppError, InputError } from './errors.js';
import { createLogger } from './logger.js';
import { createServices, serve, type Services } from './main.js';
import { applyFiles, ImportFormat, parseFiles } from './papers/import-service.js';
import { runIngest } from './papers/ingest-service.js';
import { countPapers, searchPapers } from './papers/paper-repo.js';
import { utcDate } from './papers/parsers/dates.js';
import { collectStats } from './stats-service.js';
import { progressBar } from './cli-progress-bar.js';

/** Bad usage or bad input: exit code 2. */
class UsageError extends Error {}

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const err = (s: string): void => void process.stderr.write(`${s}\n`);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function isoDay(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be a date as YYYY-MM-DD');
  }
  return value;
}

/** Opens the services for one command and always closes them. */
async function withServices<T>(fn: (s: Services) => T | Promise<T>): Promise<T> {
  const config = loadConfig();
  const s = createServices(config, createLogger(process.env.LOG_LEVEL ?? 'warn'));
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}

/** Builds the `paperboy` command tree. */
export function buildProgram(): Command {
  const program = new Command('paperboy')
    .description('Personalised research-paper digests by email')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('run the web server and the scheduler')
    .action(async () => serve(loadConfig()));

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(() => {
      const config = loadConfig();
      const { sqlite } = openDatabase(config.databasePath, { migrate: false });
      const applied = migrate(sqlite);
      sqlite.close();
      out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    });

  program
    .command('import')
    .description('import papers from files (HF daily_papers JSON, arXiv Atom/RSS, Paperboy JSON/JSONL, listing pages)')
    .argument('<files...>', 'files to import')
    .option('--format <format>', `one of ${ImportFormat.options.join(', ')} (default: detect)`, (v) => {
      const parsed = ImportFormat.safeParse(v);
      if (!parsed.success) throw new InvalidArgumentError(`must be one of ${ImportFormat.options.join(', ')}`);
      return parsed.data;
    })
    .option('--as-of <date>', 'reference date for yearless listing dates (default: today)', isoDay)
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], opts: { format?: ImportFormat; asOf?: string; json?: boolean }) =>
      withServices((s) => {
        const now = new Date();
        const parsed = parseFiles(files, opts.format, opts.asOf ?? utcDate(now));
        const bar = progressBar('importing', parsed.length);
        const results = applyFiles(s.database, parsed, now).map((r) => (bar.increment(), r));
        bar.stop();
        const total = results.reduce(
          (t, r) => ({ read: t.read + r.read, inserted: t.inserted + r.inserted, updated: t.updated + r.updated, unchanged: t.unchanged + r.unchanged, incomplete: t.incomplete + r.incomplete }),
          { read: 0, inserted: 0, updated: 0, unchanged: 0, incomplete: 0 },
        );
        const stored = countPapers(s.database);
        if (opts.json) {
          out(JSON.stringify({ files: results.map(({ papers: _p, ...r }) => r), ...total, papers: stored }));
          return;
        }
        for (const r of results) {
          err(`${r.file} [${r.format}]: ${r.read} entries, ${r.inserted} new, ${r.updated} updated, ${r.unchanged} unchanged${r.incomplete ? `, ${r.incomplete} incomplete entries skipped` : ''}`);
        }
        out(`read ${total.read} entries from ${results.length} file(s): ${total.inserted} new papers, ${total.updated} updated, ${total.unchanged} unchanged; ${stored} distinct papers stored`);
      }),
    );

  program
    .command('ingest')
    .description('fetch papers from the configured sources (Hugging Face Daily Papers, arXiv)')
    .option('--date <date>', 'Daily Papers date to fetch (default: the latest complete day)', isoDay)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { date?: string; json?: boolean }) =>
      withServices(async (s) => {
        const results = await runIngest(s.database, s.config, createLogger('info'), { now: new Date(), date: opts.date });
        if (opts.json) out(JSON.stringify(results));
        else for (const r of results) out(r.ok ? `${r.source}: ${r.fetched} fetched, ${r.inserted} new, ${r.updated} updated` : `${r.source}: FAILED ${r.error}`);
        if (results.length && results.every((r) => !r.ok)) process.exitCode = 1;
      }),
    );

  const papers = program.command('papers').description('query stored papers');
  papers
    .command('search')
    .description('full-text search, best first')
    .argument('<query>', 'words or "quoted phrases"')
    .option('--json', 'print paper records as JSON')
    .option('--limit <n>', 'maximum results', positiveInt, 10)
    .action((query: string, opts: { json?: boolean; limit: number }) =>
      withServices((s) => {
        const found = searchPapers(s.database, query, opts.limit);
        if (opts.json) return out(JSON.stringify(found, null, 2));
        if (!found.length) return out('no papers match');
        found.forEach((p, i) => {
          const who = p.organization ?? (p.authorCount ? `${p.authorCount} authors` : '');
          out(`${String(i + 1).padStart(2)}. ${p.title}`);
          out(`    ${[p.id, who, p.publishedAt, p.upvotes ? `▲ ${p.upvotes}` : ''].filter(Boolean).join(' · ')}`);
        });
      }),
    );

  program
    .command('stats')
    .description('counts of papers, subscribers and digests')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) =>
      withServices((s) => {
        const stats = collectStats(s.database);
        if (opts.json) return out(JSON.stringify(stats));
        out(`papers: ${stats.papers}`);
        out(`subscribers: ${Object.entries(stats.subscribers).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        out(`digests: sent ${stats.digests.sent}, skipped ${stats.digests.skipped}, failed ${stats.digests.failed}`);
      }),
    );

  return program;
}

/** Runs the CLI and maps failures to exit codes: 1 failure, 2 bad usage or input. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? 0 : 2;
    } else if (e instanceof InputError || e instanceof UsageError || e instanceof ConfigError) {
      err(`paperboy: ${e.message}`);
      process.exitCode = 2;
    } else if (e instanceof AppError && e.status < 500) {
      err(`paperboy: ${e.message}${e.issues.map((i) => `\n  ${i.field}: ${i.message}`).join('')}`);
      process.exitCode = 2;
    } else {
      err(`paperboy: ${(e as Error).stack ?? String(e)}`);
      process.exitCode = 1;
    }
  }
}
