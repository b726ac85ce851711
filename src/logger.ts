import { pino, type Logger } from 'pino';

export type { Logger };

// Tokens and whole addresses never reach the logs: values under these keys
// are replaced, and code logs `maskEmail(address)` instead of the address.
const REDACT = ['token', '*.token', 'req.headers.authorization', 'req.headers.cookie', 'email', '*.email', 'password', 'secret'];

/** Structured JSON logs on stderr (stdout stays clean for `--json`). */
export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } }, pino.destination(2));
}

/** "a***@example.org": enough to tell addresses apart in a log, not enough to harvest them. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
