import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildMlp, buildModel, seededRandom } from '../../../test/fixtures/onnx-builder.ts';
import { ortRun } from '../../../test/helpers/ort.ts';
import { isPlumbError } from '../../core/errors.ts';
import { parseInputs } from '../../core/inputs.ts';
import { extractManifest } from '../../core/onnx/manifest.ts';
import { decodeModel } from '../../core/onnx/model.ts';
import type { TensorMap } from '../../core/tensor.ts';
import { errorBound } from './error-bound.ts';
import { checkSupport, compileExact } from './exact.ts';

const corpus = '/work/shared/corpus/ezkl';
const S = 12;
/** Slack for onnxruntime's own float32 rounding. */
const FLOAT_SLACK = 1e-5;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function loadCorpus(name: string): { bytes: Uint8Array; inputs: TensorMap } {
  const bytes = new Uint8Array(readFileSync(`${corpus}/${name}/network.onnx`));
  const manifest = extractManifest(bytes);
  const inputs = parseInputs(
    JSON.parse(readFileSync(`${corpus}/${name}/input.json`, 'utf8')),
    manifest.inputs,
  );
  return { bytes, inputs };
}

async function compareWithOrt(
  t: { diagnostic(msg: string): void },
  label: string,
  bytes: Uint8Array,
  inputs: TensorMap,
): Promise<void> {
  const model = compileExact(bytes, { scale: S });
  const t0 = performance.now();
  const res = model.run(inputs);
  const ms = performance.now() - t0;
  const ref = await ortRun(bytes, inputs);
  const derived = errorBound(bytes, inputs, S);
  assert.ok(derived.bound !== undefined, `${label}: no error rule for ${derived.unknownOps.join(', ')}`);
  const bound = derived.bound + FLOAT_SLACK;
  let worst = 0;
  for (const name of model.outputNames) {
    const got = res.outputs[name]!;
    assert.equal(got.dtype, 'float32');
    worst = Math.max(worst, maxAbsDiff(got.data as Float32Array, ref[name]!));
  }
  t.diagnostic(
    `${label}: max abs error ${worst.toExponential(3)} (derived bound ${bound.toExponential(3)}), exact run ${ms.toFixed(2)} ms`,
  );
  assert.ok(worst <= bound, `${label}: error ${worst} exceeds the derived bound ${bound}`);
}

const corpusModels = [
  '1l_mlp',
  '1l_relu',
  '1l_leakyrelu',
  '1l_conv',
  '2l_relu_fc',
  '1l_max_pool',
  '1l_average',
  '1l_flatten',
  '1l_reshape',
  '1l_sigmoid',
  '1l_tanh',
  '1l_batch_norm',
  '1l_pad',
  '1l_slice',
  '1l_concat',
  '3l_relu_conv_fc',
];

describe('exact executor against onnxruntime', () => {
  it('buildMlp 784-128-10 with random input', async (t) => {
    const mlp = buildMlp({ sizes: [784, 128, 10], seed: 3 });
    const rnd = seededRandom(11);
    const input = Float32Array.from({ length: 784 }, () => rnd() * 2 - 1);
    const inputs: TensorMap = { input: { dtype: 'float32', shape: [1, 784], data: input } };
    await compareWithOrt(t, 'mlp 784-128-10', mlp.bytes, inputs);
    // warm run timing
    const model = compileExact(mlp.bytes);
    model.run(inputs);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) model.run(inputs);
    t.diagnostic(`mlp 784-128-10: warm exact run ${((performance.now() - t0) / 5).toFixed(2)} ms`);
  });

  for (const name of corpusModels) {
    it(`corpus ${name}`, async (t) => {
      const { bytes, inputs } = loadCorpus(name);
      await compareWithOrt(t, name, bytes, inputs);
      if (name === '3l_relu_conv_fc') {
        const model = compileExact(bytes);
        model.run(inputs);
        const t0 = performance.now();
        for (let i = 0; i < 5; i++) model.run(inputs);
        t.diagnostic(`3l_relu_conv_fc: warm exact run ${((performance.now() - t0) / 5).toFixed(2)} ms`);
      }
    });
  }

  it('a built model with Conv(group, strides, pads, dilations), pools, Transpose, MatMul, Mul/Div/Sub', async (t) => {
    const rnd = seededRandom(5);
    const f = (n: number, k = 1) => Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * k);
    const withSlice = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 9, 9] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: null }],
      initializers: {
        w: { dtype: 'float32', shape: [6, 2, 3, 3], data: f(108, 0.3) },
        b: { dtype: 'float32', shape: [6], data: f(6) },
        m: { dtype: 'float32', shape: [4, 3], data: f(12) },
        k: { dtype: 'float32', shape: [1], data: Float32Array.of(1.7) },
        d: { dtype: 'float32', shape: [3], data: Float32Array.of(3, -0.5, 2.25) },
        st: { dtype: 'int64', shape: [1], data: BigInt64Array.of(0n) },
        en: { dtype: 'int64', shape: [1], data: BigInt64Array.of(4n) },
        ax: { dtype: 'int64', shape: [1], data: BigInt64Array.of(3n) },
      },
      nodes: [
        {
          op: 'Conv',
          inputs: ['x', 'w', 'b'],
          outputs: ['c'],
          attrs: {
            group: { int: 2 },
            strides: { ints: [2, 1] },
            pads: { ints: [1, 0, 2, 1] },
            dilations: { ints: [1, 2] },
          },
        },
        {
          op: 'MaxPool',
          inputs: ['c'],
          outputs: ['p'],
          attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
        },
        {
          op: 'AveragePool',
          inputs: ['c'],
          outputs: ['q'],
          attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] }, strides: { ints: [2, 2] } },
        },
        { op: 'Sub', inputs: ['p', 'k'], outputs: ['ps'] },
        { op: 'Transpose', inputs: ['ps'], outputs: ['pt'], attrs: { perm: { ints: [0, 2, 3, 1] } } },
        { op: 'Flatten', inputs: ['q'], outputs: ['qf'], attrs: { axis: { int: 2 } } },
        { op: 'Mul', inputs: ['qf', 'k'], outputs: ['qm'] },
        { op: 'Slice', inputs: ['pt', 'st', 'en', 'ax'], outputs: ['ptl'] },
        { op: 'MatMul', inputs: ['ptl', 'm'], outputs: ['mm'] },
        { op: 'Div', inputs: ['mm', 'd'], outputs: ['dv'] },
        { op: 'Flatten', inputs: ['dv'], outputs: ['dvf'], attrs: { axis: { int: 0 } } },
        { op: 'Flatten', inputs: ['qm'], outputs: ['qmf'], attrs: { axis: { int: 0 } } },
        { op: 'Concat', inputs: ['dvf', 'qmf'], outputs: ['y'], attrs: { axis: { int: 1 } } },
      ],
    });
    const inputs: TensorMap = { x: { dtype: 'float32', shape: [1, 4, 9, 9], data: f(324) } };
    const model = compileExact(withSlice);
    const res = model.run(inputs);
    const ref = await ortRun(withSlice, inputs);
    const err = maxAbsDiff(res.outputs['y']!.data as Float32Array, ref['y']!);
    t.diagnostic(`built op mix: max abs error ${err.toExponential(3)} (${ref['y']!.length} values)`);
    assert.ok(err < 0.01, `error ${err}`);
  });
});

describe('Gemm attributes and Pad inputs (opset 17)', () => {
  it('Gemm transA/transB/alpha/beta with broadcast C, then Pad with a constant value, matches onnxruntime', async (t) => {
    const rnd = seededRandom(8);
    const f = (n: number) => Float32Array.from({ length: n }, () => rnd() * 2 - 1);
    const bytes = buildModel({
      inputs: [{ name: 'a', dtype: 'float32', shape: [5, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: null }],
      initializers: {
        b: { dtype: 'float32', shape: [4, 5], data: f(20) },
        c: { dtype: 'float32', shape: [4], data: f(4) },
        pads: { dtype: 'int64', shape: [4], data: BigInt64Array.of(1n, 0n, 0n, 2n) },
        cv: { dtype: 'float32', shape: [], data: Float32Array.of(-1.25) },
      },
      nodes: [
        {
          op: 'Gemm',
          inputs: ['a', 'b', 'c'],
          outputs: ['g'],
          attrs: { transA: { int: 1 }, transB: { int: 1 }, alpha: { float: 0.5 }, beta: { float: 2 } },
        },
        { op: 'Pad', inputs: ['g', 'pads', 'cv'], outputs: ['y'] },
      ],
    });
    const inputs: TensorMap = { a: { dtype: 'float32', shape: [5, 3], data: f(15) } };
    const res = compileExact(bytes).run(inputs);
    const ref = await ortRun(bytes, inputs);
    assert.deepEqual(res.outputs['y']!.shape, [4, 6]);
    const err = maxAbsDiff(res.outputs['y']!.data as Float32Array, ref['y']!);
    t.diagnostic(`Gemm+Pad: max abs error ${err.toExponential(3)}`);
    assert.ok(err < 1e-3, `error ${err}`);
  });
});

describe('determinism and trace', () => {
  it('identical raw integers and trace across runs and compiled instances', () => {
    const { bytes, inputs } = loadCorpus('3l_relu_conv_fc');
    const a = compileExact(bytes);
    const b = compileExact(bytes);
    const r1 = a.run(inputs, { trace: true });
    const r2 = a.run(inputs, { trace: true });
    const r3 = b.run(inputs, { trace: true });
    assert.deepEqual(r1.raw, r2.raw);
    assert.deepEqual(r1.raw, r3.raw);
    assert.deepEqual(r1.trace, r2.trace);
    assert.deepEqual(r1.trace, r3.trace);
    assert.equal(r1.trace!.length, decodeModel(bytes).graph!.node.length);
    for (const e of r1.trace!) assert.match(e.sha256, /^[0-9a-f]{64}$/);
    assert.equal(a.run(inputs).trace, undefined);
  });

  it('the trace pins the integers: a changed input changes the first node hash, later ones follow', () => {
    const mlp = buildMlp({ sizes: [8, 4, 2], seed: 9 });
    const model = compileExact(mlp.bytes);
    const x = Float32Array.from({ length: 8 }, (_, i) => i / 8 - 0.4);
    const r1 = model.run({ input: { dtype: 'float32', shape: [1, 8], data: x } }, { trace: true });
    const y = Float32Array.from(x);
    y[3] = y[3]! + 0.25;
    const r2 = model.run({ input: { dtype: 'float32', shape: [1, 8], data: y } }, { trace: true });
    assert.notEqual(r1.trace![0]!.sha256, r2.trace![0]!.sha256);
    assert.equal(r1.trace!.length, 3); // Gemm, Relu, Gemm
    assert.deepEqual(
      r1.trace!.map((e) => e.opType),
      ['Gemm', 'Relu', 'Gemm'],
    );
  });

  it('raw outputs of the MLP are stable known integers at s = 12', () => {
    const mlp = buildMlp({ sizes: [4, 3, 2], seed: 1 });
    const model = compileExact(mlp.bytes, { scale: 12 });
    const r = model.run({
      input: { dtype: 'float32', shape: [1, 4], data: Float32Array.of(0.5, -1, 0.25, 2) },
    });
    // golden values: any machine must produce exactly these integers and this hash
    assert.deepEqual(r.raw.get('output'), [-3413n, -1701n]);
    const t = model.run(
      { input: { dtype: 'float32', shape: [1, 4], data: Float32Array.of(0.5, -1, 0.25, 2) } },
      { trace: true },
    );
    assert.equal(t.trace!.at(-1)!.sha256, '966c0c2b92211eeb2c87deecfd7a6c3789dc73fee621534e37b322d87e2041bd');
    const ref = mlp.forward(Float32Array.of(0.5, -1, 0.25, 2));
    for (const [i, v] of r.raw.get('output')!.entries())
      assert.ok(Math.abs(Number(v) / 4096 - ref[i]!) < 0.002);
  });

  it('scale is a parameter: a larger scale is more accurate', async () => {
    const mlp = buildMlp({ sizes: [64, 32, 4], seed: 4 });
    const rnd = seededRandom(2);
    const inputs: TensorMap = {
      input: { dtype: 'float32', shape: [1, 64], data: Float32Array.from({ length: 64 }, rnd) },
    };
    const ref = await ortRun(mlp.bytes, inputs);
    const err = (s: number) =>
      maxAbsDiff(
        compileExact(mlp.bytes, { scale: s }).run(inputs).outputs['output']!.data as Float32Array,
        ref['output']!,
      );
    assert.ok(err(20) < err(8));
    assert.ok(err(20) < 1e-4);
  });
});

describe('unsupported models', () => {
  it('a model with unsupported ops is refused with every unsupported op and node listed', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
      outputs: [{ name: 'z', dtype: 'float32', shape: null }],
      nodes: [
        { op: 'NonMaxSuppression', name: 'nms', inputs: ['x'], outputs: ['y'] },
        { op: 'Scan', name: 'scan', inputs: ['y'], outputs: ['z'] },
      ],
    });
    const list = checkSupport(bytes);
    assert.deepEqual(list.map((u) => u.opType).sort(), ['NonMaxSuppression', 'Scan']);
    assert.throws(
      () => compileExact(bytes),
      (e: unknown) => {
        assert.ok(isPlumbError(e));
        assert.equal(e.code, 'INVALID_MODEL');
        for (const u of list) {
          assert.ok(e.shortMessage.includes(u.opType), u.opType);
          assert.ok(e.message.includes(`node "${u.node}"`), u.node);
        }
        return true;
      },
    );
  });
  it('supported corpus models have an empty checkSupport list', () => {
    for (const name of corpusModels)
      assert.deepEqual(
        checkSupport(new Uint8Array(readFileSync(`${corpus}/${name}/network.onnx`))),
        [],
        name,
      );
  });
});
