/**
 * Bounds: every circuit value carries a bound on its absolute value that holds for any witness
 * satisfying the constraints (range checks make them hold, not honesty). They serve twice:
 * - no wrap-around: a constrained affine expression must stay below p/2 in absolute value, so
 *   that field equalities are integer equalities;
 * - bit widths: each range check is as wide as its value's bound needs (capped at the circuit's
 *   maximum), instead of one width for all, so constraints follow the values' real sizes.
 */
import { PlumbError } from '../../core/errors.ts';
import { abs, FIELD_PRIME } from './field.ts';
import type { Lin } from './lin.ts';

/** Bound on |expression| below which the field cannot wrap around: (p - 1) / 2. */
const FIELD_LIMIT = (FIELD_PRIME - 1n) / 2n;

/** Bound of one signal by name. */
export type SignalBound = (signal: string) => bigint;

/** Worst-case |l|: the tighter of its own bound and the sum over its signals' bounds. */
export function linBound(l: Lin, signalBound: SignalBound): bigint {
  let bound = abs(l.c);
  for (const [sig, coef] of l.terms) bound += abs(coef) * signalBound(sig);
  return l.bound !== undefined && l.bound < bound ? l.bound : bound;
}

/** Signed bit width holding every value in [-bound, bound]: 2^(w-1) > bound. */
export function signedBits(bound: bigint): number {
  return bound.toString(2).length + 1;
}

/** Throw INVALID_MODEL when `l` could wrap around the field. */
export function assertNoWrap(l: Lin, signalBound: SignalBound, what: string): void {
  if (linBound(l, signalBound) >= FIELD_LIMIT)
    throw new PlumbError('INVALID_MODEL', `${what}: values could exceed the field (weights too large)`);
}
