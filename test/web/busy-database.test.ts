import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { consentLog, findByEmail, subscribersByIds } from '../../src/subscribers/subscriber-repo.js';
import { queuedUnsubscribes } from '../../src/subscribers/unsubscribe-queue.js';
import { onPostgres, startPaperboy, startSmtp } from '../helpers.js';

// Issue 10, item 6: unsubscribing always works, even while another process holds
// the write lock longer than the busy timeout; other requests get 503 + Retry-After.

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let app: Awaited<ReturnType<typeof startPaperboy>>;
let blocker: Database.Database | null = null;

beforeEach(async () => {
  smtp = await startSmtp();
  app = await startPaperboy({ SMTP_URL: smtp.url, RATE_LIMITS: 'false', PUBLIC_URL: 'https://paperboy.example' });
  // A short busy timeout so the test does not wait 5 s per blocked write.
  app.database.sqlite?.pragma('busy_timeout = 200');
});
afterEach(async () => {
  blocker?.close();
  blocker = null;
  await app.stop();
  await smtp.close();
});

/** Another connection to the same file holding the write lock, like a large import. */
function holdWriteLock() {
  blocker = new Database(app.dbEnv.DATABASE_PATH!);
  blocker.exec('BEGIN IMMEDIATE');
  return () => blocker!.exec('ROLLBACK');
}

async function activeReader(email: string) {
  await app.database.run(
    `INSERT INTO subscribers (email, status, topics, hour, timezone, created_at, updated_at, confirmed_at)
              VALUES (?, 'active', '["diffusion-models","interpretability","optimizers"]', 8, 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
    [email],
  );
  return (await findByEmail(app.database, email))!;
}

const oneClick = (url: string) =>
  fetch(url.replace('https://paperboy.example', app.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });

// SQLite only: another connection holding BEGIN IMMEDIATE on the file. PostgreSQL has no database-wide write lock.
describe.skipIf(onPostgres)('a busy database', () => {
  it('when the write lock is held past the busy timeout, then one-click unsubscribe answers 200 and is applied once the lock is gone', async () => {
    const s = await activeReader('leaving@example.org');
    const other = await activeReader('button@example.org');
    const release = holdWriteLock();
    const started = Date.now();
    const res = await oneClick(app.links.unsubscribeUrl(s));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Unsubscribed.');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(queuedUnsubscribes(app.database)).toHaveLength(1);
    // The reader's page already says so, and a digest run's reader load sees it.
    const page = await fetch(app.links.unsubscribeUrl(s).replace('https://paperboy.example', app.url));
    expect(await page.text()).toContain("You're unsubscribed");
    expect((await subscribersByIds(app.database, [s.id]))[0]!.status).toBe('unsubscribed');
    // The page's own unsubscribe button works the same way.
    const button = await fetch(app.links.unsubscribeUrl(other).replace('https://paperboy.example', app.url), { method: 'POST', body: new URLSearchParams() });
    expect(button.status).toBe(200);
    expect(await button.text()).toContain("You're unsubscribed");
    release();
    expect(await app.subscriptions.drainUnsubscribeQueue()).toBe(2);
    expect((await findByEmail(app.database, 'button@example.org'))!.status).toBe('unsubscribed');
    const after = (await findByEmail(app.database, 'leaving@example.org'))!;
    expect(after.status).toBe('unsubscribed');
    expect(after.tokenVersion).toBe(s.tokenVersion + 1);
    expect((await consentLog(app.database, s.id)).map((e) => [e.event, e.method])).toEqual([['unsubscribed', 'one-click']]);
    expect(queuedUnsubscribes(app.database)).toEqual([]);
  });

  it('when the lock is released, then the server applies the queued unsubscribe by itself within seconds', async () => {
    const s = await activeReader('auto@example.org');
    const release = holdWriteLock();
    expect((await oneClick(app.links.unsubscribeUrl(s))).status).toBe(200);
    // Still locked at the first retries: they must not fail or give up.
    await new Promise((r) => setTimeout(r, 5500));
    expect((await findByEmail(app.database, 'auto@example.org'))!.status).toBe('active');
    release();
    const deadline = Date.now() + 8000;
    while ((await findByEmail(app.database, 'auto@example.org'))!.status !== 'unsubscribed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await findByEmail(app.database, 'auto@example.org'))!.status).toBe('unsubscribed');
    expect(queuedUnsubscribes(app.database)).toEqual([]);
  }, 20_000);

  it('when the write lock is held, then other writes answer 503 with Retry-After instead of 500', async () => {
    await activeReader('stays@example.org');
    const release = holdWriteLock();
    try {
      const api = await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'new@example.org', topics: ['agents'] }) });
      expect(api.status).toBe(503);
      expect(api.headers.get('retry-after')).toBe('5');
      expect(await api.json()).toMatchObject({ error: { code: 'unavailable' } });
      const page = await fetch(`${app.url}/subscribe`, { method: 'POST', body: new URLSearchParams({ email: 'new@example.org', topics: 'agents' }) });
      expect(page.status).toBe(503);
      expect(page.headers.get('retry-after')).toBe('5');
      expect(await page.text()).toContain('try again in a few seconds');
    } finally {
      release();
    }
    const ok = await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'new@example.org', topics: ['agents'] }) });
    expect(ok.status).toBe(202);
  });

  it('when an unsubscribe is still queued, then a digest run does not mail that reader', async () => {
    await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
    const leaving = await activeReader('queued@example.org');
    await activeReader('staying@example.org');
    const release = holdWriteLock();
    expect((await oneClick(app.links.unsubscribeUrl(leaving))).status).toBe(200);
    release();
    // Not drained yet: the row itself still says active.
    expect((await findByEmail(app.database, 'queued@example.org'))!.status).toBe('active');
    const summary = await app.runDigests({ now: new Date('2026-11-24T10:00:00Z') });
    expect(summary.sent).toBe(1);
    await smtp.waitFor(1);
    expect(smtp.received.map((m) => m.envelopeTo[0])).toEqual(['staying@example.org']);
  });

  it('when a queued unsubscribe is followed by a fresh confirmation, then draining does not undo the confirmation', async () => {
    const s = await activeReader('changed-mind@example.org');
    const release = holdWriteLock();
    await oneClick(app.links.unsubscribeUrl(s));
    release();
    // Confirmed again after clicking (e.g. the queue could not drain for a while).
    await app.database.run('UPDATE subscribers SET confirmed_at = ? WHERE id = ?', [new Date(Date.now() + 1000).toISOString(), s.id]);
    expect((await subscribersByIds(app.database, [s.id]))[0]!.status).toBe('active');
    await app.subscriptions.drainUnsubscribeQueue();
    expect((await findByEmail(app.database, 'changed-mind@example.org'))!.status).toBe('active');
  });
});
