/**
 * What the chain needs to check a model's zk proofs against signed tensors: the model's
 * verifier contract, its fixed-point scale and input range, the tolerance a challenge must
 * exceed, and where each tensor sits in the public signals — per tensor in the canonical
 * encoding's order (names sorted by UTF-8 bytes, `core/encoding.ts`), because that is the
 * order a contract reads the signed input and output bytes in.
 */
import type { Hex } from 'viem';
import { PlumbError } from '../core/errors.ts';
import type { ZkLayout } from '../proof/zk/artifacts.ts';
import type { ZkProof } from '../proof/zk/prove.ts';

/** The Solidity `ModelRegistry.ZkSpec`. */
export type ZkSpec = {
  verifier: Hex;
  scale: number;
  inputBits: number;
  tolerance: bigint;
  nPublic: number;
  inputOffsets: number[];
  inputSizes: number[];
  outputOffsets: number[];
  outputSizes: number[];
};

/** Least default challenge tolerance: a signed output more than this far from the proven one is a lie. */
export const defaultTolerance = 0.01;

/**
 * The tolerance registered when the owner gives none: an honest node's float output differs from
 * the circuit's fixed-point one by the runtime's rounding, so it must stay well above that. With
 * a calibration (`push --zk --calibrate`), ten times the error measured there, at least 0.01.
 */
export function toleranceFor(layout: Pick<ZkLayout, 'calibration'>): number {
  const measured = layout.calibration?.maxAbsError;
  return measured === undefined ? defaultTolerance : Math.max(defaultTolerance, 10 * measured);
}

const byUtf8 = (a: { name: string }, b: { name: string }) =>
  Buffer.compare(Buffer.from(a.name, 'utf8'), Buffer.from(b.name, 'utf8'));

export function zkSpecOf(layout: ZkLayout, verifier: Hex, tolerance = toleranceFor(layout)): ZkSpec {
  const nonFloat = [...layout.inputs, ...layout.outputs].filter((t) => (t as { int?: boolean }).int);
  if (nonFloat.length)
    throw new PlumbError(
      'INVALID_MODEL',
      `on-chain checks take float32 tensors only; ${nonFloat.map((t) => `"${t.name}"`).join(', ')} ${nonFloat.length > 1 ? 'are' : 'is'} integer`,
    );
  if (!(tolerance >= 0) || !Number.isFinite(tolerance))
    throw new PlumbError('INVALID_ARGUMENT', `tolerance must be a non-negative number, got ${tolerance}`);
  const inputs = [...layout.inputs].sort(byUtf8);
  const outputs = [...layout.outputs].sort(byUtf8);
  return {
    verifier,
    scale: layout.scale,
    inputBits: layout.bits,
    tolerance: BigInt(Math.round(tolerance * 2 ** layout.scale)),
    nPublic: layout.nPublic,
    inputOffsets: inputs.map((t) => t.publicOffset),
    inputSizes: inputs.map((t) => t.size),
    outputOffsets: outputs.map((t) => t.publicOffset),
    outputSizes: outputs.map((t) => t.size),
  };
}

/** The Solidity `Groth16Proof` of a snarkjs proof (each pi_b pair swapped, as the verifier reads it). */
export type Groth16Calldata = {
  a: readonly [bigint, bigint];
  b: readonly [readonly [bigint, bigint], readonly [bigint, bigint]];
  c: readonly [bigint, bigint];
};

export function groth16Calldata(proof: Pick<ZkProof, 'pi_a' | 'pi_b' | 'pi_c'>): Groth16Calldata {
  const n = (x: string | undefined) => {
    if (x === undefined || !/^[0-9]{1,78}$/.test(x))
      throw new PlumbError('INVALID_RECEIPT', 'malformed proof: coordinates must be decimal field elements');
    return BigInt(x);
  };
  const { pi_a: a, pi_b: b, pi_c: c } = proof;
  return {
    a: [n(a[0]), n(a[1])],
    b: [
      [n(b[0]?.[1]), n(b[0]?.[0])],
      [n(b[1]?.[1]), n(b[1]?.[0])],
    ],
    c: [n(c[0]), n(c[1])],
  };
}
