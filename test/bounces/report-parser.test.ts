import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBounceMessage, verpRecipient } from '../../src/bounces/report-parser.js';
import { FIXTURES } from '../helpers.js';

const eml = (name: string) => readFileSync(join(FIXTURES, 'providers', name));

describe('bounce mailbox reports (RFC 3464 DSN, RFC 5965 ARF)', () => {
  it('when a DSN fails one recipient and delays another, then only the failure counts, as hard, for the VERP recipient', async () => {
    const r = await parseBounceMessage(eml('dsn-rfc3464.eml'), { bounceAddress: 'bounces@paperboy.example' });
    expect(r.kind).toBe('dsn');
    expect(r.reports).toEqual([expect.objectContaining({ provider: 'imap', kind: 'hard_bounce', email: 'hard@example.org' })]);
    expect(r.reports[0]!.detail).toMatch(/^5\.1\.1 smtp; 550 5\.1\.1 <h\*+@example\.org>/);
  });

  it('when no VERP address is configured, then the Original-Recipient names the reader, not the forward', async () => {
    const r = await parseBounceMessage(eml('dsn-rfc3464.eml'));
    expect(r.reports.map((x) => x.email)).toEqual(['hard@example.org']);
  });

  it('when a 4.x.x failure is reported, then it is a soft bounce', async () => {
    const raw = eml('dsn-rfc3464.eml').toString().replace('Status: 5.1.1', 'Status: 4.2.2');
    const r = await parseBounceMessage(raw);
    expect(r.reports[0]!.kind).toBe('soft_bounce');
  });

  it('when a feedback loop sends an abuse report, then it is a complaint for the original recipient; not-spam is not', async () => {
    const r = await parseBounceMessage(eml('arf-rfc5965.eml'));
    expect(r).toMatchObject({ kind: 'arf', reports: [{ kind: 'complaint', email: 'angry@example.org' }] });
    const notSpam = await parseBounceMessage(eml('arf-rfc5965.eml').toString().replace('Feedback-Type: abuse', 'Feedback-Type: not-spam'));
    expect(notSpam.reports).toEqual([]);
  });

  it('when an out-of-office reply arrives, even one that says "failed", then it is ignored', async () => {
    expect(await parseBounceMessage(eml('autoreply-vacation.eml'), { bounceAddress: 'bounces@paperboy.example' })).toMatchObject({ kind: 'ignored', reports: [], why: 'auto-reply' });
  });

  it('reads VERP return paths', () => {
    expect(verpRecipient('bounces+ada=example.org@paperboy.example', 'bounces@paperboy.example')).toBe('ada@example.org');
    expect(verpRecipient('<bounces+a.b=sub.example.org@paperboy.example>', 'bounces@paperboy.example')).toBe('a.b@sub.example.org');
    expect(verpRecipient('someone@paperboy.example', 'bounces@paperboy.example')).toBeNull();
    expect(verpRecipient('bounces+ada=example.org@evil.example', 'bounces@paperboy.example')).toBeNull();
  });
});
