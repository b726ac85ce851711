import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, guessedPublicUrlWarning, loadConfig } from './config.js';
import { applyMigrations, openDatabase } from './db/client.js';
import { AppError, InputError, isDatabaseBusy, OperatorError } from './errors.js';
import { createLogger } from './logger.js';
import { createServices, serve, work, type Services } from './main.js';
import { applyFiles, ImportFormat, parseFiles } from './papers/import-service.js';
import { runIngest, type SourceResult } from './papers/ingest-service.js';
import { countPapers, searchPapers } from './papers/paper-repo.js';
import { utcDate } from './papers/parsers/dates.js';
import { collectStats } from './stats-service.js';
import { progressBar } from './cli-progress-bar.js';
import { addSubscriber, importSubscribers } from './subscribers/subscriber-admin.js';
import { parseSubscriberCsv, toSubscriberCsv } from './subscribers/subscriber-csv.js';
import { listSubscribers, publicSubscriber } from './subscribers/subscriber-repo.js';
import { Email, Preferences } from './subscribers/subscription-input.js';
import { TOPICS, topicQuery } from './subscribers/topic-catalogue.js';
import { fieldIssues } from './errors.js';
import { readFileSync } from 'node:fs';
import { previewDigest } from './digests/digest-preview.js';
import { registerBackupCommands } from './cli-backup.js';
import { registerDbCommands } from './cli-db.js';
import { registerBounceCommands } from './bounces/bounces-cli.js';
import { eraseByEmail, exportByEmail } from './privacy/reader-data.js';

/** Bad usage or bad input: exit code 2. */
class UsageError extends Error {}
/** The version in package.json, for `paperboy --version`. */
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const STATUSES = ['pending', 'active', 'paused', 'unsubscribed', 'bounced'];

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const err = (s: string): void => void process.stderr.write(`${s}\n`);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function isoInstant(value: string): string {
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) throw new InvalidArgumentError('must be an ISO date or time, e.g. 2026-11-23T08:00:00Z');
  return new Date(t).toISOString();
}

function isoDay(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be a date as YYYY-MM-DD');
  }
  return value;
}

/** Warns on stderr when mail this command writes gets links to a base URL guessed without PUBLIC_URL (development). */
function warnGuessedPublicUrl(s: Services): void {
  const warning = guessedPublicUrlWarning(s.config);
  if (warning) err(warning);
}

/** Opens the services for one command and always closes them. */
async function withServices<T>(fn: (s: Services) => T | Promise<T>): Promise<T> {
  const config = loadConfig();
  const s = await createServices(config, createLogger(process.env.LOG_LEVEL ?? 'warn'));
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Builds the `paperboy` command tree. */
export function buildProgram(): Command {
  const program = new Command('paperboy')
    .description('Personalised research-paper digests by email')
    .version(PACKAGE_VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('run the web server and the scheduler')
    .action(async () => serve(loadConfig()));

  program
    .command('worker')
    .description('run the scheduled jobs without the web server (digests, mail and webhook queues, ingest); several may run at once')
    .action(async () => work(loadConfig()));

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const config = loadConfig();
      const database = await openDatabase(config.database, { migrate: false });
      try {
        const applied = await applyMigrations(database);
        out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await database.close();
      }
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
      withServices(async (s) => {
        const now = new Date();
        const parsed = parseFiles(files, opts.format, opts.asOf ?? utcDate(now));
        const bar = progressBar('importing', parsed.length);
        const results = (await applyFiles(s.database, parsed, now)).map((r) => (bar.increment(), r));
        bar.stop();
        const total = results.reduce(
          (t, r) => ({ read: t.read + r.read, inserted: t.inserted + r.inserted, updated: t.updated + r.updated, unchanged: t.unchanged + r.unchanged, incomplete: t.incomplete + r.incomplete }),
          { read: 0, inserted: 0, updated: 0, unchanged: 0, incomplete: 0 },
        );
        const stored = await countPapers(s.database);
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
        // Each source is reported as it finishes: on stdout, or on stderr with --json (stdout then carries only the per-source array).
        const report = (r: SourceResult) => (opts.json ? err : out)(r.ok ? `${r.source}: ${r.fetched} fetched, ${r.inserted} new, ${r.updated} updated` : `${r.source}: FAILED ${r.error}`);
        const results = await runIngest(s.database, s.config, createLogger(process.env.LOG_LEVEL ?? 'warn'), { now: new Date(), date: opts.date, onSource: report });
        if (opts.json) out(JSON.stringify(results));
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
      withServices(async (s) => {
        const found = await searchPapers(s.database, query, opts.limit);
        if (opts.json) return out(JSON.stringify(found, null, 2));
        if (!found.length) return out('no papers match');
        found.forEach((p, i) => {
          const who = p.organization ?? (p.authorCount ? `${p.authorCount} authors` : '');
          out(`${String(i + 1).padStart(2)}. ${p.title}`);
          out(`    ${[p.id, who, p.publishedAt, p.upvotes ? `▲ ${p.upvotes}` : ''].filter(Boolean).join(' · ')}`);
        });
      }),
    );

  const topics = program.command('topics').description('the topic catalogue');
  topics
    .command('list')
    .description('list catalogue topics and their queries')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => {
      if (opts.json) return out(JSON.stringify(TOPICS.map((t) => ({ ...t, query: topicQuery(t) })), null, 2));
      for (const t of TOPICS) out(`${t.slug.padEnd(26)} ${t.name}\n${' '.repeat(27)}${t.description}`);
    });

  registerSubscriberCommands(program);
  registerDigestCommands(program);
  registerBackupCommands(program);
  registerDbCommands(program);
  registerBounceCommands(program);

  program
    .command('stats')
    .description('counts of papers, subscribers and digests')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) =>
      withServices(async (s) => {
        const stats = await collectStats(s.database);
        if (opts.json) return out(JSON.stringify(stats));
        out(`papers: ${stats.papers}`);
        out(`subscribers: ${Object.entries(stats.subscribers).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        out(`digests: sent ${stats.digests.sent}, skipped ${stats.digests.skipped}, failed ${stats.digests.failed}`);
        for (const [name, st] of Object.entries(stats.sources)) {
          out(`source ${name}: ${st.ok ? `ok, ${st.fetched} fetched` : `FAILED: ${st.lastError}`} (last run ${st.lastRunAt}; last success ${st.lastOkAt ?? 'never'})`);
        }
        const run = stats.lastDigestRun;
        out(run ? `last digest run ${run.at}${run.runs > 1 ? ` (${run.runs} processes)` : ''}: ${run.due} due, sent ${run.sent}, skipped ${run.skipped} (nothing matched), failed ${run.failed}${run.inFlight ? `, ${run.inFlight} in flight` : ''}` : 'last digest run: none yet');
        const { relay } = stats;
        if (relay.lastError) out(`relay: ${relay.alert ? 'FAILING' : 'ok'}; last error ${relay.lastError.at} (${relay.lastError.source}): ${relay.lastError.reason}: ${relay.lastError.error}`);
      }),
    );

  return program;
}

const splitList = (v: string) => v.split(/[;,]/).map((s) => s.trim()).filter(Boolean);

function registerSubscriberCommands(program: Command): void {
  const subs = program.command('subscribers').description('manage subscribers');
  subs
    .command('add')
    .description('add a subscriber (pending with a confirmation email, or active with --confirmed)')
    .argument('<email>')
    .option('--topics <slugs>', 'topic slugs separated by ";" or ","', splitList, [])
    .option('--keywords <terms>', 'keywords separated by ";" or ","', splitList, [])
    .option('--exclude <terms>', 'excluded keywords separated by ";" or ","', splitList, [])
    .option('--seeds <papers>', 'papers to follow ("papers like these"): arXiv ids or links, or titles, separated by ";"', (v: string) => v.split(';').map((x) => x.trim()).filter(Boolean), [])
    .option('--authors <names>', 'authors to follow, separated by ";" or ","', splitList, [])
    .option('--frequency <f>', 'daily or weekly')
    .option('--weekday <n>', '1 (Monday) to 7 (Sunday)')
    .option('--hour <h>', 'local delivery hour, 0-23')
    .option('--timezone <tz>', 'IANA time zone')
    .option('--max-papers <n>', 'papers per digest')
    .option('--confirmed', 'consent was obtained elsewhere: make the subscriber active at once')
    .action(async (email: string, opts: Record<string, unknown>) =>
      withServices(async (s) => {
        const { confirmed, ...rest } = opts;
        const parsedEmail = Email.safeParse(email);
        if (!parsedEmail.success) throw new UsageError(`email: ${parsedEmail.error.issues[0]!.message}`);
        const prefs = Preferences.safeParse(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
        if (!prefs.success) throw new AppError('validation', 'Invalid subscriber.', fieldIssues(prefs.error));
        const sub = await addSubscriber(s.database, parsedEmail.data, prefs.data, Boolean(confirmed), new Date());
        if (sub.status === 'pending') warnGuessedPublicUrl(s);
        await s.outbound.run();
        out(`${sub.email}: ${sub.status}${sub.status === 'pending' ? ' (confirmation email queued)' : ''}`);
      }),
    );
  subs
    .command('list')
    .description('list subscribers')
    .option('--json', 'print as JSON')
    .option('--status <status>', 'only this status')
    .action((opts: { json?: boolean; status?: string }) =>
      withServices(async (s) => {
        if (opts.status && !STATUSES.includes(opts.status)) throw new UsageError(`--status: unknown status "${opts.status}"; one of ${STATUSES.join(', ')}`);
        const all = (await listSubscribers(s.database)).filter((x) => !opts.status || x.status === opts.status);
        if (opts.json) return out(JSON.stringify(all.map(publicSubscriber)));
        for (const x of all) out(`${x.email}\t${x.status}\t${x.frequency}${x.frequency === 'weekly' ? `/${x.weekday}` : ''} ${String(x.hour).padStart(2, '0')}:00 ${x.timezone}\t${[...x.topics, ...x.keywords.map((k) => `"${k}"`)].join(', ')}`);
        if (!all.length) err('no subscribers');
      }),
    );
  subs
    .command('remove')
    .description('delete a subscriber and all their data')
    .argument('<email>')
    .action((email: string) =>
      withServices(async (s) => {
        // Everything goes; a bounced address stays on the suppression list as a hash only (src/privacy/reader-data.ts).
        if (!(await eraseByEmail(s.database, email.trim().toLowerCase(), new Date()))) throw new UsageError(`${email}: no such subscriber`);
        out(`${email}: removed`);
      }),
    );
  subs
    .command('import')
    .description('import subscribers from CSV (columns: email,status,topics,keywords,exclude,frequency,weekday,hour,timezone,max_papers,seeds,authors)')
    .argument('<file>', 'CSV file')
    .option('--confirmed', 'consent was obtained elsewhere: keep statuses (default active) instead of asking each address to confirm')
    .option('--override-suppression', 're-add addresses that unsubscribed or bounced (recorded in their consent log); without it they are left as they are')
    .action(async (file: string, opts: { confirmed?: boolean; overrideSuppression?: boolean }) =>
      withServices(async (s) => {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          throw new InputError(file, null, `cannot read (${(e as NodeJS.ErrnoException).code})`);
        }
        const rows = parseSubscriberCsv(text, file);
        const counts = await importSubscribers(s.database, rows, { confirmed: Boolean(opts.confirmed), overrideSuppression: Boolean(opts.overrideSuppression) }, new Date());
        if (counts.confirmationsQueued) warnGuessedPublicUrl(s);
        const bar = progressBar('sending confirmations', counts.confirmationsQueued);
        await s.outbound.run();
        bar.stop();
        out(`${rows.length} rows: ${counts.added} added, ${counts.updated} updated, ${counts.confirmationsQueued} confirmation emails queued`);
        if (counts.suppressed) out(`${counts.suppressed} unsubscribed or bounced addresses left as they are (--override-suppression re-adds them)`);
        if (counts.overridden) out(`${counts.overridden} unsubscribed or bounced addresses re-added (--override-suppression)`);
      }),
    );
  subs
    .command('export')
    .description('write all subscribers as CSV to stdout (same columns as import); with --email X --json, everything held about one reader')
    .option('--email <address>', 'one reader: their subscription, consent log, deliveries, mail and suppression (needs --json)')
    .option('--json', 'with --email: print as JSON')
    .action((opts: { email?: string; json?: boolean }) =>
      withServices(async (s) => {
        if (!opts.email) return void process.stdout.write(toSubscriberCsv(await listSubscribers(s.database)));
        if (!opts.json) throw new UsageError('--email: add --json (a reader\'s data is a JSON document)');
        const data = await exportByEmail(s.database, opts.email, new Date());
        if (!data) throw new UsageError(`${opts.email}: no such subscriber`);
        out(JSON.stringify(data));
      }),
    );
}

function registerDigestCommands(program: Command): void {
  const digest = program.command('digest').description('preview and send digests');
  digest
    .command('preview')
    .description('what this subscriber would get now (sends and records nothing)')
    .argument('<email>')
    .option('--json', 'print { "papers": [ { "id", "title", "score", "why" } ] }')
    .option('--limit <n>', 'maximum papers (default: the subscriber\'s setting)', positiveInt)
    .option('--since <iso>', 'consider papers first seen after this time', isoInstant)
    .option('--now <iso>', 'pretend it is this time', isoInstant)
    .action((email: string, opts: { json?: boolean; limit?: number; since?: string; now?: string }) =>
      withServices(async (s) => {
        const now = opts.now ? new Date(opts.now) : new Date();
        const { since, papers } = await previewDigest(s.database, email, { now, since: opts.since, limit: opts.limit, lookbackDays: s.config.lookbackDays });
        if (opts.json) return out(JSON.stringify({ papers: papers.map(({ id, title, score, why }) => ({ id, title, score, why })) }, null, 2));
        err(`papers first seen after ${since}`);
        if (!papers.length) return out('nothing matches: no digest would be sent');
        papers.forEach((p, i) => out(`${String(i + 1).padStart(2)}. [${p.score.toFixed(3)}] ${p.title}\n     ${p.why}`));
      }),
    );
  digest
    .command('run')
    .description('send every digest that is due')
    .option('--now <iso>', 'pretend it is this time (decides who is due and which period)', isoInstant)
    .option('--dry-run', 'work out what would be sent; send and record nothing')
    .option('--json', 'print the summary as JSON')
    .action((opts: { now?: string; dryRun?: boolean; json?: boolean }) =>
      withServices(async (s) => {
        let bar: ReturnType<typeof progressBar> | null = null;
        if (!opts.dryRun) warnGuessedPublicUrl(s);
        const interrupt = stopOnSignal();
        const summary = await s.runDigests({
          now: opts.now ? new Date(opts.now) : new Date(),
          dryRun: opts.dryRun,
          signal: interrupt.signal,
          onProgress: (done, total) => {
            bar ??= progressBar(opts.dryRun ? 'planning' : 'sending', total);
            bar.increment();
          },
        }).finally(interrupt.done);
        (bar as ReturnType<typeof progressBar> | null)?.stop();
        // Any failure, early stop or interruption exits 1, with --json as without it.
        if (summary.failed > 0 || summary.stopped || summary.interrupted) process.exitCode = 1;
        if (opts.json) return out(JSON.stringify(summary));
        const verb = summary.dryRun ? 'would send' : 'sent';
        out(`${summary.due} due: ${verb} ${summary.sent}, skipped ${summary.skipped} (nothing matched), failed ${summary.failed}${summary.resumed ? `, resumed ${summary.resumed} interrupted` : ''}${summary.busy ? `, ${summary.busy} handled by another process` : ''}${summary.deferred ? `, ${summary.deferred} left for the next run` : ''}`);
        if (summary.interrupted) err('paperboy: run interrupted: the digests in flight were sent and recorded, the rest is left for the next run');
        if (summary.stopped) err(`paperboy: run stopped early, the relay keeps failing (${summary.stopped.reason}): ${summary.stopped.error}; nobody was suppressed`);
      }),
    );
}

/**
 * The first SIGTERM/SIGINT aborts the returned signal (a digest run then finishes
 * what is in flight and hands the rest back); a second one quits at once.
 * `done()` puts the default handling back.
 */
function stopOnSignal(): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(name === 'SIGINT' ? 130 : 143);
    err(`paperboy: ${name}: finishing the digests in flight, leaving the rest for the next run (${name} again quits at once)`);
    controller.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    done: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

/** Runs the CLI and maps failures to exit codes: 1 failure, 2 bad usage or input. */
export async function runCli(argv: string[]): Promise<void> {
  // `paperboy … | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? 0 : 2;
    } else if (e instanceof InputError || e instanceof UsageError || e instanceof ConfigError) {
      err(`paperboy: ${e.message}`);
      process.exitCode = 2;
    } else if (e instanceof OperatorError) {
      err(`paperboy: ${e.message}`);
      process.exitCode = 1;
    } else if (isDatabaseBusy(e)) {
      // Another import or a digest run held the write lock past the busy timeout.
      err('paperboy: the database is busy (another process is writing to it); retry in a moment (what was already written stays, and a re-run leaves it unchanged)');
      process.exitCode = 1;
    } else if (e instanceof AppError && e.status < 500) {
      err(`paperboy: ${e.message}${e.issues.map((i) => `\n  ${i.field}: ${i.message}`).join('')}`);
      process.exitCode = 2;
    } else {
      err(`paperboy: ${(e as Error).stack ?? String(e)}`);
      process.exitCode = 1;
    }
  }
}
