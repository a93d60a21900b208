/**
 * One error base class for all of Plumb (after viem's `BaseError`).
 *
 * Errors are compared by `code`, never by `instanceof`, so they survive the HTTP boundary:
 * the API maps a code to a status and an `application/problem+json` body, and the SDK turns
 * that body back into a `PlumbError` with the same code.
 */

/** Stable error codes. Adding one is fine; renaming one breaks clients. */
export const errorCodes = {
  INVALID_ARGUMENT: 400,
  INVALID_MODEL: 422,
  INVALID_INPUT: 422,
  INVALID_RECEIPT: 422,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  BLOB_NOT_FOUND: 404,
  RECEIPT_NOT_FOUND: 404,
  CONFLICT: 409,
  INTEGRITY: 500,
  INFERENCE_FAILED: 500,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export type PlumbErrorOptions = {
  /** Longer explanation, one paragraph at most. */
  details?: string | undefined;
  /** Extra lines shown under the message (the field, the rule, a hint). */
  metaMessages?: readonly string[] | undefined;
  cause?: unknown;
};

export class PlumbError extends Error {
  override name = 'PlumbError';
  readonly code: ErrorCode;
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly metaMessages: readonly string[];

  constructor(code: ErrorCode, shortMessage: string, options: PlumbErrorOptions = {}) {
    const lines = [shortMessage, ...(options.metaMessages ?? [])];
    if (options.details) lines.push(`Details: ${options.details}`);
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.metaMessages = options.metaMessages ?? [];
  }

  /** HTTP status the API answers this error with. */
  get status(): number {
    return errorCodes[this.code];
  }
}

/** True when `error` is a PlumbError (by shape, so it also holds across module copies). */
export function isPlumbError(error: unknown, code?: ErrorCode): error is PlumbError {
  if (typeof error !== 'object' || error === null) return false;
  const c = (error as { code?: unknown }).code;
  if (typeof c !== 'string' || !(c in errorCodes)) return false;
  if (typeof (error as { shortMessage?: unknown }).shortMessage !== 'string') return false;
  return code === undefined || c === code;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in errorCodes;
}

/** Short one-line description of any thrown value. */
export function errorMessage(error: unknown): string {
  if (isPlumbError(error)) return error.shortMessage;
  if (error instanceof Error) return error.message;
  return String(error);
}
