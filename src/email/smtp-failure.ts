import { maskEmail } from '../logger.js';

// What a refused send means for the reader. Only a recipient-level permanent
// failure says anything about the address; a wrong password, a relay that
// wants authentication, a refused sender or a refused message body are the
// operator's problem and must never suppress a reader.

/** The part of a nodemailer error a classification looks at. */
export interface SmtpFailure {
  message: string;
  /** nodemailer's error code: EAUTH, ECONNECTION, EENVELOPE, EMESSAGE, ETIMEDOUT, ESOCKET… */
  code?: string;
  /** Basic status of the relay's answer (550). */
  responseCode?: number;
  /** The relay's answer line ("550 5.1.1 <a@b>: user unknown"). */
  response?: string;
  /** The command answered: 'CONN', 'AUTH PLAIN', 'MAIL FROM', 'RCPT TO', 'DATA'… */
  command?: string;
}

/**
 * recipient: the address does not take mail (suppress it, never retry);
 * transient: try again later (4xx, network);
 * relay: the relay refused us, not the reader (suppress nobody, retry after the operator fixes it).
 */
export type FailureKind = 'recipient' | 'transient' | 'relay';

/** A classification and a short reason, the same for the same cause (runs stop on repeats). */
export interface Classified {
  kind: FailureKind;
  reason: string;
}

/** The enhanced status code (RFC 3463) of an answer: "5.1.1", or null. */
export function enhancedStatus(response: string | undefined): string | null {
  const m = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response ?? '');
  return m ? m[1]! : null;
}

// Bare 5xx answers to RCPT TO that are about us, not the recipient.
const POLICY_TEXT = /relay|auth|spam|policy|block|blacklist|denylist|reputation|rate.?limit|too many|sender|spf|dkim|dmarc|tls|rejected by (our|the) server|access denied/i;

// Enhanced codes about the recipient's address or mailbox. 5.1.7/5.1.8 are the *sender's* address.
const recipientStatus = (status: string) => /^5\.[12]\.\d+$/.test(status) && status !== '5.1.7' && status !== '5.1.8';

const NETWORK_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']);

/** Sorts a send failure into recipient / transient / relay (pure: table-tested in smtp-failure.test.ts). */
export function classifySmtpFailure(err: SmtpFailure): Classified {
  const code = err.responseCode;
  const command = (err.command ?? '').toUpperCase();
  const status = enhancedStatus(err.response);
  if (typeof code !== 'number' || code < 400 || code >= 600) {
    if (err.code === 'EAUTH') return { kind: 'relay', reason: 'authentication failed' };
    if (err.code === 'EENVELOPE' || err.code === 'EMESSAGE') return { kind: 'relay', reason: `message refused before sending (${err.code})` };
    // No answer at all: connection refused, dropped, timed out. Nothing is known about the reader.
    return { kind: 'transient', reason: NETWORK_CODES.has(err.code ?? '') ? `connection failed (${err.code})` : 'no answer from the relay' };
  }
  if (code < 500) return { kind: 'transient', reason: `${code} at ${command || 'unknown command'}` };
  if (code === 530 || code === 534 || code === 535 || code === 538 || err.code === 'EAUTH' || command.startsWith('AUTH')) {
    return { kind: 'relay', reason: `authentication refused (${code})` };
  }
  if (command === 'RCPT TO') {
    if (status) return recipientStatus(status) ? { kind: 'recipient', reason: `recipient refused (${status})` } : { kind: 'relay', reason: `recipient refused for policy (${status})` };
    return POLICY_TEXT.test(err.response ?? '') ? { kind: 'relay', reason: `recipient refused for policy (${code})` } : { kind: 'recipient', reason: `recipient refused (${code})` };
  }
  // One recipient per message: a relay that checks mailboxes only after DATA still names the address.
  if (command === 'DATA' && status && recipientStatus(status)) return { kind: 'recipient', reason: `recipient refused after DATA (${status})` };
  if (command === 'MAIL FROM') return { kind: 'relay', reason: `sender refused (${status ?? code})` };
  if (command === 'DATA') return { kind: 'relay', reason: `message refused (${status ?? code})` };
  if (command === 'CONN') return { kind: 'relay', reason: `connection refused by the relay (${code})` };
  return { kind: 'relay', reason: `relay refused ${command || 'the session'} (${status ?? code})` };
}

const ADDRESS = /[^\s<>()[\]"',;:=@]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Masks every address inside a relay's error text: "550 5.1.1 <j***@example.com>: user unknown". */
export function maskAddresses(text: string): string {
  return text.replace(ADDRESS, (a) => maskEmail(a));
}
