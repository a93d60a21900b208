import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildModel, type NodeSpec } from '../../../test/fixtures/onnx-builder.ts';
import { loadEzklCase } from '../../../test/helpers/ezkl.ts';
import { runDirect } from '../../../test/helpers/ort.ts';
import { runZkCase } from '../../../test/helpers/zk-case.ts';
import { assertWitnessExact, f32, rand, zkWorkDir } from '../../../test/helpers/zk-witness.ts';
import type { Tensor, TensorMap } from '../../core/tensor.ts';
import { errorBound } from '../../runtime/exact/error-bound.ts';
import { compileExact } from '../../runtime/exact/exact.ts';
import { compileCircuit } from './circuit.ts';

const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
/** onnxruntime's own float32 rounding, on top of the executor's reported bound. */
const FLOAT_SLACK = 1e-5;

const GATES = { RNN: 1, GRU: 3, LSTM: 4 } as const;
type Op = keyof typeof GATES;

/** One recurrent node of a test model (its outputs are `${name}_y`, `_h`, `_c`). */
type Rec = {
  op: Op;
  name: string;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  bias?: boolean;
  /** initial_h (and initial_c) as graph inputs: non-constant states. */
  states?: boolean;
  attrs?: NodeSpec['attrs'];
  peepholes?: boolean;
  lens?: number[];
};

type Model = { bytes: Uint8Array; inputs: TensorMap };

const SEQ = 3;
const IN = 2;
const HID = 2;

/** A model of recurrent nodes sharing the input x [SEQ, BATCH, IN] (layout 0). */
function model(recs: Rec[], seed: number, BATCH = 1): Model {
  const initializers: Record<string, Tensor> = {};
  const nodes: NodeSpec[] = [];
  const graphInputs = [{ name: 'x', dtype: 'float32' as const, shape: [SEQ, BATCH, IN] }];
  const inputs: TensorMap = { x: f32([SEQ, BATCH, IN], rand(seed, SEQ * BATCH * IN, 2)) };
  const outputs: string[] = [];
  recs.forEach((r, n) => {
    const D = r.direction === 'bidirectional' ? 2 : 1;
    const G = GATES[r.op];
    const k = seed * 100 + n * 10;
    const init = (name: string, shape: number[], span: number, i: number) => {
      initializers[`${r.name}_${name}`] = f32(
        shape,
        rand(
          k + i,
          shape.reduce((a, b) => a * b, 1),
          span,
        ),
      );
      return `${r.name}_${name}`;
    };
    const ins = ['x', init('W', [D, G * HID, IN], 0.7, 1), init('R', [D, G * HID, HID], 0.7, 2)];
    ins.push(r.bias ? init('B', [D, 2 * G * HID], 0.5, 3) : '');
    if (r.lens) {
      initializers[`${r.name}_lens`] = { dtype: 'int32', shape: [BATCH], data: Int32Array.from(r.lens) };
      ins.push(`${r.name}_lens`);
    } else ins.push('');
    const stateNames = r.op === 'LSTM' ? ['h0', 'c0'] : ['h0'];
    for (const [i, s] of stateNames.entries()) {
      if (!r.states) {
        ins.push('');
        continue;
      }
      const name = `${r.name}_${s}`;
      graphInputs.push({ name, dtype: 'float32', shape: [D, BATCH, HID] });
      inputs[name] = f32([D, BATCH, HID], rand(k + 5 + i, D * BATCH * HID, 0.8));
      ins.push(name);
    }
    if (r.peepholes) {
      if (!r.states) ins.push('');
      ins.push(init('P', [D, 3 * HID], 0.5, 7));
    }
    while (ins.at(-1) === '') ins.pop();
    const outs = [`${r.name}_y`, `${r.name}_h`, ...(r.op === 'LSTM' ? [`${r.name}_c`] : [])];
    outputs.push(...outs);
    nodes.push({
      op: r.op,
      name: r.name,
      inputs: ins,
      outputs: outs,
      attrs: { hidden_size: { int: HID }, direction: { string: r.direction ?? 'forward' }, ...r.attrs },
    });
  });
  const bytes = buildModel({
    inputs: graphInputs,
    outputs: outputs.map((name) => ({ name, dtype: 'float32' as const, shape: null })),
    nodes,
    initializers,
    opset: 14,
  });
  return { bytes, inputs };
}

/** The executor within its reported error bound of onnxruntime; returns [max error, bound]. */
async function nearOrt(m: Model): Promise<[number, number]> {
  const exact = compileExact(m.bytes).run(m.inputs);
  const ref = await runDirect(m.bytes, m.inputs);
  if (!ref.ok) throw new Error(`onnxruntime ${ref.stage}: ${ref.error}`);
  const { bound, unknownOps } = errorBound(m.bytes, m.inputs);
  assert.deepEqual(unknownOps, []);
  assert.ok(bound !== undefined);
  let worst = 0;
  for (const [name, got] of Object.entries(exact.outputs)) {
    const r: Tensor | undefined = ref.outputs[name];
    assert.ok(r, `onnxruntime output ${name}`);
    assert.deepEqual([...got.shape], [...r.shape], `output ${name}: shape`);
    for (let i = 0; i < r.data.length; i++)
      worst = Math.max(worst, Math.abs(Number(got.data[i]) - Number(r.data[i])));
  }
  assert.ok(worst <= bound + FLOAT_SLACK, `error ${worst} exceeds the bound ${bound}`);
  return [worst, bound];
}

const models: { name: string; recs: Rec[]; batch?: number }[] = [
  {
    name: 'RNN, GRU (linear_before_reset 0 and 1), LSTM (peepholes): forward / reverse / bidirectional, with and without B and initial states',
    recs: [
      { op: 'RNN', name: 'rnn_f', bias: true, states: true },
      { op: 'RNN', name: 'rnn_r', direction: 'reverse' },
      {
        op: 'RNN',
        name: 'rnn_b',
        direction: 'bidirectional',
        bias: true,
        attrs: { activations: { strings: ['Sigmoid', 'Tanh'] } },
      },
      { op: 'GRU', name: 'gru_f0', bias: true, states: true },
      {
        op: 'GRU',
        name: 'gru_r1',
        direction: 'reverse',
        bias: true,
        attrs: { linear_before_reset: { int: 1 } },
      },
      {
        op: 'GRU',
        name: 'gru_b1',
        direction: 'bidirectional',
        states: true,
        attrs: { linear_before_reset: { int: 1 } },
      },
      { op: 'GRU', name: 'gru_r0', direction: 'reverse' },
      { op: 'LSTM', name: 'lstm_f', bias: true, states: true },
      { op: 'LSTM', name: 'lstm_r', direction: 'reverse' },
      { op: 'LSTM', name: 'lstm_b', direction: 'bidirectional', bias: true, states: true, peepholes: true },
    ],
  },
  {
    name: 'constant sequence_lens shorter than the sequence, clip, LSTM input_forget',
    batch: 2,
    recs: [
      { op: 'RNN', name: 'rnn_l', direction: 'bidirectional', bias: true, lens: [2, 3] },
      {
        op: 'GRU',
        name: 'gru_l',
        direction: 'reverse',
        bias: true,
        lens: [3, 1],
        attrs: { clip: { float: 0.75 } },
      },
      {
        op: 'LSTM',
        name: 'lstm_l',
        bias: true,
        lens: [1, 2],
        attrs: { clip: { float: 1.25 }, input_forget: { int: 1 } },
      },
    ],
  },
];

describe('RNN, GRU, LSTM: executor vs onnxruntime, circuit witness equals the executor', () => {
  const work = zkWorkDir('plumb-zk-recurrent-');

  models.forEach(({ name, recs, batch }, i) => {
    it(name, async (t) => {
      const m = model(recs, i + 1, batch);
      const [err, bound] = await nearOrt(m);
      const dir = join(work, `m${i}`);
      const { constraints } = await assertWitnessExact(m.bytes, m.inputs, dir);
      t.diagnostic(
        `${constraints} constraints, max |err| vs onnxruntime ${err.toExponential(2)} (bound ${bound.toExponential(2)})`,
      );
    });
  });

  it('layout 1 (onnxruntime has none): the layout-0 results transposed; circuit witness equals the executor', async () => {
    const [B, D, SEQ] = [2, 2, 2];
    const build = (layout: 0 | 1) => {
      const xShape = layout === 0 ? [SEQ, B, IN] : [B, SEQ, IN];
      const sShape = layout === 0 ? [D, B, HID] : [B, D, HID];
      return buildModel({
        inputs: [
          { name: 'x', dtype: 'float32', shape: xShape },
          { name: 'h0', dtype: 'float32', shape: sShape },
          { name: 'c0', dtype: 'float32', shape: sShape },
        ],
        outputs: ['y', 'yh', 'yc'].map((name) => ({ name, dtype: 'float32' as const, shape: null })),
        nodes: [
          {
            op: 'LSTM',
            name: 'lstm',
            inputs: ['x', 'W', 'R', 'B', '', 'h0', 'c0'],
            outputs: ['y', 'yh', 'yc'],
            attrs: {
              hidden_size: { int: HID },
              direction: { string: 'bidirectional' },
              layout: { int: layout },
            },
          },
        ],
        initializers: {
          W: f32([D, 4 * HID, IN], rand(71, D * 4 * HID * IN, 0.7)),
          R: f32([D, 4 * HID, HID], rand(72, D * 4 * HID * HID, 0.7)),
          B: f32([D, 8 * HID], rand(73, D * 8 * HID, 0.5)),
        },
        opset: 14,
      });
    };
    // x [SEQ, B, IN] and the states [D, B, HID] at layout 0; the first two axes swapped at layout 1.
    const swap = (v: number[], [a, b, c]: number[]) =>
      Array.from({ length: a! * b! * c! }, (_, i) => {
        const [q, r, k] = [Math.floor(i / (a! * c!)), Math.floor(i / c!) % a!, i % c!];
        return v[(r * b! + q) * c! + k]!;
      });
    const x = rand(74, SEQ * B * IN, 2);
    const h = rand(75, D * B * HID, 0.8);
    const c = rand(76, D * B * HID, 0.8);
    const in0 = { x: f32([SEQ, B, IN], x), h0: f32([D, B, HID], h), c0: f32([D, B, HID], c) };
    const in1 = {
      x: f32([B, SEQ, IN], swap(x, [SEQ, B, IN])),
      h0: f32([B, D, HID], swap(h, [D, B, HID])),
      c0: f32([B, D, HID], swap(c, [D, B, HID])),
    };
    const r0 = compileExact(build(0)).run(in0).raw;
    const bytes1 = build(1);
    const r1 = compileExact(bytes1).run(in1).raw;
    const num = (v: bigint[]) => v.map(Number);
    // y: [SEQ, D, B, HID] vs [B, SEQ, D, HID]
    const y0 = num(r0.get('y')!);
    const y1 = num(r1.get('y')!);
    const yT = Array.from({ length: y0.length }, (_, i) => {
      const [b, t, d, j] = [
        Math.floor(i / (SEQ * D * HID)),
        Math.floor(i / (D * HID)) % SEQ,
        Math.floor(i / HID) % D,
        i % HID,
      ];
      return y0[((t * D + d) * B + b) * HID + j]!;
    });
    assert.deepEqual(y1, yT);
    for (const o of ['yh', 'yc']) assert.deepEqual(num(r1.get(o)!), swap(num(r0.get(o)!), [D, B, HID]));
    await assertWitnessExact(bytes1, in1, join(work, 'layout1'));
  });

  // rnn: by the Groth16 test below.
  for (const name of ['gru', 'lstm'])
    it(`ezkl corpus ${name}: near onnxruntime, circuit witness equals the executor`, async (t) => {
      const c = loadEzklCase(name);
      const [err, bound] = await nearOrt(c);
      const { constraints } = await assertWitnessExact(c.bytes, c.inputs, join(work, name));
      t.diagnostic(
        `${name}: ${constraints} constraints, max |err| ${err.toExponential(2)} (bound ${bound.toExponential(2)})`,
      );
    });

  it('proves and verifies the ezkl rnn with Groth16, outputs equal to the executor', async (t) => {
    const c = loadEzklCase('rnn');
    const [err, bound] = await nearOrt(c);
    const r = await runZkCase(c, { workRoot: work, ptauDir, plainRuns: 1 });
    t.diagnostic(
      `rnn: ${r.artifacts.constraints} constraints, prove ${r.proof.proveMs.toFixed(0)} ms, max |err| ${err.toExponential(2)} (bound ${bound.toExponential(2)})`,
    );
    assert.equal(r.verified, true);
    assert.deepEqual(r.exactMismatches, []);
  });

  it('refuses unsupported uses, naming the node', () => {
    const relu = model([{ op: 'RNN', name: 'rnn_relu', attrs: { activations: { strings: ['Relu'] } } }], 9);
    assert.throws(() => compileExact(relu.bytes), /RNN node "rnn_relu".*Relu/);
    const alpha = model([{ op: 'GRU', name: 'gru_a', attrs: { activation_alpha: { floats: [1, 1] } } }], 9);
    assert.throws(() => compileExact(alpha.bytes), /GRU node "gru_a".*activation_alpha/);
    // W and sequence_lens as graph inputs: circuits need them constant.
    const graph = (node: NodeSpec) =>
      buildModel({
        inputs: [
          { name: 'x', dtype: 'float32', shape: [2, 1, 2] },
          { name: 'w', dtype: 'float32', shape: [1, 2, 2] },
          { name: 'lens', dtype: 'int32', shape: [1] },
        ],
        outputs: [{ name: 'y', dtype: 'float32', shape: null }],
        nodes: [{ ...node, outputs: ['y'], attrs: { hidden_size: { int: 2 } } }],
        initializers: { r: f32([1, 2, 2], [0.1, 0.2, 0.3, 0.4]) },
        opset: 14,
      });
    const w = graph({ op: 'RNN', name: 'rnn_w', inputs: ['x', 'w', 'r'], outputs: [] });
    assert.throws(() => compileCircuit(w), /RNN node "rnn_w": W must be a constant/);
    const lens = graph({ op: 'RNN', name: 'rnn_lens', inputs: ['x', 'r', 'r', '', 'lens'], outputs: [] });
    assert.throws(() => compileCircuit(lens), /RNN node "rnn_lens": a non-constant integer/);
  });
});
