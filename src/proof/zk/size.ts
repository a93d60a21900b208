/**
 * How large a circuit this machine sets up: Groth16 needs a powers-of-tau domain 2^k above the
 * constraint count, and setups here go up to 2^MAX_SETUP_POWER (the largest development ptau
 * generated, ~1M constraints; a 2^20 setup takes tens of minutes and gigabytes on 2 cores).
 * Larger circuits are refused before any work, with their size.
 */
import type { CompiledCircuit } from './types.ts';

export const MAX_SETUP_POWER = 20;

/** The power k of the 2^k domain a circuit needs (from the compiler's constraint estimate). */
export function domainPower(c: Pick<CompiledCircuit, 'constraintEstimate' | 'nPublic'>): number {
  return Math.max(1, (c.constraintEstimate + c.nPublic).toString(2).length);
}

/** Why a circuit is too large to set up here, or undefined when it is not. */
export function setupSizeProblem(
  c: Pick<CompiledCircuit, 'constraintEstimate' | 'nPublic'>,
): string | undefined {
  const k = domainPower(c);
  if (k <= MAX_SETUP_POWER) return undefined;
  return `too large to set up: ~${c.constraintEstimate.toLocaleString('en-US')} constraints need a 2^${k} powers-of-tau; setups go up to 2^${MAX_SETUP_POWER} (~${(2 ** MAX_SETUP_POWER).toLocaleString('en-US')} constraints)`;
}
