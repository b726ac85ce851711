import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emailHash, recordBounce } from '../../src/bounces/suppression.js';
import { eraseByEmail } from '../../src/privacy/reader-data.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { runCli, startPaperboy } from '../helpers.js';

// A deleted reader leaves only the SHA-256 of their address on the suppression
// list (src/privacy/reader-data.ts). That entry must keep the address from
// being mailed again: a signup, `subscribers add` or an import of it must not
// quietly bring it back as a new, mailable row.

type App = Awaited<ReturnType<typeof startPaperboy>>;
const RULE = { count: 3, windowDays: 14 };
const NOW = new Date('2026-11-30T10:00:00Z');

describe('a bounced or complained address whose reader was deleted', () => {
  let app: App;
  const signup = (email: string) =>
    fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, topics: ['agents'] }) });
  const queued = async (email: string) => (await app.database.get<{ n: number }>('SELECT count(*) AS n FROM outbound_mail WHERE recipient = ?', [email]))!;
  /** An active reader who bounced (or complained) and then had their data deleted. */
  async function bouncedAndErased(email: string, kind: 'hard_bounce' | 'complaint') {
    await app.database.run("INSERT INTO subscribers (email, status, topics, created_at, updated_at, confirmed_at) VALUES (?, 'active', '[\"agents\"]', ?, ?, ?)", [
      email,
      NOW.toISOString(),
      NOW.toISOString(),
      NOW.toISOString(),
    ]);
    expect(await recordBounce(app.database, { provider: 'imap', eventId: `e-${email}`, kind, email }, RULE, NOW)).toBe('suppressed');
    expect(await eraseByEmail(app.database, email, NOW)).toBe(true);
    expect(await findByEmail(app.database, email)).toBeUndefined();
  }

  beforeEach(async () => (app = await startPaperboy({ RATE_LIMITS: 'false' })));
  afterEach(() => app.stop());

  it('when someone signs up with it, then the answer is the usual 202 but no row comes back and no mail is queued', async () => {
    await bouncedAndErased('gone.hard@example.org', 'hard_bounce');
    await bouncedAndErased('gone.complained@example.org', 'complaint');
    for (const email of ['gone.hard@example.org', 'Gone.Complained@Example.org']) {
      const res = await signup(email);
      expect(res.status, email).toBe(202);
      expect(await findByEmail(app.database, email), email).toBeUndefined();
      expect((await queued(email.toLowerCase())).n, email).toBe(0);
    }
    expect(await app.database.get('SELECT count(*) AS n FROM suppressions WHERE email_hash IN (?, ?)', [emailHash('gone.hard@example.org'), emailHash('gone.complained@example.org')])).toEqual({ n: 2 });
    // A deleted reader who never bounced left nothing behind and may sign up again.
    await app.database.run("INSERT INTO subscribers (email, status, topics, created_at, updated_at) VALUES ('gone.fine@example.org', 'active', '[]', ?, ?)", [NOW.toISOString(), NOW.toISOString()]);
    await eraseByEmail(app.database, 'gone.fine@example.org', NOW);
    expect((await signup('gone.fine@example.org')).status).toBe(202);
    expect((await findByEmail(app.database, 'gone.fine@example.org'))?.status).toBe('pending');
  });

  it('when an operator adds or imports it, then it is refused or left out unless --override-suppression, which lifts the entry', async () => {
    await bouncedAndErased('gone.hard@example.org', 'hard_bounce');
    const env = { ...app.dbEnv, SECRET: 'test-secret-test-secret-test-secret-0123' };
    const add = runCli(['subscribers', 'add', 'gone.hard@example.org', '--topics', 'agents'], env);
    expect(add.code).toBe(2);
    expect(add.stderr).toMatch(/gone\.hard@example\.org is on the suppression list \(hard_bounce from imap, kept after its reader was deleted\); lift it in the admin console \(Suppressions, hash [0-9a-f]{12}…\) or import it with --override-suppression/);
    expect(await findByEmail(app.database, 'gone.hard@example.org')).toBeUndefined();

    const csv = join(app.dir, 'readers.csv');
    writeFileSync(csv, 'email,topics\ngone.hard@example.org,agents\nnew.reader@example.org,agents\n');
    const imported = runCli(['subscribers', 'import', csv, '--confirmed'], env);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/1 added/);
    expect(imported.stdout).toMatch(/1 unsubscribed or bounced addresses left as they are/);
    expect(await findByEmail(app.database, 'gone.hard@example.org')).toBeUndefined();

    const overridden = runCli(['subscribers', 'import', csv, '--confirmed', '--override-suppression'], env);
    expect(overridden.code).toBe(0);
    const back = (await findByEmail(app.database, 'gone.hard@example.org'))!;
    expect(back.status).toBe('active');
    expect(await app.database.get('SELECT count(*) AS n FROM suppressions WHERE email_hash = ?', [emailHash('gone.hard@example.org')])).toEqual({ n: 0 });
    expect(await app.database.all('SELECT event FROM consent_events WHERE subscriber_id = ? ORDER BY id', [back.id])).toEqual([{ event: 'suppression_overridden_deleted' }, { event: 'imported_active' }]);
  });
});
