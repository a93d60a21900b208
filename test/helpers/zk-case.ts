/**
 * One model through the whole zk path, measured: compile + Groth16 setup, prove, verify, and
 * the checks that give the figures meaning — the circuit's outputs against the exact executor
 * (must be equal) and against onnxruntime (the quantization error). Shared by the zk corpus
 * test and `npm run bench:zk`.
 */
import { join } from 'node:path';
import type { TensorMap } from '../../src/core/tensor.ts';
import { type ProveResult, prove, verify } from '../../src/proof/zk/prove.ts';
import { setupModel, type ZkArtifacts } from '../../src/proof/zk/setup.ts';
import { type ErrorBound, errorBound } from '../../src/runtime/exact/error-bound.ts';
import { compileExact } from '../../src/runtime/exact/exact.ts';
import type { EzklCase } from './ezkl.ts';
import { ort, runDirect, toOrtTensor } from './ort.ts';

export type ZkCaseResult = {
  artifacts: ZkArtifacts;
  proof: ProveResult;
  verified: boolean;
  verifyMs: number;
  /** Bytes of the proof as JSON (what a receipt carries). */
  proofBytes: number;
  /** Outputs whose circuit integers differ from the exact executor's (must be empty). */
  exactMismatches: string[];
  /** max |circuit output - onnxruntime output| over all outputs (NaN when onnxruntime refuses it). */
  maxAbsError: number;
  /** Why onnxruntime could not run the model, when it could not. */
  ortError?: string;
  /** The executor's a-priori error bound for this input (src/runtime/exact/error-bound.ts). */
  errorBound: ErrorBound;
  /** Median onnxruntime run of the same input, ms (the plain-inference baseline; NaN without one). */
  plainMs: number;
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Median warm session.run on one session (session creation not counted). */
async function plainMedianMs(bytes: Uint8Array, inputs: TensorMap, runs: number): Promise<number> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) feeds[name] = toOrtTensor(t);
    await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    await session.release();
  }
}

/** Set up, prove and verify `c` in `workRoot/<name>`, caching ptau files in `ptauDir`. */
export async function runZkCase(
  c: EzklCase,
  { workRoot, ptauDir, plainRuns = 21 }: { workRoot: string; ptauDir: string; plainRuns?: number },
): Promise<ZkCaseResult> {
  const artifacts = await setupModel(c.bytes, { workDir: join(workRoot, c.name), ptauDir });
  const proof = await prove(artifacts, c.inputs);
  const t = performance.now();
  const verified = await verify(artifacts.vkey, proof.proof, proof.publicSignals, artifacts.circuit);
  const verifyMs = performance.now() - t;

  const exact = compileExact(c.bytes, { scale: artifacts.circuit.scale }).run(c.inputs);
  const exactMismatches: string[] = [];
  for (const [name, raw] of exact.raw) {
    const got = proof.outputs[name]?.raw;
    if (!got || got.length !== raw.length || got.some((v, i) => v !== raw[i])) exactMismatches.push(name);
  }

  // onnxruntime is the float reference; a model it refuses (ezkl decision_tree) has none.
  const ref = await runDirect(c.bytes, c.inputs);
  let maxAbsError = Number.NaN;
  let ortError: string | undefined;
  if (ref.ok) {
    maxAbsError = 0;
    for (const [name, out] of Object.entries(proof.outputs)) {
      const r = ref.outputs[name];
      if (!r) throw new Error(`onnxruntime has no output "${name}"`);
      maxAbsError = Math.max(maxAbsError, maxAbsDiff(out.values, r.data as ArrayLike<number>));
    }
  } else ortError = `onnxruntime ${ref.stage}: ${ref.error}`;
  return {
    artifacts,
    proof,
    verified,
    verifyMs,
    proofBytes: JSON.stringify(proof.proof).length,
    exactMismatches,
    maxAbsError,
    errorBound: errorBound(c.bytes, c.inputs, artifacts.circuit.scale),
    plainMs: ref.ok ? await plainMedianMs(c.bytes, c.inputs, plainRuns) : Number.NaN,
    ...(ortError ? { ortError } : {}),
  };
}
