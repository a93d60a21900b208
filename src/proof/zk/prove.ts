/**
 * Groth16 proving and verification of a model's circuit. Inputs are quantized exactly as the
 * exact executor does (round half away from zero at 2^s, from the float bits); the public
 * signals are the outputs then the inputs, each a signed integer at 2^s encoded mod p.
 */
import * as snarkjs from 'snarkjs';
import { PlumbError } from '../../core/errors.ts';
import { intDtypes, type TensorMap } from '../../core/tensor.ts';
import { dequantize } from '../../runtime/exact/canonical.ts';
import { fromTensor, size } from '../../runtime/exact/tensor.ts';
import { type CompiledCircuit, FIELD_PRIME, fieldToSigned, signedToField } from './circuit.ts';
import type { ZkArtifacts } from './setup.ts';

export type ZkProof = snarkjs.Groth16Proof;

export type ZkOutput = {
  shape: number[];
  /** Signed integers at 2^s: equal to the exact executor's `raw` output. */
  raw: bigint[];
  /** raw / 2^s as float32 (display). */
  values: Float32Array;
};

export type ProveResult = {
  proof: ZkProof;
  /** Decimal field elements: outputs then inputs (see CompiledCircuit layouts). */
  publicSignals: string[];
  outputs: Record<string, ZkOutput>;
  proveMs: number;
};

/** The circuit's witness inputs for `inputs` (quantized at the circuit's scale; integers unscaled). */
export function circuitInputs(
  circuit: Pick<CompiledCircuit, 'inputs' | 'bits' | 'scale'>,
  inputs: TensorMap,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const layout of circuit.inputs) {
    const t = inputs[layout.name];
    if (!t) throw new PlumbError('INVALID_INPUT', `missing input "${layout.name}"`);
    const float = t.dtype === 'float32' || t.dtype === 'float64';
    if (layout.int ? float || !intDtypes.has(t.dtype) : !float)
      throw new PlumbError(
        'INVALID_INPUT',
        `input "${layout.name}" must be ${layout.int ? 'an integer or bool tensor' : 'float32 or float64'}`,
      );
    if (size(t.shape) !== layout.size)
      throw new PlumbError(
        'INVALID_INPUT',
        `input "${layout.name}" has shape [${t.shape.join(', ')}], the circuit expects [${layout.shape.join(', ')}]`,
      );
    const half = 1n << BigInt(circuit.bits - 1);
    const q = fromTensor(t, circuit.scale, `input "${layout.name}"`).data;
    const i = q.findIndex((v) => v < -half || v >= half);
    if (i >= 0)
      throw new PlumbError(
        'INVALID_INPUT',
        `input "${layout.name}" is outside the circuit's ${circuit.bits}-bit range: element ${i} is ${t.data[i]}, the circuit takes |x| < ${2 ** (circuit.bits - 1 - circuit.scale)}`,
        { metaMessages: ['Set up the circuit for a wider input range (more input bits) to prove it.'] },
      );
    out[layout.signal] = q.map(signedToField);
  }
  return out;
}

/** Decode the outputs from public signals. */
export function decodeOutputs(
  circuit: Pick<CompiledCircuit, 'outputs' | 'scale'>,
  publicSignals: readonly string[],
): Record<string, ZkOutput> {
  const outputs: Record<string, ZkOutput> = {};
  for (const o of circuit.outputs) {
    const raw = publicSignals
      .slice(o.publicOffset, o.publicOffset + o.size)
      .map((x) => fieldToSigned(BigInt(x)));
    // integer outputs (o.int) are unscaled
    outputs[o.name] = {
      shape: o.shape,
      raw,
      values: o.int ? Float32Array.from(raw, Number) : dequantize(raw, circuit.scale),
    };
  }
  return outputs;
}

/** Prove that the model maps `inputs` to the returned outputs. */
export async function prove(
  artifacts: { circuit: Pick<CompiledCircuit, 'inputs' | 'outputs' | 'bits' | 'scale'> } & Pick<
    ZkArtifacts,
    'wasmPath' | 'zkeyPath'
  >,
  inputs: TensorMap,
): Promise<ProveResult> {
  const witnessInputs = circuitInputs(artifacts.circuit, inputs);
  const t = performance.now();
  let result: { proof: ZkProof; publicSignals: string[] };
  try {
    result = await snarkjs.groth16.fullProve(witnessInputs, artifacts.wasmPath, artifacts.zkeyPath);
  } catch (error) {
    throw new PlumbError(
      'INFERENCE_FAILED',
      'no proof: the witness violates the circuit (a value is out of range?)',
      {
        details: error instanceof Error ? error.message : String(error),
        cause: error,
      },
    );
  }
  const proveMs = performance.now() - t;
  return { ...result, outputs: decodeOutputs(artifacts.circuit, result.publicSignals), proveMs };
}

/** What a verifier needs of the circuit besides its key: the input range and where inputs sit. */
export type PublicLayout = Pick<CompiledCircuit, 'bits' | 'inputs'>;

/**
 * Why the public input signals are not acceptable, or undefined when they are: every input must
 * be a signed `bits`-bit integer (the circuit relies on the verifier for this range check).
 */
export function publicInputProblem(
  layout: PublicLayout,
  publicSignals: readonly string[],
): string | undefined {
  const half = 1n << BigInt(layout.bits - 1);
  for (const input of layout.inputs)
    for (let i = input.publicOffset; i < input.publicOffset + input.size; i++) {
      const raw = publicSignals[i];
      if (raw === undefined || !/^[0-9]{1,78}$/.test(raw)) return `public signal ${i} is not a field element`;
      const v = BigInt(raw);
      if (v >= FIELD_PRIME) return `public signal ${i} is not a field element`;
      const x = fieldToSigned(v);
      if (x < -half || x >= half)
        return `input "${input.name}" element ${i - input.publicOffset} is outside the circuit's ${layout.bits}-bit range`;
    }
  return undefined;
}

/**
 * True when `proof` is a valid Groth16 proof for `publicSignals` under `vkey` AND the public
 * inputs are in the circuit's range (`layout`, from the compiled circuit).
 */
export async function verify(
  vkey: snarkjs.VerificationKey,
  proof: ZkProof,
  publicSignals: readonly string[],
  layout: PublicLayout,
): Promise<boolean> {
  if (publicSignals.length !== vkey.nPublic) return false;
  if (publicInputProblem(layout, publicSignals) !== undefined) return false;
  return snarkjs.groth16.verify(vkey, publicSignals, proof);
}
