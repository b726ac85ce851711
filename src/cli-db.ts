import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from './config.js';
import { copyToPostgres } from './db/copy.js';

const out = (s: string): void => void process.stdout.write(`${s}\n`);

/** `paperboy db copy --to postgres://…`: moving a SQLite database (DATABASE_PATH) to PostgreSQL. */
export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('move data between databases');
  db.command('copy')
    .description('copy the SQLite database (DATABASE_PATH) into an empty PostgreSQL database, migrated first; one transaction, ids kept, row counts checked')
    .requiredOption('--to <url>', 'the PostgreSQL database, postgres://user:password@host:port/name')
    .option('--batch <rows>', 'rows per INSERT statement', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
      return n;
    })
    .option('--json', 'print the per-table counts as JSON')
    .action(async (opts: { to: string; batch?: number; json?: boolean }) => {
      const report = await copyToPostgres(loadConfig().databasePath, opts.to, { batch: opts.batch });
      if (opts.json) return out(JSON.stringify(report));
      const width = Math.max(...report.tables.map((t) => t.table.length));
      for (const t of report.tables) out(`${t.table.padEnd(width)}  ${t.copied}`);
      out(`copied ${report.rows} rows from ${report.from} to ${report.to} in ${(report.ms / 1000).toFixed(1)} s; every table's count matches the source`);
    });
}
