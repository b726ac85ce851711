import { copyFileSync, existsSync, openSync, readSync, closeSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { listMigrations, migrate } from './db/client.js';
import { InputError, isDatabaseBusy } from './errors.js';

// `paperboy backup FILE` and `paperboy restore FILE` (issue 16). The backup
// uses SQLite's online backup API (better-sqlite3's .backup()): it copies a
// consistent snapshot page by page while the server and digest runs keep
// writing (see the progress callback below for why it cannot restart forever). The
// unsubscribe queue (<db>.unsubscribe-queue) is copied beside it, since an
// unsubscribe may wait there while the database is busy.

const QUEUE_SUFFIX = '.unsubscribe-queue';

/** What a backup or restore checked and wrote. */
export interface BackupReport {
  file: string;
  bytes: number;
  schemaVersion: number;
  subscribers: number;
  queueFile: string | null;
}

/** A backup file must be a SQLite database that passes integrity_check and foreign_key_check, from this version or older. */
export function checkBackup(file: string): { schemaVersion: number; subscribers: number } {
  if (!existsSync(file)) throw new InputError(file, null, 'no such file');
  if (statSync(file).isDirectory()) throw new InputError(file, null, 'is a folder, not a backup file');
  const header = Buffer.alloc(16);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== 'SQLite format 3\0') throw new InputError(file, null, 'not a SQLite database');
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new InputError(file, null, `integrity_check failed: ${String(integrity)}`);
    const broken = db.pragma('foreign_key_check') as unknown[];
    if (broken.length) throw new InputError(file, null, `${broken.length} rows with a broken foreign key`);
    const hasMigrations = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").get();
    if (!hasMigrations) throw new InputError(file, null, 'not a Paperboy database (no schema_migrations table)');
    const schemaVersion = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
    const latest = Math.max(0, ...listMigrations().map((m) => m.version));
    if (schemaVersion > latest) throw new InputError(file, null, `made by a newer Paperboy (schema ${schemaVersion}; this one knows up to ${latest})`);
    const subscribers = (db.prepare('SELECT count(*) AS n FROM subscribers').get() as { n: number }).n;
    return { schemaVersion, subscribers };
  } catch (err) {
    // A valid header over damaged or missing pages (a copy cut short) only shows when SQLite reads them.
    if (err instanceof Database.SqliteError && !isDatabaseBusy(err)) {
      const damaged = err.code === 'SQLITE_CORRUPT' || err.code === 'SQLITE_NOTADB';
      throw new InputError(file, null, damaged ? `not a valid, complete backup (corrupt or truncated: ${err.message})` : `cannot be read as a backup (${err.message})`);
    }
    throw err;
  } finally {
    db?.close();
  }
}

/** The files that make up the live database, and what each is: writing over any of them would damage it. */
function liveFiles(databasePath: string): [path: string, what: string][] {
  // SQLite keeps -wal/-shm beside the file a symlinked DATABASE_PATH points to.
  return [...new Set([databasePath, canonicalPath(databasePath)])].flatMap((db): [string, string][] => [
    [db, 'the live database'],
    [`${db}-wal`, "the live database's -wal file"],
    [`${db}-shm`, "the live database's -shm file"],
    [`${db}-journal`, "the live database's -journal file"],
    [db + QUEUE_SUFFIX, "the live database's unsubscribe queue"],
  ]);
}

/** The absolute path with symlinks and `.`/`..` resolved; for a file not there yet, its folder's. */
function canonicalPath(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    // Not there (yet): the file may still be reached through a symlinked folder.
  }
  try {
    return join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    return absolute;
  }
}

/** Whether two spellings (relative, `./`, symlinks, hard links) name one file. */
function sameFile(a: string, b: string): boolean {
  if (canonicalPath(a) === canonicalPath(b)) return true;
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  return Boolean(sa && sb && sa.dev === sb.dev && sa.ino === sb.ino);
}

/** Refuses a backup target whose folder is missing, that is a folder, or that would overwrite part of the live database. */
function checkBackupTarget(databasePath: string, file: string, writes: string[]): void {
  const folder = dirname(resolve(file));
  if (!existsSync(folder)) throw new InputError(file, null, `the folder ${folder} does not exist; create it or choose another file`);
  if (!statSync(folder).isDirectory()) throw new InputError(file, null, `${folder} is not a folder`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new InputError(file, null, 'is a folder; name the backup file to write');
  for (const [live, what] of liveFiles(databasePath)) {
    if (sameFile(file, live)) throw new InputError(file, null, `is ${what}; choose another file`);
    // The .partial and queue copies beside the backup must not land on it either (a live database named X.partial).
    if (writes.some((w) => sameFile(w, live))) throw new InputError(file, null, `backing up here would write over ${what} (${live}); choose another file`);
  }
}

/** Copies the live database (and its unsubscribe queue) to `file`, consistently, while Paperboy runs; then checks the copy. */
export async function backupDatabase(databasePath: string, file: string): Promise<BackupReport> {
  if (!existsSync(databasePath)) throw new InputError(databasePath, null, 'no database at DATABASE_PATH');
  const partial = `${file}.partial`;
  checkBackupTarget(databasePath, file, [partial, file + QUEUE_SUFFIX]);
  let checked: ReturnType<typeof checkBackup>;
  try {
    const source = new Database(databasePath, { readonly: true, fileMustExist: true });
    source.pragma('busy_timeout = 5000');
    try {
      rmSync(partial, { force: true });
      // After the first step, copy every remaining page in one step: one read
      // transaction, so a busy writer (a digest run) cannot make it restart forever.
      await source.backup(partial, { progress: ({ remainingPages }) => Math.max(100, remainingPages) });
    } finally {
      source.close();
    }
    // A copy in WAL mode would need its -wal file beside it; make it one self-contained file.
    const copy = new Database(partial);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    checked = checkBackup(partial);
    renameSync(partial, file);
  } catch (err) {
    // A failed backup leaves nothing half-written behind.
    rmSync(partial, { force: true });
    throw err;
  }
  const queue = databasePath + QUEUE_SUFFIX;
  let queueFile: string | null = null;
  if (existsSync(queue)) {
    const q = new Database(queue, { readonly: true });
    try {
      await q.backup(file + QUEUE_SUFFIX);
      queueFile = file + QUEUE_SUFFIX;
    } finally {
      q.close();
    }
  }
  return { file, bytes: statSize(file), ...checked, queueFile };
}

const statSize = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  } finally {
    db.close();
  }
};

/**
 * Puts a checked backup in place of the database (stop `paperboy serve` first).
 * The current database is kept as <db>.before-restore-<time>; the restored one
 * is migrated to this version's schema.
 */
export async function restoreDatabase(file: string, databasePath: string, now: Date): Promise<BackupReport & { previous: string | null }> {
  checkBackup(file);
  let previous: string | null = null;
  if (existsSync(databasePath)) {
    previous = `${databasePath}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
    const current = new Database(databasePath, { fileMustExist: true });
    try {
      // An exclusive lock fails fast if a server or run is writing right now.
      current.pragma('busy_timeout = 0');
      current.exec('BEGIN EXCLUSIVE; COMMIT;');
      await current.backup(previous);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new Error('the database is in use: stop `paperboy serve` (and any digest run) before restoring');
      throw err;
    } finally {
      current.close();
    }
  }
  const source = new Database(file, { readonly: true, fileMustExist: true });
  try {
    await source.backup(databasePath);
  } finally {
    source.close();
  }
  const restored = new Database(databasePath);
  try {
    restored.pragma('journal_mode = WAL');
    restored.pragma('foreign_keys = ON');
    migrate(restored);
  } finally {
    restored.close();
  }
  const queue = file + QUEUE_SUFFIX;
  let queueFile: string | null = null;
  if (existsSync(queue)) {
    copyFileSync(queue, databasePath + QUEUE_SUFFIX);
    queueFile = databasePath + QUEUE_SUFFIX;
  }
  const checked = checkBackup(databasePath);
  return { file: databasePath, bytes: statSize(databasePath), ...checked, queueFile, previous };
}
