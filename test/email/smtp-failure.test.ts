import { describe, expect, it } from 'vitest';
import { classifySmtpFailure, enhancedStatus, maskAddresses, type FailureKind, type SmtpFailure } from '../../src/email/smtp-failure.js';

/** nodemailer's shape: `response` is the relay's line and `responseCode` its first three digits. */
const smtp = (code: string, command: string, response: string): SmtpFailure => ({
  message: `failed: ${response}`,
  code,
  command,
  response,
  responseCode: Number(response.slice(0, 3)),
});

const TABLE: [string, FailureKind, SmtpFailure][] = [
  // Recipient-level permanent failures: the only ones that suppress an address.
  ['550 5.1.1 at RCPT', 'recipient', smtp('EENVELOPE', 'RCPT TO', '550 5.1.1 <jo@example.com>: Recipient address rejected: User unknown')],
  ['551 5.1.6 moved at RCPT', 'recipient', smtp('EENVELOPE', 'RCPT TO', '551 5.1.6 User has moved')],
  ['553 5.1.3 bad address at RCPT', 'recipient', smtp('EENVELOPE', 'RCPT TO', '553 5.1.3 Bad recipient address syntax')],
  ['552 5.2.2 mailbox full at RCPT', 'recipient', smtp('EENVELOPE', 'RCPT TO', '552 5.2.2 Mailbox full')],
  ['550 5.2.1 disabled at RCPT', 'recipient', smtp('EENVELOPE', 'RCPT TO', '550-5.2.1 The email account that you tried to reach is disabled.')],
  ['bare 550 at RCPT', 'recipient', smtp('EENVELOPE', 'RCPT TO', '550 No such user here')],
  ['550 5.1.1 after DATA (late recipient check)', 'recipient', smtp('EMESSAGE', 'DATA', '550 5.1.1 Mailbox does not exist')],
  // The relay refusing us: nobody is suppressed.
  ['535 wrong password', 'relay', smtp('EAUTH', 'AUTH PLAIN', '535 5.7.8 Error: authentication failed')],
  ['535 via AUTH LOGIN', 'relay', smtp('EAUTH', 'AUTH LOGIN', '535 Authentication credentials invalid')],
  ['530 authentication required at MAIL FROM', 'relay', smtp('EENVELOPE', 'MAIL FROM', '530 5.7.0 Authentication required')],
  ['530 at RCPT', 'relay', smtp('EENVELOPE', 'RCPT TO', '530 5.7.0 Must issue a STARTTLS command first')],
  ['550 at MAIL FROM (sender refused)', 'relay', smtp('EENVELOPE', 'MAIL FROM', '550 5.1.0 Sender address rejected')],
  ['553 at MAIL FROM without enhanced code', 'relay', smtp('EENVELOPE', 'MAIL FROM', '553 Sender is not allowed')],
  ['554 content rejected at DATA', 'relay', smtp('EMESSAGE', 'DATA', '554 5.6.0 Message content rejected')],
  ['554 bare at DATA', 'relay', smtp('EMESSAGE', 'DATA', '554 Transaction failed')],
  ['550 5.7.1 spam policy at DATA', 'relay', smtp('EMESSAGE', 'DATA', '550 5.7.1 Message rejected as spam')],
  ['554 5.7.1 relay denied at RCPT', 'relay', smtp('EENVELOPE', 'RCPT TO', '554 5.7.1 <jo@example.com>: Relay access denied')],
  ['bare 554 relay denied at RCPT', 'relay', smtp('EENVELOPE', 'RCPT TO', '554 Relay access denied')],
  ['bare 550 blocked by policy at RCPT', 'relay', smtp('EENVELOPE', 'RCPT TO', '550 Blocked by spam policy')],
  ['550 5.1.8 bad sender domain at RCPT', 'relay', smtp('EENVELOPE', 'RCPT TO', '550 5.1.8 Sender address domain not found')],
  ['554 greeting (no service)', 'relay', smtp('ECONNECTION', 'CONN', '554 No SMTP service here')],
  ['EAUTH without an answer (missing credentials)', 'relay', { message: 'Missing credentials for "PLAIN"', code: 'EAUTH', command: 'API' }],
  // Try again later.
  ['421 at CONN', 'transient', smtp('ECONNECTION', 'CONN', '421 Service not available')],
  ['451 at RCPT (greylisting)', 'transient', smtp('EENVELOPE', 'RCPT TO', '451 4.7.1 Greylisted, try again')],
  ['452 at RCPT', 'transient', smtp('EENVELOPE', 'RCPT TO', '452 4.5.3 Too many recipients')],
  ['454 temporary auth failure', 'transient', smtp('EAUTH', 'AUTH PLAIN', '454 4.7.0 Temporary authentication failure')],
  ['connection refused', 'transient', { message: 'connect ECONNREFUSED 127.0.0.1:9', code: 'ESOCKET', command: 'CONN' }],
  ['timeout', 'transient', { message: 'Connection timeout', code: 'ETIMEDOUT', command: 'CONN' }],
  ['dropped connection', 'transient', { message: 'Connection closed unexpectedly', code: 'ECONNECTION' }],
];

describe('classifying SMTP failures', () => {
  it.each(TABLE)('%s → %s', (_name, kind, err) => {
    expect(classifySmtpFailure(err).kind).toBe(kind);
  });

  it('gives the same reason for the same cause, so a run can tell repeats apart', () => {
    const a = classifySmtpFailure(smtp('EAUTH', 'AUTH PLAIN', '535 5.7.8 Error: authentication failed'));
    const b = classifySmtpFailure(smtp('EAUTH', 'AUTH PLAIN', '535 5.7.8 Error: authentication failed: bad password'));
    expect(a).toEqual(b);
    expect(a.reason).toBe('authentication refused (535)');
  });

  it('reads the enhanced status code only at the start of an answer', () => {
    expect(enhancedStatus('550 5.1.1 <a@b.org>: unknown')).toBe('5.1.1');
    expect(enhancedStatus('550-5.2.1 disabled')).toBe('5.2.1');
    expect(enhancedStatus('550 user 5.1.1 unknown')).toBeNull();
    expect(enhancedStatus(undefined)).toBeNull();
  });

  it('masks every address inside a relay error text', () => {
    expect(maskAddresses("Can't send mail - all recipients were rejected: 550 5.1.1 <jo.smith@example.com>: user unknown")).toBe(
      "Can't send mail - all recipients were rejected: 550 5.1.1 <j***@example.com>: user unknown",
    );
    expect(maskAddresses('from=ops@paperboy.example to=bob+tag@mail.example.org')).toBe('from=o***@paperboy.example to=b***@mail.example.org');
    expect(maskAddresses('421 4.7.0 Try again later')).toBe('421 4.7.0 Try again later');
  });
});
