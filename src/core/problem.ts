/**
 * Errors as `application/problem+json` (RFC 9457), with Plumb's stable error code, so the SDK
 * can rebuild the same `PlumbError` on the other side.
 */
import { type ErrorCode, errorCodes, errorMessage, isErrorCode, isPlumbError, PlumbError } from './errors.ts';

export type Problem = {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  meta?: string[];
};

export const problemContentType = 'application/problem+json';

export function toProblem(error: unknown): Problem {
  const e = isPlumbError(error)
    ? error
    : new PlumbError('INTERNAL', `internal error: ${errorMessage(error)}`);
  return {
    type: `urn:plumb:error:${e.code}`,
    title: e.shortMessage,
    status: errorCodes[e.code],
    code: e.code,
    ...(e.details ? { detail: e.details } : {}),
    ...(e.metaMessages.length ? { meta: [...e.metaMessages] } : {}),
  };
}

/** Rebuild the PlumbError a problem body describes (SDK side). */
export function fromProblem(body: unknown, status: number): PlumbError {
  const p = (typeof body === 'object' && body !== null ? body : {}) as Partial<Problem>;
  const code: ErrorCode = isErrorCode(p.code)
    ? p.code
    : status === 404
      ? 'NOT_FOUND'
      : status >= 500
        ? 'INTERNAL'
        : 'INVALID_ARGUMENT';
  const title = typeof p.title === 'string' ? p.title : `HTTP ${status}`;
  return new PlumbError(code, title, {
    details: typeof p.detail === 'string' ? p.detail : undefined,
    metaMessages: Array.isArray(p.meta)
      ? p.meta.filter((m): m is string => typeof m === 'string')
      : undefined,
  });
}
