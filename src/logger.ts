import { pino, type DestinationStream, type Logger } from 'pino';
import { stderrOut, type TerminalOut } from './cli-progress-bar.js';

export type { DestinationStream, Logger };

// Tokens and whole addresses never reach the logs: values under these keys
// are replaced, and code logs `maskEmail(address)` instead of the address.
const REDACT = ['token', '*.token', 'req.headers.authorization', 'req.headers.cookie', 'email', '*.email', 'password', 'secret'];

/**
 * Logs on stderr (stdout stays clean for `--json`): JSON lines when stderr is a
 * pipe or a file, readable lines on a terminal. `destination` replaces stderr
 * (the digest worker posts its JSON lines to the main thread, which writes them
 * with `writeLogLine`).
 */
export function createLogger(level: string, destination: DestinationStream = stderrDestination()): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

/** Where JSON log lines for `out` go: unchanged onto a pipe or file, readable and above the progress bar on a terminal. */
export function logDestination(out: TerminalOut, raw: DestinationStream): DestinationStream {
  return out.isTTY ? { write: (line: string) => out.writeLines(readableLogLine(line)) } : raw;
}

// One destination for this process's stderr, shared by its loggers and by the
// lines the digest worker sends over (src/digests/run-thread.ts).
let stderrDest: DestinationStream | null = null;
function stderrDestination(): DestinationStream {
  // Off a terminal: the same synchronous fd-2 writer as always, so the JSON is byte for byte what operators parse.
  stderrDest ??= logDestination(stderrOut(), pino.destination(2));
  return stderrDest;
}

/** Writes one JSON log line (from another thread's logger) to this process's stderr, as this process's own logs are written. */
export function writeLogLine(line: string): void {
  stderrDestination().write(line);
}

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '90'], 20: ['DEBUG', '90'], 30: ['INFO', '36'], 40: ['WARN', '33'], 50: ['ERROR', '31'], 60: ['FATAL', '35'],
};
const NOT_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

/** "16:57:02Z WARN  digest bounced; address suppressed subscriber=12 to=a***@example.org" from a pino JSON line. */
export function readableLogLine(json: string, color = !process.env.NO_COLOR): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd(); // not one of ours: shown as it came
  }
  const [name, sgr] = LEVELS[rec.level as number] ?? [String(rec.level), '0'];
  const time = typeof rec.time === 'number' ? `${new Date(rec.time).toISOString().slice(11, 19)}Z` : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !NOT_FIELDS.has(k))
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  const level = color ? `\x1b[${sgr}m${name.padEnd(5)}\x1b[0m` : name.padEnd(5);
  const line = [time, level, String(rec.msg ?? ''), ...fields].filter(Boolean).join(' ');
  // An unexpected error keeps its stack, indented under the line.
  const err = rec.err as { stack?: unknown } | undefined;
  const stack = (rec.level as number) >= 50 && typeof err?.stack === 'string' ? `\n${err.stack.split('\n').slice(1).join('\n')}` : '';
  return line + stack;
}

function fieldValue(v: unknown): string {
  if (v && typeof v === 'object' && 'message' in v && typeof v.message === 'string') return JSON.stringify(v.message); // a serialized error
  if (typeof v === 'string') return /^[\w.@*:/+-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** "a***@example.org": enough to tell addresses apart in a log, not enough to harvest them. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
