import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailboxDeps, pollBounceMailbox } from '../../src/bounces/imap-poll.js';
import { emailHash } from '../../src/bounces/suppression.js';
import { verpAddress } from '../../src/bounces/verp.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { ROOT, startPaperboy } from '../helpers.js';
import { startImapServer } from './imap-test-server.js';

const SECRET = 'test-secret-test-secret-test-secret-0123'; // startPaperboy's
const BOUNCES = 'bounces@paperboy.example';
const READERS = ['hard.reader', 'soft.reader', 'angry.reader', 'away.reader', 'victim.reader', 'plain.reader'].map((r) => `${r}@example.org`);

type App = Awaited<ReturnType<typeof startPaperboy>>;

/** The real CLI in a child process, asynchronously (the IMAP server runs in this process). */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/paperboy.js'), ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'test', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Everything a poll may change. */
async function snapshot(app: App) {
  const q = (sql: string) => app.database.all(sql);
  return {
    subscribers: await q('SELECT id, status FROM subscribers ORDER BY id'),
    suppressions: await q('SELECT email_hash, subscriber_id, reason, source, detail FROM suppressions ORDER BY email_hash'),
    consent: await q('SELECT subscriber_id, event, method FROM consent_events ORDER BY id'),
    events: await q('SELECT provider, event_id, kind, subscriber_id FROM provider_events ORDER BY provider, event_id'),
  };
}

describe('the bounce mailbox over IMAP (imapflow against a local IMAP server with recorded messages)', () => {
  let app: App;
  let imap: Awaited<ReturnType<typeof startImapServer>>;
  let env: Record<string, string>;
  /** Each reader's id, looked up once they are inserted (the fixtures are signed synchronously). */
  const ids = new Map<string, number>();
  const id = (email: string) => ids.get(email)!;
  /** A fixture with its return paths signed for the readers it names ({{VERP:x}}), or signed with another secret ({{FORGED:x}}). */
  const fixture = (name: string, edit: (s: string) => string = (s) => s) =>
    Buffer.from(
      edit(readFileSync(join(ROOT, 'test/bounces/fixtures', name), 'utf8'))
        .replace(/\{\{VERP:([^}]+)\}\}/g, (_, e: string) => verpAddress(BOUNCES, SECRET, id(e), e))
        .replace(/\{\{FORGED:([^}]+)\}\}/g, (_, e: string) => verpAddress(BOUNCES, 'not-this-paperboys-secret-000000000000', id(e), e)),
    );

  beforeAll(async () => {
    imap = await startImapServer({ user: 'bounces', pass: 'imap pass "quoted"', messages: [] });
    app = await startPaperboy({ BOUNCE_ADDRESS: BOUNCES, IMAP_URL: imap.url(), SOFT_BOUNCE_LIMIT: '2', SOFT_BOUNCE_WINDOW_DAYS: '14' });
    for (const e of READERS) {
      await app.database.run("INSERT INTO subscribers (email, status, topics, created_at, updated_at, confirmed_at) VALUES (?, 'active', '[\"agents\"]', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')", [e]);
      ids.set(e, (await findByEmail(app.database, e))!.id);
    }
    env = { ...app.dbEnv, SECRET, BOUNCE_ADDRESS: BOUNCES, IMAP_URL: imap.url(), SOFT_BOUNCE_LIMIT: '2', LOG_LEVEL: 'info' };
    for (const name of ['dsn-hard-postfix.eml', 'dsn-soft-gmail.eml', 'arf-complaint.eml', 'vacation-reply.eml', 'dsn-forged-tag.eml', 'human-reply.eml']) imap.add(fixture(name));
    // No VERP tag at all (sent before BOUNCE_ADDRESS was set): the report's own recipient counts only when it is a subscriber.
    const untagged = (to: string, id: string) => (s: string) =>
      s.replace(/\{\{VERP:hard\.reader@example\.org\}\}/g, BOUNCES).replace(/old-alias@example\.net/g, to).replace('20261130100005.4Q1x2Y3z', id);
    imap.add(fixture('dsn-hard-postfix.eml', untagged('plain.reader@example.org', 'untagged-1')));
    imap.add(fixture('dsn-hard-postfix.eml', untagged('stranger@example.net', 'untagged-2')));
  });
  afterAll(async () => {
    await app.stop();
    await imap.close();
  });

  it('when `paperboy bounces poll` reads the mailbox, then hard bounces and complaints suppress at once, a soft bounce is counted, and auto-replies, forged tags and strangers suppress nobody', async () => {
    const r = await cli(['bounces', 'poll', '--json'], env);
    expect(r.stderr).not.toMatch(/"level":(50|60)/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ seen: 8, hard_bounce: 2, soft_bounce: 1, complaint: 1, auto_reply: 1, ignored: 1, forged: 1, unknown_recipient: 1, suppressed: 3, failed: 0, left: 0 });

    const status = async (e: string) => (await findByEmail(app.database, e))!.status;
    const suppression = (e: string) => app.database.get('SELECT reason, source, detail, subscriber_id AS "subscriberId" FROM suppressions WHERE email_hash = ?', [emailHash(e)]);
    const consent = (e: string) => app.database.all('SELECT event, method FROM consent_events WHERE subscriber_id = ? ORDER BY id', [id(e)]);
    // The Postfix DSN names only a forwarding alias: the signed return path says whose it was.
    expect(await status('hard.reader@example.org')).toBe('bounced');
    expect(await suppression('hard.reader@example.org')).toMatchObject({ reason: 'hard_bounce', source: 'imap', subscriberId: id('hard.reader@example.org') });
    expect(((await suppression('hard.reader@example.org')) as { detail: string }).detail).toMatch(/^5\.1\.1 smtp; 550 5\.1\.1 <o\*+@example\.net>/);
    expect(await consent('hard.reader@example.org')).toEqual([{ event: 'bounced', method: 'imap' }]);
    // The feedback loop redacted the recipient; the return path in Original-Mail-From names them.
    expect(await status('angry.reader@example.org')).toBe('bounced');
    expect(await suppression('angry.reader@example.org')).toMatchObject({ reason: 'complaint', source: 'imap' });
    expect(await consent('angry.reader@example.org')).toEqual([{ event: 'complained', method: 'imap' }]);
    expect(await status('plain.reader@example.org')).toBe('bounced');
    // One soft bounce of the two SOFT_BOUNCE_LIMIT allows: counted, not suppressed.
    expect(await status('soft.reader@example.org')).toBe('active');
    expect(await app.database.get("SELECT count(*) AS n FROM provider_events WHERE kind = 'soft_bounce' AND subscriber_id = ?", [id('soft.reader@example.org')])).toEqual({ n: 1 });
    // Nothing for the vacation reply (to a valid tag), the forged tag (naming a real reader), or the stranger.
    for (const e of ['away.reader@example.org', 'victim.reader@example.org', 'soft.reader@example.org']) {
      expect(await status(e), e).toBe('active');
      expect(await suppression(e), e).toBeUndefined();
      expect(await consent(e), e).toEqual([]);
    }
    expect(await suppression('stranger@example.net')).toBeUndefined();
    // Every message is marked \Seen, with only the commands the test server implements.
    expect(imap.inbox.every((m) => m.flags.has('\\Seen'))).toBe(true);
    const used = new Set(imap.commands.map((c) => c.split(' ').slice(1, 3).join(' ').replace(/^(?!UID )(\S+).*/, '$1')));
    expect(used).toEqual(new Set(['LOGIN', 'NAMESPACE', 'LIST', 'LSUB', 'SELECT', 'UID SEARCH', 'UID FETCH', 'UID STORE', 'LOGOUT']));
    expect(imap.commands.filter((c) => /UID FETCH/.test(c))[0]).toMatch(/BODY\.PEEK\[\]<0\.262144>/);
    // Logs name readers by id and masked address only.
    expect(r.stderr).toContain('bounce mailbox report');
    for (const e of [...READERS, 'stranger@example.net', 'old-alias@example.net']) expect(r.stderr, e).not.toContain(e);
  });

  it('when the mailbox is polled again, then nothing changes; when the \\Seen flags were lost, then every message is recognised and nothing changes either', async () => {
    const before = await snapshot(app);
    const deps = mailboxDeps(app)!;
    expect(await pollBounceMailbox(deps)).toMatchObject({ seen: 0, suppressed: 0 });
    expect(await snapshot(app)).toEqual(before);
    imap.inbox.forEach((m) => m.flags.clear());
    expect(await pollBounceMailbox(deps)).toMatchObject({ seen: 8, suppressed: 0, failed: 0 });
    expect(await snapshot(app)).toEqual(before);
  });

  it('when a second soft bounce arrives within the window, then the address is suppressed (soft_bounces) and the consent log says so', async () => {
    imap.add(fixture('dsn-soft-gmail.eml', (s) => s.replace('6a1b2c3d.050a0220.mailfull.0001', '6a1b2c3d.050a0220.mailfull.0002')));
    expect(await pollBounceMailbox(mailboxDeps(app)!)).toMatchObject({ seen: 1, soft_bounce: 1, suppressed: 1 });
    expect((await findByEmail(app.database, 'soft.reader@example.org'))!.status).toBe('bounced');
    expect(await app.database.get('SELECT reason, source FROM suppressions WHERE email_hash = ?', [emailHash('soft.reader@example.org')])).toEqual({ reason: 'soft_bounces', source: 'imap' });
  });

  it('when the IMAP password is wrong, then the poll exits 1 saying so and marks nothing', async () => {
    imap.add(fixture('human-reply.eml', (s) => s.replace('reply-1@example.net', 'reply-2@example.net')));
    const r = await cli(['bounces', 'poll'], { ...env, IMAP_URL: imap.url('bounces', 'wrong'), LOG_LEVEL: 'silent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('paperboy: bounce mailbox: the IMAP server refused the login for bounces (check IMAP_URL)\n');
    expect(r.stderr).not.toContain('wrong');
    expect(imap.inbox.at(-1)!.flags.size).toBe(0);
  });

  it('when the mailbox in IMAP_URL does not exist, then the poll exits 1 naming it', async () => {
    const r = await cli(['bounces', 'poll'], { ...env, IMAP_URL: imap.url().replace(/INBOX$/, 'Bounces'), LOG_LEVEL: 'silent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('paperboy: bounce mailbox: cannot open Bounces: no such mailbox\n');
  });

  it('when IMAP_URL is not set, then `bounces poll` exits 2 naming it', async () => {
    const r = await cli(['bounces', 'poll'], { ...env, IMAP_URL: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/IMAP_URL: not set/);
  });
});
