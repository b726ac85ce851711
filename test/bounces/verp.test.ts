import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVerpTag, verifyVerpTag, verpAddress } from '../../src/bounces/verp.js';
import { loadSampleIfEmpty } from '../../src/papers/sample-corpus.js';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { startPaperboy, startSmtp } from '../helpers.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const BOUNCES = 'bounces@paperboy.example';

describe('VERP tags', () => {
  it('name the subscriber by id and an HMAC, never by address, and only verify for that id and address', () => {
    const address = verpAddress(BOUNCES, SECRET, 42, 'Ada.Lovelace@Example.org');
    expect(address).toMatch(/^bounces\+16-[0-9a-f]{20}@paperboy\.example$/);
    expect(address.toLowerCase()).not.toContain('lovelace');
    const claim = readVerpTag(`<${address.toUpperCase()}>`, BOUNCES)!;
    expect(claim.subscriberId).toBe(42);
    expect(verifyVerpTag(SECRET, claim, 'ada.lovelace@example.org')).toBe(true);
    expect(verifyVerpTag(SECRET, claim, 'someone.else@example.org')).toBe(false);
    expect(verifyVerpTag(SECRET, { ...claim, subscriberId: 43 }, 'ada.lovelace@example.org')).toBe(false);
    expect(verifyVerpTag('another-secret-another-secret-000000', claim, 'ada.lovelace@example.org')).toBe(false);
    expect(verifyVerpTag(SECRET, { ...claim, mac: claim.mac.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }, 'ada.lovelace@example.org')).toBe(false);
  });

  it('tell an address that is not ours from one of ours with an unreadable tag', () => {
    expect(readVerpTag('bounces@paperboy.example', BOUNCES)).toBeNull();
    expect(readVerpTag('bounces+16-0123456789abcdef0123@evil.example', BOUNCES)).toBeNull();
    expect(readVerpTag('other+16-0123456789abcdef0123@paperboy.example', BOUNCES)).toBeNull();
    // The old clear-text form (bounces+ada=example.org@) is ours but carries no valid tag.
    expect(readVerpTag('bounces+ada=example.org@paperboy.example', BOUNCES)).toEqual({ subscriberId: NaN, mac: '' });
  });
});

describe('the envelope sender through a real SMTP server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  beforeAll(async () => (smtp = await startSmtp()));
  afterAll(() => smtp.close());

  it('when BOUNCE_ADDRESS is set, then confirmations and digests go out with MAIL FROM bounces+<signed tag>, From unchanged', async () => {
    const app = await startPaperboy({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://paperboy.example', RATE_LIMITS: 'false', BOUNCE_ADDRESS: BOUNCES, MAIL_FROM: 'Paperboy <news@paperboy.example>' });
    try {
      smtp.received.length = 0;
      const res = await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'verp.reader@example.org', topics: ['diffusion-models'] }) });
      expect(res.status).toBe(202);
      await app.outbound.run();
      const [confirm] = await smtp.waitFor(1);
      const s = (await findByEmail(app.database, 'verp.reader@example.org'))!;
      expect(confirm!.envelopeFrom).toMatch(/^bounces\+[0-9a-z]+-[0-9a-f]{20}@paperboy\.example$/);
      expect(confirm!.envelopeFrom).not.toContain('verp.reader');
      expect(verifyVerpTag(SECRET, readVerpTag(confirm!.envelopeFrom, BOUNCES)!, s.email)).toBe(true);
      expect(confirm!.parsed.from?.value[0]?.address).toBe('news@paperboy.example');
      expect(confirm!.envelopeTo).toEqual(['verp.reader@example.org']);

      // A digest (sent from the run's worker thread through this process's pool) carries the same tag.
      await app.database.run("UPDATE subscribers SET status = 'active', confirmed_at = '2026-01-01T00:00:00Z', hour = 8, timezone = 'UTC', created_at = '2026-01-01T00:00:00Z' WHERE id = ?", [s.id]);
      await loadSampleIfEmpty(app.database, new Date('2026-11-23T12:00:00Z'));
      expect(await app.runDigests({ now: new Date('2026-11-24T10:00:00Z') })).toMatchObject({ sent: 1 });
      const [, digest] = await smtp.waitFor(2);
      expect(digest!.raw).toMatch(/^List-Unsubscribe-Post: /m);
      expect(digest!.envelopeFrom).toBe(confirm!.envelopeFrom);
    } finally {
      await app.stop();
    }
  });

  it('when BOUNCE_ADDRESS is unset, then the envelope sender stays the From address, as before', async () => {
    const app = await startPaperboy({ SMTP_URL: smtp.url, RATE_LIMITS: 'false', MAIL_FROM: 'Paperboy <news@paperboy.example>' });
    try {
      smtp.received.length = 0;
      await fetch(`${app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'plain.reader@example.org', topics: ['agents'] }) });
      await app.outbound.run();
      const [mail] = await smtp.waitFor(1);
      expect(mail!.envelopeFrom).toBe('news@paperboy.example');
    } finally {
      await app.stop();
    }
  });
});
