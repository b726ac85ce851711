import type { Command } from 'commander';
import { backupDatabase, restoreDatabase } from './backup.js';
import { loadConfig } from './config.js';

const out = (s: string): void => void process.stdout.write(`${s}\n`);

/** `paperboy backup FILE` and `paperboy restore FILE` (no services opened: a backup must not run migrations or seed anything). */
export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('copy the database consistently while Paperboy runs (SQLite backup API), then check the copy')
    .argument('<file>', 'where to write the copy')
    .option('--json', 'print what was written as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const report = await backupDatabase(loadConfig().databasePath, file);
      if (opts.json) return out(JSON.stringify(report));
      out(`${report.file}: ${Math.round(report.bytes / 1024)} kB, schema ${report.schemaVersion}, ${report.subscribers} subscribers, integrity ok${report.queueFile ? `; unsubscribe queue in ${report.queueFile}` : ''}`);
    });
  program
    .command('restore')
    .description('put a backup in place of the database after checks (stop `paperboy serve` first); the current one is kept beside it')
    .argument('<file>', 'a file made by `paperboy backup`')
    .option('--json', 'print what was restored as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const report = await restoreDatabase(file, loadConfig().databasePath, new Date());
      if (opts.json) return out(JSON.stringify(report));
      out(`restored ${file} to ${report.file}: schema ${report.schemaVersion}, ${report.subscribers} subscribers, integrity ok${report.previous ? `; the previous database is kept as ${report.previous}` : ''}`);
    });
}
