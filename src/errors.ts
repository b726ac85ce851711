import { ZodError } from 'zod';

/** Stable error codes and the HTTP status each maps to. */
export const ErrorCodes = {
  bad_request: 400,
  validation: 400,
  unauthorized: 401,
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

/** Field issues of a zod error, with dotted paths ("topics.2"). */
export function fieldIssues(err: ZodError): FieldIssue[] {
  return err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}

/** AppError for a zod failure at an edge. */
export function validationError(err: ZodError): AppError {
  return new AppError('validation', 'Some fields are invalid.', fieldIssues(err));
}
