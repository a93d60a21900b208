import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildMlp, buildModel } from '../../../test/fixtures/onnx-builder.ts';
import { isPlumbError } from '../../core/errors.ts';
import type { TensorMap } from '../../core/tensor.ts';
import { compileExact } from '../../runtime/exact/exact.ts';
import { compileCircuit, FIELD_PRIME } from './circuit.ts';
import { type ProveResult, prove, publicInputProblem, verify } from './prove.ts';
import { releaseZk, setupModel, type ZkArtifacts } from './setup.ts';

const corpus = new URL('../../../../shared/corpus/ezkl/', import.meta.url);
const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
const work = mkdtempSync(join(tmpdir(), 'plumb-zk-'));

type Case = {
  name: string;
  bytes: Uint8Array;
  inputs: TensorMap;
  artifacts?: ZkArtifacts;
  proof?: ProveResult;
};

const mlp = buildMlp({ sizes: [4, 8, 3], seed: 7 });
const corpusJson = JSON.parse(readFileSync(new URL('1l_mlp/input.json', corpus), 'utf8')) as {
  input_data: number[][];
};
const cases: Case[] = [
  // the larger circuit first, so its ptau (the larger power) is cached and reused by the other
  {
    name: 'buildMlp [4,8,3]',
    bytes: mlp.bytes,
    inputs: {
      input: { dtype: 'float32', shape: [1, 4], data: Float32Array.from([0.5, -1.25, 2.0625, -0.3]) },
    },
  },
  {
    name: 'ezkl 1l_mlp',
    bytes: readFileSync(new URL('1l_mlp/network.onnx', corpus)),
    inputs: {
      input: { dtype: 'float32', shape: [1, 3], data: Float32Array.from(corpusJson.input_data[0]!) },
    },
  },
];

const flip = (signals: readonly string[], i: number): string[] =>
  signals.map((v, k) => (k === i ? ((BigInt(v) + 1n) % FIELD_PRIME).toString() : v));

describe('zk mode (Groth16 over the exact executor)', { timeout: 180_000 }, () => {
  before(async () => {
    for (const c of cases) {
      const t = performance.now();
      c.artifacts = await setupModel(c.bytes, { workDir: join(work, c.name.replace(/\W+/g, '_')), ptauDir });
      c.proof = await prove(c.artifacts, c.inputs);
      const a = c.artifacts;
      console.log(
        `[zk] ${c.name}: ${a.constraints} constraints (estimate ${a.circuit.constraintEstimate}), power ${a.power}, ` +
          `compile ${a.timings.compileMs.toFixed(0)} ms, ptau ${a.timings.ptauMs.toFixed(0)} ms, ` +
          `zkey ${a.timings.zkeyMs.toFixed(0)} ms, prove ${c.proof.proveMs.toFixed(0)} ms, ` +
          `total ${(performance.now() - t).toFixed(0)} ms`,
      );
    }
  });
  after(async () => {
    await releaseZk();
    rmSync(work, { recursive: true, force: true });
  });

  for (const [idx, c] of cases.entries()) {
    describe(c.name, () => {
      it('circuit outputs equal the exact executor raw outputs exactly', () => {
        const exact = compileExact(c.bytes).run(c.inputs);
        for (const [name, raw] of exact.raw) {
          const out = c.proof!.outputs[name];
          assert.ok(out, `output ${name}`);
          assert.deepEqual(out.raw, raw);
          assert.deepEqual(out.values, exact.outputs[name]!.data);
        }
        assert.match(c.artifacts!.warning, /development/);
      });

      it('the proof verifies', async () => {
        const t = performance.now();
        assert.equal(
          await verify(c.artifacts!.vkey, c.proof!.proof, c.proof!.publicSignals, c.artifacts!.circuit),
          true,
        );
        console.log(`[zk] ${c.name}: verify ${(performance.now() - t).toFixed(0)} ms`);
      });

      it('rejects a changed output signal', async () => {
        const sig = flip(c.proof!.publicSignals, 0);
        assert.equal(await verify(c.artifacts!.vkey, c.proof!.proof, sig, c.artifacts!.circuit), false);
      });

      it('rejects a changed input signal', async () => {
        const layout = c.artifacts!.circuit.inputs[0]!;
        const sig = flip(c.proof!.publicSignals, layout.publicOffset);
        assert.equal(await verify(c.artifacts!.vkey, c.proof!.proof, sig, c.artifacts!.circuit), false);
      });

      it('rejects an input outside the circuit range before the pairing check', async () => {
        const layout = c.artifacts!.circuit.inputs[0]!;
        const big = (1n << BigInt(c.artifacts!.circuit.bits - 1)).toString();
        const sig = c.proof!.publicSignals.map((v, k) => (k === layout.publicOffset ? big : v));
        assert.equal(await verify(c.artifacts!.vkey, c.proof!.proof, sig, c.artifacts!.circuit), false);
        assert.match(
          publicInputProblem(c.artifacts!.circuit, sig) ?? '',
          /outside the circuit's 24-bit range/,
        );
      });

      it("rejects the proof under another model's verification key", async () => {
        const other = cases[(idx + 1) % cases.length]!.artifacts!;
        assert.equal(other.vkey.nPublic, c.artifacts!.vkey.nPublic); // same layout size: a real test
        assert.equal(
          await verify(other.vkey, c.proof!.proof, c.proof!.publicSignals, c.artifacts!.circuit),
          false,
        );
      });
    });
  }

  it('has negative outputs in the MLP case (signed decoding)', () => {
    const out = cases[0]!.proof!.outputs['output']!;
    assert.ok(out.raw.some((v) => v < 0n));
    assert.equal(cases[0]!.proof!.publicSignals.length, 3 + 4);
  });
});

describe('compileCircuit', () => {
  it('compiles the ezkl 2l_relu_fc corpus model', () => {
    const c = compileCircuit(readFileSync(new URL('2l_relu_fc/network.onnx', corpus)));
    assert.deepEqual(c.inputs[0]!.shape, [1, 3]);
    assert.deepEqual(c.outputs[0]!.shape, [1, 1]);
    assert.equal(c.nPublic, 4);
  });

  it('rejects unsupported ops, listing them', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
      nodes: [
        { op: 'RandomUniformLike', name: 's', inputs: ['x'], outputs: ['h'] },
        { op: 'Multinomial', name: 't', inputs: ['h'], outputs: ['y'] },
      ],
    });
    assert.throws(
      () => compileCircuit(bytes),
      (e: unknown) =>
        isPlumbError(e, 'INVALID_MODEL') &&
        /Multinomial, RandomUniformLike/.test(e.message) &&
        /node "s" \(RandomUniformLike\)/.test(e.message),
    );
  });

  it('lowers MatMul + Add + Flatten/Reshape and marks weights as constants', () => {
    const w = Float32Array.from([0.5, -0.25, 1, 2, -1.5, 0.125]);
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
      nodes: [
        { op: 'MatMul', name: 'mm', inputs: ['x', 'w'], outputs: ['h'] },
        { op: 'Add', name: 'add', inputs: ['h', 'b'], outputs: ['h2'] },
        { op: 'Relu', name: 'r', inputs: ['h2'], outputs: ['h3'] },
        { op: 'Flatten', name: 'f', inputs: ['h3'], outputs: ['h4'] },
        { op: 'Reshape', name: 'rs', inputs: ['h4', 'shape'], outputs: ['y'] },
      ],
      initializers: {
        w: { dtype: 'float32', shape: [3, 2], data: w },
        b: { dtype: 'float32', shape: [2], data: Float32Array.from([0.1, -0.2]) },
        shape: { dtype: 'int64', shape: [1], data: BigInt64Array.from([-1n]) },
      },
    });
    const c = compileCircuit(bytes, { scale: 8 });
    assert.deepEqual(c.inputs[0]!.shape, [1, 3]);
    assert.deepEqual(c.outputs[0]!.shape, [2]);
    assert.equal(c.nPublic, 5);
    assert.match(c.source, /\(128\) \* in0\[0\]/); // 0.5 at 2^8
    assert.match(c.source, /component main \{public \[in0\]\}/);
  });
});
