/**
 * What a model's zk setup leaves behind, stored by CID and linked to the model CID under these
 * roles in its manifest's `artifacts`: the circom source, the witness generator (wasm), the
 * Groth16 proving key (zkey), the verification key (JSON) and the circuit layout (JSON: where
 * inputs and outputs sit in the public signals, scale, range, cost and provenance).
 * JSON artifacts are stored as compact `JSON.stringify` text, so anyone holding the parsed
 * value can recompute its CID.
 */
import { z } from 'zod';
import { cidOf } from '../../core/cid.ts';
import type { CompiledCircuit } from './types.ts';

export const zkRoles = {
  circuit: 'zk.circuit',
  wasm: 'zk.wasm',
  zkey: 'zk.zkey',
  vkey: 'zk.vkey',
  layout: 'zk.layout',
} as const;
export type ZkRole = keyof typeof zkRoles;

/** The roles a model needs for zk mode, in the order they are stored. */
export const zkRoleList: readonly ZkRole[] = ['circuit', 'wasm', 'zkey', 'vkey', 'layout'];

const signalLayout = z.object({
  name: z.string(),
  signal: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  size: z.number().int().nonnegative(),
  publicOffset: z.number().int().nonnegative(),
});

/** The `zk.layout` artifact. */
export const zkLayoutSchema = z.object({
  version: z.literal(1),
  protocol: z.literal('groth16'),
  curve: z.literal('bn128'),
  scale: z.number().int().min(0).max(60),
  bits: z.number().int().min(2).max(200),
  inputs: z.array(signalLayout),
  outputs: z.array(signalLayout),
  nPublic: z.number().int().nonnegative(),
  constraintEstimate: z.number().int().nonnegative(),
  /** R1CS constraints after circom --O1. */
  constraints: z.number().int().nonnegative(),
  /** The circuit's domain is 2^power. */
  power: z.number().int().positive(),
  ptau: z.object({ supplied: z.boolean(), power: z.number().int().positive() }),
  /** What the setup's trust rests on (development setup, or local phase 2). */
  warning: z.string(),
  /** With a calibration input: max |exact executor (= circuit) - onnxruntime| over all outputs. */
  calibration: z.object({ maxAbsError: z.number(), outputs: z.number().int() }).optional(),
  timings: z.object({ compileMs: z.number(), ptauMs: z.number(), zkeyMs: z.number() }),
});
export type ZkLayout = z.infer<typeof zkLayoutSchema>;

/** A verification key in snarkjs's JSON form (only what Plumb checks is typed). */
export const vkeySchema = z
  .object({ protocol: z.literal('groth16'), curve: z.literal('bn128'), nPublic: z.number().int() })
  .passthrough();

export function layoutOf(
  circuit: Omit<CompiledCircuit, 'source'>,
  extra: Pick<ZkLayout, 'constraints' | 'power' | 'ptau' | 'warning' | 'timings'> &
    Partial<Pick<ZkLayout, 'calibration'>>,
): ZkLayout {
  const layout: ZkLayout = {
    version: 1,
    protocol: 'groth16',
    curve: 'bn128',
    scale: circuit.scale,
    bits: circuit.bits,
    inputs: circuit.inputs,
    outputs: circuit.outputs,
    nPublic: circuit.nPublic,
    constraintEstimate: circuit.constraintEstimate,
    constraints: extra.constraints,
    power: extra.power,
    ptau: extra.ptau,
    warning: extra.warning,
    timings: extra.timings,
  };
  if (extra.calibration) layout.calibration = extra.calibration;
  return layout;
}

/** The stored bytes of a JSON artifact. */
export function jsonArtifact(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** The CID a JSON artifact is stored under. */
export function jsonArtifactCid(value: unknown): string {
  return cidOf(jsonArtifact(value));
}
