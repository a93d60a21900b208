/**
 * Overflow analysis: a constrained affine expression must stay below p/2 in absolute value for
 * any range-checked signal values, so that field equalities are integer equalities.
 */
import { PlumbError } from '../../core/errors.ts';
import { abs, FIELD_PRIME } from './field.ts';
import type { Lin } from './lin.ts';

/** Bound on |expression| below which the field cannot wrap around: (p - 1) / 2. */
const FIELD_LIMIT = (FIELD_PRIME - 1n) / 2n;

/** Worst-case |l| when every signal it uses is range-checked to `bits` signed bits. */
export function linBound(l: Lin, bits: number): bigint {
  let bound = abs(l.c);
  for (const coef of l.terms.values()) bound += abs(coef) << BigInt(bits);
  return bound;
}

/** Throw INVALID_MODEL when `l` could wrap around the field. */
export function assertNoWrap(l: Lin, bits: number, what: string): void {
  if (linBound(l, bits) >= FIELD_LIMIT)
    throw new PlumbError('INVALID_MODEL', `${what}: values could exceed the field (weights too large)`);
}
