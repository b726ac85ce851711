import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBounceMessage } from '../../src/bounces/report-parser.js';
import { FIXTURES } from '../helpers.js';

const eml = (name: string) => readFileSync(join(FIXTURES, 'providers', name));

describe('bounce mailbox reports (RFC 3464 DSN, RFC 5965 ARF)', () => {
  it('when a DSN fails one recipient and delays another, then only the failure counts, as hard, and the return paths are listed for VERP', async () => {
    const r = await parseBounceMessage(eml('dsn-rfc3464.eml'));
    expect(r.kind).toBe('dsn');
    expect(r.reports).toEqual([expect.objectContaining({ provider: 'imap', kind: 'hard_bounce', email: 'hard@example.org' })]);
    expect(r.reports[0]!.detail).toMatch(/^5\.1\.1 smtp; 550 5\.1\.1 <h\*+@example\.org>/);
    expect(r.messageKey).toBe('<20261130100005.A1B2C3@mx.example.net>');
    // Delivered-To and To; the clear-text address form is no longer decoded (bounce-mailbox.ts verifies signed tags).
    expect(r.returnPaths).toEqual(['bounces+hard=example.org@paperboy.example', 'bounces+hard=example.org@paperboy.example']);
  });

  it('when a DSN forwards, then the Original-Recipient names the reader, not the forward', async () => {
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
    expect(await parseBounceMessage(eml('autoreply-vacation.eml'))).toMatchObject({ kind: 'ignored', reports: [], why: 'auto-reply' });
  });

  it('when a reply has no Auto-Submitted but another autoresponder mark, then it is an auto-reply; a plain message is not a report', async () => {
    const plain = eml('autoreply-vacation.eml').toString().replace(/^Auto-Submitted: .*\r?\n/m, '').replace(/^Subject: .*$/m, 'Subject: Re: your digest');
    expect((await parseBounceMessage(plain)).why).toBe('not a report');
    for (const mark of ['X-Autoreply: yes', 'X-Autorespond: on', 'Precedence: bulk', 'Precedence: auto_reply']) {
      expect((await parseBounceMessage(plain.replace('Subject:', `${mark}\nSubject:`))).why, mark).toBe('auto-reply');
    }
    for (const subject of ['Out of Office: 10 new papers', 'Automatic reply: 10 new papers', 'Abwesenheitsnotiz', 'Vacation reply']) {
      expect((await parseBounceMessage(plain.replace('Subject: Re: your digest', `Subject: ${subject}`))).why, subject).toBe('auto-reply');
    }
  });

  it('when a message has no Message-ID, then its key is a hash of its bytes (the same message, the same key)', async () => {
    const raw = eml('dsn-rfc3464.eml').toString().replace(/^Message-ID: .*\r?\n/m, '');
    const [a, b] = [await parseBounceMessage(raw), await parseBounceMessage(raw)];
    expect(a.messageKey).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.messageKey).toBe(a.messageKey);
  });
});
