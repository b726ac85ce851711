import type { Command } from 'commander';
import { backupDatabase, restoreDatabase } from './backup.js';
import { ConfigError, loadConfig } from './config.js';
import { isPostgresUrl } from './db/client.js';

const out = (s: string): void => void process.stdout.write(`${s}\n`);

/**
 * The SQLite file to copy. Both commands use SQLite's backup API, so on
 * PostgreSQL they refuse (exit 2) and name the engine's own tools.
 */
function sqlitePath(command: 'backup' | 'restore'): string {
  const config = loadConfig();
  if (isPostgresUrl(config.database)) {
    const how =
      command === 'backup' ? 'pg_dump --format=custom --file=paperboy.dump "$DATABASE_URL"' : 'pg_restore --clean --if-exists --dbname="$DATABASE_URL" paperboy.dump';
    throw new ConfigError(`${command} works on SQLite only (DATABASE_URL names PostgreSQL): use PostgreSQL's own tools, e.g. ${how}`);
  }
  return config.databasePath;
}

/** `paperboy backup FILE` and `paperboy restore FILE` (no services opened: a backup must not run migrations or seed anything). */
export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('copy the SQLite database consistently while Paperboy runs (SQLite backup API), then check the copy; on PostgreSQL use pg_dump')
    .argument('<file>', 'where to write the copy')
    .option('--json', 'print what was written as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const report = await backupDatabase(sqlitePath('backup'), file);
      if (opts.json) return out(JSON.stringify(report));
      out(`${report.file}: ${Math.round(report.bytes / 1024)} kB, schema ${report.schemaVersion}, ${report.subscribers} subscribers, integrity ok${report.queueFile ? `; unsubscribe queue in ${report.queueFile}` : ''}`);
    });
  program
    .command('restore')
    .description('put a backup in place of the SQLite database after checks (stop `paperboy serve` first); the current one is kept beside it; on PostgreSQL use pg_restore')
    .argument('<file>', 'a file made by `paperboy backup`')
    .option('--json', 'print what was restored as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const report = await restoreDatabase(file, sqlitePath('restore'), new Date());
      if (opts.json) return out(JSON.stringify(report));
      out(`restored ${file} to ${report.file}: schema ${report.schemaVersion}, ${report.subscribers} subscribers, integrity ok${report.previous ? `; the previous database is kept as ${report.previous}` : ''}`);
    });
}
