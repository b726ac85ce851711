import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServices } from '../../src/main.js';
import { upsertPapers } from '../../src/papers/paper-repo.js';
import type { PaperInput } from '../../src/papers/paper-record.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { collectStats } from '../../src/stats-service.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { onPostgres, ROOT, silentLog, startPaperboy, startSmtp } from '../helpers.js';

const DAY1 = new Date('2026-11-24T10:00:00Z');
const DAY2 = new Date('2026-11-25T10:00:00Z');

type App = Awaited<ReturnType<typeof startPaperboy>>;
type Smtp = Awaited<ReturnType<typeof startSmtp>>;

/** Active subscribers (confirmed long ago) who want a daily digest at 08:00 UTC. */
async function seedSubscribers(app: App, emails: string[], prefs: { topics?: string[]; keywords?: string[]; exclude?: string[] } = { topics: ['diffusion-models', 'interpretability', 'optimizers'] }) {
  const insert = `INSERT INTO subscribers (email, status, topics, keywords, exclude, hour, timezone, created_at, updated_at, confirmed_at)
     VALUES (?, 'active', ?, ?, ?, 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`;
  for (const e of emails) await app.database.run(insert, [e, JSON.stringify(prefs.topics ?? []), JSON.stringify(prefs.keywords ?? []), JSON.stringify(prefs.exclude ?? [])]);
}

/** How many deliveries are in a status. */
const inState = async (app: App, status: string) => (await app.database.get<{ n: number }>('SELECT count(*) AS n FROM deliveries WHERE status = ?', [status]))!.n;

const emails = (n: number, prefix = 'reader') => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.org`);
const messageIds = (smtp: Smtp, to: string) => new Set(smtp.received.filter((m) => m.envelopeTo.includes(to)).map((m) => m.parsed.messageId));

/** `paperboy digest run --json` in its own process, against the app's database and the test relay: the child, and its exit code and stdout once it closes. */
function digestRunProcess(app: App, smtp: Smtp, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/paperboy.js'), 'digest', 'run', '--json', '--now', DAY1.toISOString()], {
    env: { ...process.env, ...app.dbEnv, SMTP_URL: smtp.url, SECRET: 'test-secret-test-secret-test-secret-0123', PUBLIC_URL: 'https://paperboy.example', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.once('close', (code) => resolve({ code, out })));
  return { child, done };
}

/** HTML with the entities Handlebars writes into attribute values decoded (= and &). */
const attributes = (html: string) => html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');

function paper(over: Partial<PaperInput>): PaperInput {
  return { arxivId: null, title: 'T', abstract: '', authors: [], authorCount: null, organization: null, publishedAt: '2026-11-20', listedOn: null, upvotes: 0, comments: 0, keywords: [], urls: { page: null, abs: null, pdf: null, code: null }, source: 'test', ...over };
}

describe('digest runs against a real SMTP server', () => {
  let smtp: Smtp;
  let app: App;
  const reject: { fn: ((rcpt: string) => { code: number; message: string } | null) | null } = { fn: null };

  beforeEach(async () => {
    reject.fn = null;
    smtp = await startSmtp({ reject: (r) => reject.fn?.(r) ?? null });
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
  });
  afterEach(async () => {
    await app.stop();
    await smtp.close();
  });

  it('sends each due reader one digest with one-click unsubscribe headers, and records it', async () => {
    await seedSubscribers(app, ['ada@example.org']);
    const summary = await app.runDigests({ now: DAY1 });
    expect(summary).toMatchObject({ due: 1, sent: 1, skipped: 0, failed: 0 });
    const [mail] = await smtp.waitFor(1);
    const unsubscribe = /^List-Unsubscribe: (.*)$/im.exec(mail!.raw)?.[1] ?? '';
    expect(unsubscribe).toMatch(/^<https:\/\/paperboy\.example\/unsubscribe\/[\w.-]+>$/);
    expect(mail!.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    expect(mail!.raw).toMatch(/^List-ID: Paperboy digest <digest\.paperboy\.example>$/im);
    const row = (await app.database.get<{ message_id: string; status: string }>("SELECT message_id, status FROM deliveries WHERE period_key = '2026-11-24'"))!;
    expect(row.status).toBe('sent');
    expect(mail!.parsed.messageId).toBe(row.message_id);
    // The period and an HMAC only: the reader's row id is not in their headers.
    expect(row.message_id).toMatch(/^<digest\.2026-11-24\.[\w-]{22}@paperboy\.example>$/);
    // The subject leads with the top paper and how many more (issue 15), within 80 characters.
    expect(mail!.parsed.subject).toMatch(/^Dale meets Langevin.* \+ 9 more · Tue 24 Nov$/);
    expect(mail!.parsed.subject!.length).toBeLessThanOrEqual(80);
    expect(mail!.parsed.html).toContain('Dale meets Langevin');
    expect(mail!.parsed.html).toContain('<mark>');
    // Words of a phrase that carry no topic ("to" of "text-to-image") are not marked everywhere.
    expect(mail!.parsed.html).not.toMatch(/<mark>(a|an|the|of|to|in|on|for|and|or|with|by)<\/mark>/i);
    // The sample pages carry no links: each paper links to a title search instead of nowhere.
    expect(attributes(mail!.parsed.html as string)).toContain('href="https://arxiv.org/search/?query=Dale%20meets%20Langevin');
    expect(mail!.parsed.text).toContain('https://arxiv.org/search/?query=Dale%20meets%20Langevin');
    expect(mail!.parsed.text).toContain('Why: Matches');
    // The footer links work: view in browser, then one-click unsubscribe from the header.
    const view = /href="(https:\/\/paperboy\.example\/digest\/[^"]+)"/.exec(mail!.parsed.html as string)![1]!;
    const page = await fetch(view.replace('https://paperboy.example', app.url));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Dale meets Langevin');
    const oneClick = await fetch(unsubscribe.slice(1, -1).replace('https://paperboy.example', app.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    expect((await findByEmail(app.database, 'ada@example.org'))!.status).toBe('unsubscribed');
    expect(await app.runDigests({ now: DAY2 })).toMatchObject({ due: 0, sent: 0 });
  });

  it('escapes hostile paper text and keeps it out of the headers', async () => {
    await upsertPapers(app.database, [
      paper({
        arxivId: '2611.00001',
        title: `<script>alert(1)</script> Diffusion models\r\nBcc: victim@example.org ${'very long title '.repeat(50)}`,
        abstract: 'Diffusion models <img src=x onerror=alert(1)> and "quotes" & ampersands.\r\nSubject: injected',
        authors: ['<b>Mallory</b>'],
        urls: { page: 'javascript:alert(1)', abs: null, pdf: null, code: null },
      }),
    ], '2026-11-23T12:00:00.000Z');
    await seedSubscribers(app, ['bob@example.org'], { keywords: ['diffusion models'] });
    await app.runDigests({ now: DAY1 });
    const [mail] = await smtp.waitFor(1);
    const html = mail!.parsed.html as string;
    expect(mail!.envelopeTo).toEqual(['bob@example.org']);
    expect(mail!.parsed.bcc).toBeUndefined();
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>Mallory</b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/href="javascript:/);
    expect(mail!.parsed.subject).not.toMatch(/[\r\n]/);
  });

  it('sends in parallel even when all due readers fit in one claim chunk (a small list is not sent one by one)', async () => {
    smtp.options.delayMs = 150;
    await seedSubscribers(app, emails(8));
    const summary = await app.runDigests({ now: DAY1, concurrency: 4 });
    expect(summary).toMatchObject({ due: 8, sent: 8, failed: 0 });
    expect(smtp.peakConcurrent).toBeGreaterThanOrEqual(3);
  });

  it('a dry run changes nothing: no delivery rows, no relay success recorded, a standing relay alert stays', async () => {
    await seedSubscribers(app, ['ada@example.org']);
    const failure = { at: '2026-11-24T09:00:00.000Z', source: 'digest', kind: 'relay', reason: 'authentication failed', error: '535 bad password' };
    await app.database.run("INSERT INTO settings (key, value) VALUES ('relay_last_error', ?)", [JSON.stringify(failure)]);
    const summary = await app.runDigests({ now: DAY1, dryRun: true });
    expect(summary).toMatchObject({ dryRun: true, due: 1, sent: 1 });
    expect(smtp.received).toHaveLength(0);
    expect((await app.database.get<{ n: number }>('SELECT count(*) AS n FROM deliveries'))!.n).toBe(0);
    expect(await app.database.get("SELECT value FROM settings WHERE key = 'relay_last_ok'")).toBeUndefined();
    expect((await collectStats(app.database)).relay).toMatchObject({ alert: true, lastSuccessAt: null });
  });

  it('retries 421 answers until the relay recovers: every digest delivered exactly once', async () => {
    let refusals = 6;
    reject.fn = () => (refusals-- > 0 ? { code: 421, message: 'Try again later' } : null);
    const readers = emails(5);
    await seedSubscribers(app, readers);
    const first = await app.runDigests({ now: DAY1, retryBaseMs: 20, attempts: 3, concurrency: 2 });
    const second = await app.runDigests({ now: new Date(DAY1.getTime() + 600_000), retryBaseMs: 20, attempts: 3 });
    expect(first.sent + second.sent).toBe(5);
    for (const r of readers) expect(messageIds(smtp, r).size, r).toBe(1);
    expect(smtp.received).toHaveLength(5);
    expect(await inState(app, 'sent')).toBe(5);
  });

  it('suppresses an address the relay rejects with 550 and delivers the rest', async () => {
    reject.fn = (rcpt) => (rcpt === 'reader2@example.org' ? { code: 550, message: 'No such user' } : null);
    await seedSubscribers(app, emails(4));
    const summary = await app.runDigests({ now: DAY1, retryBaseMs: 20 });
    expect(summary).toMatchObject({ sent: 3, failed: 1 });
    expect((await findByEmail(app.database, 'reader2@example.org'))!.status).toBe('bounced');
    expect(smtp.received.map((m) => m.envelopeTo[0]).sort()).toEqual(['reader0@example.org', 'reader1@example.org', 'reader3@example.org']);
    await upsertPapers(app.database, [paper({ arxivId: '2611.00002', title: 'Latent diffusion models for everything', abstract: 'Diffusion models, again.' })], '2026-11-24T12:00:00.000Z');
    await app.runDigests({ now: DAY2 });
    expect(smtp.received.filter((m) => m.envelopeTo.includes('reader2@example.org'))).toHaveLength(0);
  });

  it('never resends at once when the ledger cannot record an accepted message; the next run resends the identical one', async () => {
    const readers = emails(3);
    await seedSubscribers(app, readers);
    // The ledger refuses to record 'sent' (a trigger in each engine's own dialect: test setup, not product SQL).
    await app.database.exec(
      onPostgres
        ? `CREATE FUNCTION ledger_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger unavailable'; END $$;
           CREATE TRIGGER ledger_down BEFORE UPDATE OF status ON deliveries FOR EACH ROW WHEN (NEW.status = 'sent') EXECUTE FUNCTION ledger_down();`
        : "CREATE TRIGGER ledger_down BEFORE UPDATE OF status ON deliveries WHEN NEW.status = 'sent' BEGIN SELECT RAISE(ABORT, 'ledger unavailable'); END",
    );
    const first = await app.runDigests({ now: DAY1, retryBaseMs: 20, leaseMs: 1 });
    expect(first).toMatchObject({ sent: 0, failed: 3 });
    expect(smtp.received).toHaveLength(3); // accepted once each, not retried
    const firstIds = readers.map((r) => [...messageIds(smtp, r)]);
    await app.database.exec(onPostgres ? 'DROP TRIGGER ledger_down ON deliveries' : 'DROP TRIGGER ledger_down');
    const second = await app.runDigests({ now: DAY1, retryBaseMs: 20 });
    expect(second).toMatchObject({ resumed: 3, sent: 3 });
    // The crash-window case: the same message (same Message-ID) once more, never a different digest.
    expect(readers.map((r) => [...messageIds(smtp, r)])).toEqual(firstIds);
    expect(await inState(app, 'sent')).toBe(3);
  });

  it('never sends a paper twice, and skips a day with nothing new', async () => {
    await seedSubscribers(app, ['carol@example.org'], { topics: ['diffusion-models'] });
    await app.runDigests({ now: DAY1 });
    await upsertPapers(app.database, [paper({ arxivId: '2611.00003', title: 'Consistency distillation for diffusion models', abstract: 'Few-step diffusion models via distillation.' })], '2026-11-24T12:00:00.000Z');
    await app.runDigests({ now: DAY2 });
    const summary3 = await app.runDigests({ now: new Date('2026-11-26T10:00:00Z') });
    expect(summary3).toMatchObject({ due: 1, sent: 0, skipped: 1 });
    const [day1, day2] = await smtp.waitFor(2);
    const titles = (m: typeof day1) => (m!.parsed.text ?? '').split('\n').filter((l) => l.startsWith('• ')).map((l) => l.slice(2));
    expect(titles(day2)).toEqual(['Consistency distillation for diffusion models']);
    expect(titles(day1)).not.toContain('Consistency distillation for diffusion models');
    expect(smtp.received).toHaveLength(2);
    const stats = await app.database.all('SELECT status, count(*) AS n FROM deliveries GROUP BY status ORDER BY status');
    expect(stats).toEqual([{ status: 'sent', n: 2 }, { status: 'skipped', n: 1 }]);
  });

  it('sends no duplicates when two processes run at once on one database', async () => {
    // More readers than one claim chunk, so the two runs interleave.
    const readers = emails(130);
    await seedSubscribers(app, readers);
    const other = await createServices(app.config, silentLog);
    try {
      const [a, b] = await Promise.all([app.runDigests({ now: DAY1 }), other.runDigests({ now: DAY1 })]);
      expect(a.sent + b.sent).toBe(130);
      expect(a.sent).toBeGreaterThan(0);
      expect(b.sent).toBeGreaterThan(0);
      expect(a.busy + b.busy).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
    await smtp.waitFor(130);
    for (const r of readers) expect(messageIds(smtp, r).size, r).toBe(1);
    expect(smtp.received).toHaveLength(130);
  });

  it('shares the work when three `digest run` processes start at once: each reader one digest, no claim left behind', async () => {
    const readers = emails(160); // four claim chunks
    await seedSubscribers(app, readers);
    const runs = await Promise.all([0, 1, 2].map(() => digestRunProcess(app, smtp).done));
    const summaries = runs.map((r) => {
      expect(r.code, r.out).toBe(0);
      return JSON.parse(r.out) as { sent: number; busy: number; failed: number };
    });
    expect(summaries.reduce((n, s) => n + s.sent, 0)).toBe(160);
    // Shared, not one process doing it all while the others lose every claim.
    expect(summaries.filter((s) => s.sent > 0).length).toBeGreaterThanOrEqual(2);
    expect(summaries.reduce((n, s) => n + s.failed, 0)).toBe(0);
    await smtp.waitFor(160);
    for (const r of readers) expect(messageIds(smtp, r).size, r).toBe(1);
    expect(smtp.received).toHaveLength(160);
    expect(await inState(app, 'sent')).toBe(160);
    expect(await inState(app, 'sending')).toBe(0);
  }, 120_000);

  it('survives SIGKILL mid-run: the rerun completes and every reader has exactly one digest', async () => {
    await smtp.close();
    smtp = await startSmtp({ delayMs: 60 });
    await app.stop();
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    const readers = emails(40);
    await seedSubscribers(app, readers);
    const { child, done } = digestRunProcess(app, smtp);
    await smtp.waitFor(8, 30_000);
    child.kill('SIGKILL');
    await done;
    const before = smtp.received.length;
    expect(before).toBeLessThan(40);
    const rerun = await app.runDigests({ now: DAY1 });
    expect(rerun.resumed).toBeGreaterThanOrEqual(0);
    for (const r of readers) expect(messageIds(smtp, r).size, r).toBe(1);
    // Only a message the relay took in the instant of the kill can arrive twice, and then with the same Message-ID.
    expect(smtp.received.length - 40).toBeLessThanOrEqual(10);
    expect(await inState(app, 'sent')).toBe(40);
  });
  it('on SIGTERM a `digest run` finishes what is in flight, hands every other claim back at once and exits 1; the next run sends the rest, each reader once', async () => {
    await smtp.close();
    smtp = await startSmtp({ delayMs: 100 });
    await app.stop();
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    const readers = emails(120);
    await seedSubscribers(app, readers);
    const { child, done } = digestRunProcess(app, smtp, { SMTP_POOL_SIZE: '2' });
    await smtp.waitFor(4, 30_000);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.out) as { sent: number; deferred: number; interrupted: boolean; failed: number };
    expect(summary).toMatchObject({ interrupted: true, failed: 0 });
    expect(summary.sent).toBeLessThan(120);
    expect(summary.sent + summary.deferred).toBe(120);
    // Everything it had accepted is recorded; nothing is left leased to the process that quit.
    expect(await inState(app, 'sent')).toBe(summary.sent);
    expect(smtp.received).toHaveLength(summary.sent);
    expect((await app.database.get<{ n: number }>('SELECT count(*) AS n FROM deliveries WHERE lease_owner IS NOT NULL'))!.n).toBe(0);
    // The next run does not wait out a lease: it sends the rest at once.
    const rerun = await app.runDigests({ now: DAY1 });
    expect(rerun.sent + rerun.resumed).toBeGreaterThanOrEqual(120 - summary.sent);
    await smtp.waitFor(120);
    for (const m of readers) expect(messageIds(smtp, m).size, m).toBe(1);
    expect(smtp.received).toHaveLength(120);
    expect(await inState(app, 'sent')).toBe(120);
  }, 120_000);

  it('an interrupted run hands back at once the interrupted deliveries it found, so no lease is left to wait out', async () => {
    await seedSubscribers(app, emails(3));
    expect((await app.runDigests({ now: DAY1 })).sent).toBe(3);
    // Two deliveries whose process died mid-send on another host.
    await app.database.run("UPDATE deliveries SET status = 'sending', finished_at = NULL, lease_owner = 'other-host:1:dead', lease_until = '2000-01-01T00:00:00.000Z' WHERE id IN (SELECT id FROM deliveries ORDER BY id LIMIT 2)");
    const stop = new AbortController();
    stop.abort();
    const run = await app.runDigests({ now: DAY2, signal: stop.signal });
    expect(run).toMatchObject({ interrupted: true, resumed: 0, sent: 0 });
    expect(await app.database.all('SELECT id FROM deliveries WHERE lease_until > ?', [new Date().toISOString()])).toEqual([]);
  });

  it('shares the work among three processes, one killed mid-run: every reader one Message-ID, no claim left (issue 12)', async () => {
    await smtp.close();
    // A slow relay: the run is still going when one process is killed.
    smtp = await startSmtp({ delayMs: 60 });
    await app.stop();
    app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false' });
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    const readers = emails(200); // four claim chunks: enough for all three to hold one at once
    await seedSubscribers(app, readers);
    const [a, b, c] = [0, 1, 2].map(() => digestRunProcess(app, smtp, { SMTP_POOL_SIZE: '2' }));
    await smtp.waitFor(10, 60_000);
    a!.child.kill('SIGKILL');
    await a!.done;
    const survivors = await Promise.all([b!.done, c!.done]);
    expect(survivors.map((r) => r.code)).toEqual([0, 0]);
    // The two survivors shared the run: each sent part of it.
    for (const r of survivors) expect((JSON.parse(r.out) as { sent: number }).sent).toBeGreaterThan(0);

    // What the killed process had claimed and not sent is picked up by the next run
    // (its owner process is gone), with the same papers and the same Message-ID.
    expect((await app.runDigests({ now: DAY1 })).failed).toBe(0);
    await smtp.waitFor(readers.length, 30_000);
    for (const r of readers) expect(messageIds(smtp, r).size, r).toBe(1);
    // Only a message in the relay's hands at the instant of the kill can arrive twice (same Message-ID).
    expect(smtp.received.length - readers.length).toBeLessThanOrEqual(4);
    const ledger = await app.database.all<{ status: string; n: number }>('SELECT status, count(*) AS n FROM deliveries GROUP BY status ORDER BY status');
    expect(ledger).toEqual([{ status: 'sent', n: readers.length }]);
    expect(await app.database.get('SELECT count(DISTINCT message_id) AS n FROM deliveries')).toEqual({ n: readers.length });
  }, 120_000);
});
