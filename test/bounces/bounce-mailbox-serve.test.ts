import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verpAddress } from '../../src/bounces/verp.js';
import { openDatabase } from '../../src/db/client.js';
import { loadConfig } from '../../src/config.js';
import { databaseEnv, ROOT, tempDir } from '../helpers.js';
import { startImapServer } from './imap-test-server.js';

const SECRET = 'serve-secret-serve-secret-serve-secret-01';
const BOUNCES = 'bounces@paperboy.example';
const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('the scheduled bounce mailbox poll in serve', () => {
  it('when IMAP_URL is set, then serve reads the mailbox on IMAP_POLL_CRON and suppresses a hard bounce', async () => {
    const dbEnv = await databaseEnv(tmp.dir, 'serve');
    const database = await openDatabase(dbEnv.DATABASE_URL ?? dbEnv.DATABASE_PATH!);
    const { id } = (await database.get<{ id: number }>(
      "INSERT INTO subscribers (email, status, topics, created_at, updated_at, confirmed_at) VALUES ('hard.reader@example.org', 'active', '[]', ?, ?, ?) RETURNING id",
      ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'],
    ))!;
    const raw = readFileSync(join(ROOT, 'test/bounces/fixtures/dsn-hard-postfix.eml'), 'utf8').replace(/\{\{VERP:[^}]+\}\}/g, verpAddress(BOUNCES, SECRET, id, 'hard.reader@example.org'));
    const imap = await startImapServer({ user: 'bounces', pass: 'pw', messages: [Buffer.from(raw)] });
    const env = {
      ...process.env, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', ...dbEnv, OUTBOX_DIR: join(tmp.dir, 'outbox'), SECRET, LOG_LEVEL: 'info',
      SOURCES: 'hf', HF_API_URL: 'http://127.0.0.1:9', BOUNCE_ADDRESS: BOUNCES, IMAP_URL: imap.url(), IMAP_POLL_CRON: '*/2 * * * * *',
    };
    const child = spawn(process.execPath, [join(ROOT, 'bin/paperboy.js'), 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let logs = '';
    child.stderr.on('data', (d) => (logs += d));
    const status = async () => (await database.get<{ status: string }>('SELECT status FROM subscribers WHERE id = ?', [id]))!.status;
    try {
      const deadline = Date.now() + 40_000;
      // The poll logs its summary after marking the message seen: wait for the line too, not only the flag.
      while ((await status()) !== 'bounced' || !imap.inbox[0]!.flags.has('\\Seen') || !logs.includes('bounce mailbox polled')) {
        if (Date.now() > deadline) throw new Error(`serve did not poll the mailbox:\n${logs}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(logs).toContain('bounce mailbox polled');
      expect(logs).not.toContain('hard.reader@example.org');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await database.close();
      await imap.close();
    }
  }, 60_000);

  it('refuses a bad BOUNCE_ADDRESS or IMAP_URL at start, naming the variable', () => {
    expect(() => loadConfig({ BOUNCE_ADDRESS: 'bounces+x@paperboy.example' })).toThrow(/BOUNCE_ADDRESS: must be an address whose local part has no \+/);
    expect(() => loadConfig({ IMAP_URL: 'https://imap.example.org/INBOX' })).toThrow(/IMAP_URL: must be an imaps:\/\/ or imap:\/\/ URL/);
  });
});
