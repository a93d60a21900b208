/**
 * Op-level zk checks for tests: a model's circuit outputs computed by the witness generator only
 * (no proving) must EQUAL the exact executor's raw integers, and the executor must stay within a
 * stated bound of onnxruntime. Used by the op tests in src/proof/zk/*.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import type { Tensor, TensorMap } from '../../src/core/tensor.ts';
import { compileCircuit, FIELD_PRIME } from '../../src/proof/zk/circuit.ts';
import { circuitInputs, decodeOutputs, prove, verify } from '../../src/proof/zk/prove.ts';
import { compileCircom, releaseZk, setupModel } from '../../src/proof/zk/setup.ts';
import { compileExact } from '../../src/runtime/exact/exact.ts';
import { buildModel, type NodeSpec, seededRandom } from '../fixtures/onnx-builder.ts';
import { ortOutputs } from './ort.ts';

/** Half a quantization step at the default scale (2^-12): what moving values costs against onnxruntime. */
export const EPS = 2 ** -13;

export const f32 = (shape: number[], data: number[]): Tensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(data),
});
export const i64 = (shape: number[], data: number[]): Tensor => ({
  dtype: 'int64',
  shape,
  data: BigInt64Array.from(data.map(BigInt)),
});
export const rand = (seed: number, n: number, span: number): number[] => {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * span);
};

/** A node named after its op and first output ("pad", or "pad_t" for output t). */
export function node(op: string, inputs: string[], attrs?: NodeSpec['attrs'], outputs = ['y']): NodeSpec {
  return {
    op,
    name: outputs[0] === 'y' ? op.toLowerCase() : `${op.toLowerCase()}_${outputs[0]}`,
    inputs,
    outputs,
    ...(attrs ? { attrs } : {}),
  };
}

export type OpCase = {
  name: string;
  /** Shapes of the float inputs x (and x2, x3, ... for more). */
  shapes: number[][];
  nodes: NodeSpec[];
  initializers?: Record<string, Tensor>;
  opset?: number;
  /** Input values are uniform in [-span, span] (default 3). */
  span?: number;
  /** Allowed max abs difference of the executor from onnxruntime. */
  tol: number;
};

export const inputName = (i: number) => (i === 0 ? 'x' : `x${i + 1}`);

export function buildCase(c: OpCase, seed: number): { bytes: Uint8Array; inputs: TensorMap } {
  const bytes = buildModel({
    inputs: c.shapes.map((shape, i) => ({ name: inputName(i), dtype: 'float32' as const, shape })),
    outputs: [{ name: 'y', dtype: 'float32', shape: null }],
    nodes: c.nodes,
    initializers: c.initializers ?? {},
    opset: c.opset ?? 17,
  });
  const inputs: TensorMap = {};
  c.shapes.forEach((shape, i) => {
    inputs[inputName(i)] = f32(
      shape,
      rand(
        seed * 7 + i,
        shape.reduce((a, b) => a * b, 1),
        c.span ?? 3,
      ),
    );
  });
  return { bytes, inputs };
}

/** The compiled circuit's outputs computed by the witness generator only (no proving). */
export async function witnessOutputs(bytes: Uint8Array, inputs: TensorMap, dir: string) {
  const circuit = compileCircuit(bytes);
  const { r1cs, wasm } = await compileCircom(circuit.source, dir);
  const info = await snarkjs.r1cs.info(r1cs);
  const wtnsPath = join(dir, 'model.wtns');
  await snarkjs.wtns.calculate(circuitInputs(circuit, inputs), wasm, wtnsPath);
  const w = await snarkjs.wtns.exportJson(wtnsPath);
  const outputs = decodeOutputs(circuit, w.slice(1, 1 + circuit.nPublic).map(String));
  return { circuit, constraints: info.nConstraints as number, outputs };
}

/** A circuit's (or proof's) outputs equal the exact executor's raw integers at `scale`. */
export function assertOutputsExact(
  bytes: Uint8Array,
  inputs: TensorMap,
  outputs: Record<string, { raw: bigint[] }>,
  scale = 12,
): void {
  const exact = compileExact(bytes, { scale }).run(inputs);
  assert.ok(exact.raw.size > 0);
  for (const [name, raw] of exact.raw) {
    const out = outputs[name];
    assert.ok(out, `output ${name}`);
    assert.deepEqual(out.raw, raw, `output ${name}: circuit != exact executor`);
  }
}

/** Witness outputs of the compiled circuit equal the executor's raw integers; returns stats. */
export async function assertWitnessExact(bytes: Uint8Array, inputs: TensorMap, dir: string) {
  const { circuit, constraints, outputs } = await witnessOutputs(bytes, inputs, dir);
  assertOutputsExact(bytes, inputs, outputs, circuit.scale);
  return { constraints, estimate: circuit.constraintEstimate };
}

/**
 * Groth16 end to end: set `bytes` up (in `workDir`, ptau files cached in `ptauDir`), prove
 * `inputs`; the proof's outputs equal the executor's, it verifies, and with its first public
 * signal changed it does not. Returns the artifacts and the proof.
 */
export async function assertGroth16(bytes: Uint8Array, inputs: TensorMap, workDir: string, ptauDir: string) {
  const a = await setupModel(bytes, { workDir, ptauDir });
  const p = await prove(a, inputs);
  assertOutputsExact(bytes, inputs, p.outputs);
  assert.equal(await verify(a.vkey, p.proof, p.publicSignals, a.circuit), true);
  const bad = p.publicSignals.map((v, k) => (k === 0 ? ((BigInt(v) + 1n) % FIELD_PRIME).toString() : v));
  assert.equal(await verify(a.vkey, p.proof, bad, a.circuit), false);
  return { a, p };
}

/** The executor's outputs are within `tol` of onnxruntime's (same shapes); returns the max error. */
export async function assertNearOrt(bytes: Uint8Array, inputs: TensorMap, tol: number): Promise<number> {
  const exact = compileExact(bytes).run(inputs);
  const ref = await ortOutputs(bytes, inputs);
  let worst = 0;
  for (const [name, got] of Object.entries(exact.outputs)) {
    const r: Tensor | undefined = ref[name];
    assert.ok(r, `onnxruntime output ${name}`);
    assert.deepEqual([...got.shape], [...r.shape], `output ${name}: shape`);
    const a = got.data as ArrayLike<number | bigint>;
    const b = r.data as ArrayLike<number | bigint>;
    for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(Number(a[i]) - Number(b[i])));
  }
  assert.ok(worst <= tol + 1e-5, `error ${worst} exceeds the bound ${tol}`);
  return worst;
}

/**
 * A scratch folder for circom output, named `prefix`...; call it inside a suite: after the suite
 * the zk workers are released and the folder removed.
 */
export function zkWorkDir(prefix: string): string {
  const work = mkdtempSync(join(tmpdir(), prefix));
  after(async () => {
    await releaseZk();
    rmSync(work, { recursive: true, force: true });
  });
  return work;
}

/**
 * One test per case: the executor within the case's `tol` of onnxruntime, the circuit's witness
 * outputs equal to the executor (circom output in `work`/c<i>), constraints and error as a
 * diagnostic. Case i is built with seed `seed + i`.
 */
export function itOpCases(cases: readonly OpCase[], seed: number, work: string): void {
  for (const [i, c] of cases.entries())
    it(c.name, async (t) => {
      const { bytes, inputs } = buildCase(c, seed + i);
      const err = await assertNearOrt(bytes, inputs, c.tol);
      const { constraints } = await assertWitnessExact(bytes, inputs, join(work, `c${i}`));
      t.diagnostic(`${c.name}: ${constraints} constraints, executor vs onnxruntime ${err.toExponential(2)}`);
    });
}
