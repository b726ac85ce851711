import { ZodError } from 'zod';

/** Stable error codes and the HTTP status each maps to. */
export const ErrorCodes = {
  bad_request: 400,
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  invalid_token: 400,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;
export type ErrorCode = keyof typeof ErrorCodes;

/** One field-level problem, as returned in 400 answers. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The one error type the core raises; routes and the CLI translate it. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: FieldIssue[] = [],
    /** Seconds for a Retry-After header (503 answers). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  get status(): number {
    return ErrorCodes[this.code];
  }
}

/** Bad input in a file: names the file and the entry or line. CLI exit code 2. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly where: string | null,
    readonly reason: string,
  ) {
    super(`${file}${where ? `: ${where}` : ''}: ${reason}`);
  }
}

/** A failure the operator can act on, said in one line (a port in use, an unreachable database): CLI exit 1 without a stack. */
export class OperatorError extends Error {}

/** Field issues of a zod error, with dotted paths ("topics.2"). */
export function fieldIssues(err: ZodError): FieldIssue[] {
  return err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}

/** AppError for a zod failure at an edge. */
export function validationError(err: ZodError): AppError {
  return new AppError('validation', 'Some fields are invalid.', fieldIssues(err));
}

/** Whether an error is SQLite's "database is locked/busy": another connection held the write lock past the busy timeout. */
export function isDatabaseBusy(err: unknown): boolean {
  const code = errorCode(err);
  // SQLite: busy/locked. PostgreSQL: serialization failure, deadlock, lock not available.
  return code !== undefined && (/^SQLITE_(BUSY|LOCKED)(_|$)/.test(code) || code === '40001' || code === '40P01' || code === '55P03');
}

/** Whether an error is a unique-constraint violation (another transaction inserted the same key first). */
export function isUniqueViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** The `code` a driver error carries (SQLITE_BUSY, a PostgreSQL SQLSTATE, ECONNREFUSED), if it is a string. */
export function errorCode(err: unknown): string | undefined {
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Seconds a client is asked to wait when the database is busy. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/** The answer to a request that found the database busy: 503 with Retry-After, not a 500. */
export function databaseBusyError(): AppError {
  return new AppError('unavailable', 'Paperboy is busy right now. Please try again in a few seconds.', [], BUSY_RETRY_AFTER_SECONDS);
}
