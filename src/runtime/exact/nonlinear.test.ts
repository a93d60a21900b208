import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildModel, type NodeSpec, seededRandom } from '../../../test/fixtures/onnx-builder.ts';
import { ortRun } from '../../../test/helpers/ort.ts';
import { decodeModel } from '../../core/onnx/model.ts';
import type { TensorMap } from '../../core/tensor.ts';
import { compileExact } from './exact.ts';
import {
  expFixed,
  expMaxError,
  expPlan,
  expUnitMaxError,
  geluFixed,
  geluMaxError,
  geluPlan,
  layerNormMaxError,
  logFixed,
  logMaxError,
  logPlan,
  logSoftmaxMaxError,
  SELU_ALPHA,
  SELU_GAMMA,
  softmaxMaxError,
} from './ops/nonlinear.ts';
import {
  activationMaxError,
  type PiecewiseKind,
  piecewiseEval,
  piecewiseMaxError,
  piecewiseTable,
} from './piecewise.ts';

const corpus = '/work/shared/corpus/ezkl';
const S = 12;
const EPS = 2 ** -(S + 1);
/** Slack for onnxruntime's own float32 rounding. */
const FLOAT_SLACK = 1e-5;

function erf(x: number): number {
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  let t = a;
  let s = a;
  for (let n = 1; n < 400 && t > 1e-30 * s; n++) {
    t *= (2 * a * a) / (2 * n + 1);
    s += t;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * s;
}

const reference: Record<PiecewiseKind, (x: number) => number> = {
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  erf,
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  exp: Math.exp,
  log1p: Math.log1p,
  exp2: (x) => 2 ** x,
};

/** Inputs spanning negatives, positives, segment boundaries and saturation. */
function spread(n: number, seed: number, span = 20): number[] {
  const r = seededRandom(seed);
  const fixed = [0, 0.5, -0.5, 0.25, -0.25, 1, -1, 3.999, -4, 7.75, -8, 15.5, -16, 16.01, -30, 100, -100];
  return Array.from({ length: n }, (_, i) => fixed[i] ?? (r() * 2 - 1) * span);
}

function unary(op: string, shape: number[], attrs: NodeSpec['attrs'] = {}, opset = 17): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape }],
    outputs: [{ name: 'y', dtype: 'float32', shape: null }],
    nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }],
    opset,
    ...(opset >= 20 ? { irVersion: 9 } : {}),
  });
}

/**
 * The executor against onnxruntime on a `unary` model with input `data`: each |difference|
 * within bound(x), named `name(x)` when not; returns the worst difference / bound.
 */
async function unaryAgainstOrt(
  bytes: Uint8Array,
  data: Float32Array,
  bound: (x: number) => number,
  name: string,
): Promise<number> {
  const inputs: TensorMap = { x: { dtype: 'float32', shape: [data.length], data } };
  const got = compileExact(bytes).run(inputs).outputs['y']!.data as Float32Array;
  const ref = (await ortRun(bytes, inputs))['y']!;
  let worst = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    const b = bound(x);
    const e = Math.abs(got[i]! - ref[i]!);
    worst = Math.max(worst, e / b);
    assert.ok(e <= b, `${name}(${x}): ${e} > ${b}`);
  }
  return worst;
}

const gelu = {
  none: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  tanh: (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
};

async function maxErrorVsOrt(bytes: Uint8Array, inputs: TensorMap, output: string): Promise<number> {
  const got = compileExact(bytes, { scale: S }).run(inputs).outputs[output]!.data as Float32Array;
  const ref = (await ortRun(bytes, inputs))[output]!;
  assert.equal(got.length, ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!));
  return worst;
}

describe('piecewise nonlinear functions', () => {
  for (const kind of ['sigmoid', 'tanh', 'erf', 'softplus', 'exp'] as const) {
    it(`${kind}: every input at s = 12 within the stated error`, () => {
      const table = piecewiseTable(kind, S);
      const bound = piecewiseMaxError(kind, S);
      const f = reference[kind];
      let worst = 0;
      const lim = 20 * 4096;
      for (let X = -lim; X <= (kind === 'exp' ? 0 : lim); X++) {
        const y = Number(piecewiseEval(table, BigInt(X))) / 4096;
        worst = Math.max(worst, Math.abs(y - f(X / 4096)));
      }
      assert.ok(worst <= bound, `${kind}: ${worst} > ${bound}`);
      assert.ok(bound < 1.35e-4, `${kind}: bound ${bound}`);
    });
  }

  it('exact values at 0 and in saturation; symmetric', () => {
    const at = (k: PiecewiseKind, x: bigint) => piecewiseEval(piecewiseTable(k, S), x);
    assert.equal(at('sigmoid', 0n), 2048n);
    assert.equal(at('tanh', 0n), 0n);
    assert.equal(at('erf', 0n), 0n);
    assert.equal(at('exp', 0n), 4096n);
    assert.equal(at('sigmoid', 1n << 20n), 4096n);
    assert.equal(at('sigmoid', -(1n << 20n)), 0n);
    assert.equal(at('tanh', -(1n << 40n)), -4096n);
    assert.equal(at('softplus', 1n << 20n), 1n << 20n);
    assert.equal(at('softplus', -(1n << 20n)), 0n);
    for (const X of [1n, 77n, 4095n, 4096n, 12345n, 65535n])
      for (const k of ['sigmoid', 'tanh', 'erf'] as const) {
        const mirrored = k === 'sigmoid' ? 4096n - at(k, -X) : -at(k, -X);
        assert.equal(at(k, X), mirrored, `${k} ${X}`);
      }
  });

  it('coefficient tables are pinned (pure BigInt construction: the same on every machine)', () => {
    const digest = (k: PiecewiseKind, s: number, out = s) =>
      createHash('sha256')
        .update(
          piecewiseTable(k, s, out)
            .coeffs.map((r) => r.join(','))
            .join(';'),
        )
        .digest('hex')
        .slice(0, 16);
    const table = piecewiseTable('tanh', 12);
    assert.equal(table.count, 32);
    assert.equal(table.coeffs.length, 33);
    assert.deepEqual(table.coeffs[0]!.slice(0, 1), [0n]);
    assert.deepEqual(table.coeffs[32], [1n << 22n, 0n, 0n, 0n]);
    assert.deepEqual(
      ['sigmoid', 'tanh', 'erf', 'softplus'].map((k) => digest(k as PiecewiseKind, 12)),
      GOLDEN_TABLES,
    );
    assert.equal(digest('exp', 12, 20), GOLDEN_EXP);
  });

  it('other scales stay within their stated error (s = 8 and 16, sampled)', () => {
    for (const s of [8, 16])
      for (const kind of ['sigmoid', 'tanh', 'erf', 'softplus'] as const) {
        const table = piecewiseTable(kind, s);
        const bound = activationMaxError(kind, s);
        let worst = 0;
        const one = 2 ** s;
        for (let X = -18 * one; X <= 18 * one; X += s === 16 ? 13 : 1) {
          const y = Number(piecewiseEval(table, BigInt(X))) / one;
          worst = Math.max(worst, Math.abs(y - reference[kind](X / one)));
        }
        assert.ok(worst <= bound, `${kind} s=${s}: ${worst} > ${bound}`);
      }
  });
});

/** A-priori error bound of a corpus model: input quantization through the op, plus the op's own. */
function corpusBound(name: string, data: Float32Array): number {
  const sig = EPS / 4 + activationMaxError('sigmoid', S);
  switch (name) {
    case '2l_sigmoid_small':
      return sig / 4 + activationMaxError('sigmoid', S);
    case '1l_tanh':
      return EPS + activationMaxError('tanh', S);
    case '1l_erf':
      return 1.13 * EPS + activationMaxError('erf', S);
    case 'softplus':
      return EPS + activationMaxError('softplus', S);
    case '1l_softmax':
      return softmaxMaxError(S, data.length) + 2 * EPS;
    case '1l_sqrt':
      return (
        2 ** -S + Math.max(...Array.from(data, (x) => Math.sqrt(x + EPS) - Math.sqrt(Math.max(x - EPS, 0))))
      );
    default: // one Sigmoid (after a Relu)
      return sig;
  }
}

describe('Gelu', () => {
  for (const approximate of ['none', 'tanh'] as const)
    it(`approximate ${approximate}: every input at s = 12 within geluMaxError`, () => {
      const bytes = unary('Gelu', [1], { approximate: { string: approximate } }, 20);
      const node = decodeModel(bytes).graph!.node[0]!;
      const plan = geluPlan(node, S);
      const bound = geluMaxError(S, approximate);
      let worst = 0;
      for (let X = -20 * 4096; X <= 20 * 4096; X++) {
        const y = Number(geluFixed(BigInt(X), plan, BigInt(S))) / 4096;
        worst = Math.max(worst, Math.abs(y - gelu[approximate](X / 4096)));
      }
      assert.ok(worst <= bound, `${worst} > ${bound}`);
      assert.ok(bound < 1.8e-4, `bound ${bound}`);
    });
});

describe('nonlinear ops against onnxruntime', () => {
  for (const [op, kind] of [
    ['Sigmoid', 'sigmoid'],
    ['Tanh', 'tanh'],
    ['Erf', 'erf'],
    ['Softplus', 'softplus'],
  ] as const) {
    it(`${op}: within the reported bound on spread inputs`, async (t) => {
      const data = spread(64, 3);
      const bytes = unary(op, [4, 16]);
      const err = await maxErrorVsOrt(
        bytes,
        { x: { dtype: 'float32', shape: [4, 16], data: Float32Array.from(data) } },
        'y',
      );
      // input quantization (Lipschitz <= 1.13) + the function's own error
      const bound = 1.13 * EPS + activationMaxError(kind, S) + FLOAT_SLACK;
      t.diagnostic(`${op}: max abs error ${err.toExponential(3)} (bound ${bound.toExponential(3)})`);
      assert.ok(err <= bound, `${op}: ${err} > ${bound}`);
    });
  }

  for (const approximate of ['none', 'tanh'] as const)
    it(`Gelu (opset 20, approximate ${approximate}): within the reported bound on spread inputs`, async (t) => {
      const bytes = unary('Gelu', [4, 16], { approximate: { string: approximate } }, 20);
      const data = Float32Array.from(spread(64, 5, 8));
      const err = await maxErrorVsOrt(bytes, { x: { dtype: 'float32', shape: [4, 16], data } }, 'y');
      // input quantization: Gelu' <= 1.13
      const bound = 1.13 * EPS + geluMaxError(S, approximate) + FLOAT_SLACK;
      t.diagnostic(
        `Gelu ${approximate}: max abs error ${err.toExponential(3)} (bound ${bound.toExponential(3)})`,
      );
      assert.ok(err <= bound, `${err} > ${bound}`);
    });

  it('Sqrt: floor of the square root at 2^s, within 2^-s (+ input quantization)', async (t) => {
    const data = Array.from({ length: 40 }, (_, i) => (i === 0 ? 0 : i === 1 ? 1e-6 : i ** 2.3 / 7));
    const bytes = unary('Sqrt', [40]);
    const err = await maxErrorVsOrt(
      bytes,
      { x: { dtype: 'float32', shape: [40], data: Float32Array.from(data) } },
      'y',
    );
    t.diagnostic(`Sqrt: max abs error ${err.toExponential(3)}`);
    // sqrt is not Lipschitz at 0: sqrt(2^-(s+1)) bounds the quantization effect there.
    assert.ok(err <= 2 ** -S + Math.sqrt(EPS) + FLOAT_SLACK, `${err}`);
    const big = compileExact(bytes).run({
      x: { dtype: 'float32', shape: [40], data: Float32Array.from(data) },
    });
    assert.equal(big.raw.get('y')![0], 0n);
    assert.throws(() =>
      compileExact(bytes).run({ x: { dtype: 'float32', shape: [40], data: new Float32Array(40).fill(-1) } }),
    );
  });

  const softmaxCases: {
    label: string;
    shape: number[];
    attrs: NodeSpec['attrs'];
    opset: number;
    rowLen: number;
  }[] = [
    {
      label: 'opset 11, default axis 1 (flattens [2,3,4] to rows of 12)',
      shape: [2, 3, 4],
      attrs: {},
      opset: 11,
      rowLen: 12,
    },
    { label: 'opset 11, axis 2', shape: [2, 3, 4], attrs: { axis: { int: 2 } }, opset: 11, rowLen: 4 },
    { label: 'opset 13, default axis -1', shape: [2, 3, 4], attrs: {}, opset: 13, rowLen: 4 },
    {
      label: 'opset 13, axis 1 (strided rows)',
      shape: [2, 3, 4],
      attrs: { axis: { int: 1 } },
      opset: 13,
      rowLen: 3,
    },
    { label: 'opset 17, axis 0', shape: [5, 6], attrs: { axis: { int: 0 } }, opset: 17, rowLen: 5 },
  ];
  for (const c of softmaxCases)
    it(`Softmax ${c.label}: within softmaxMaxError, rows sum to ~1`, async (t) => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from(spread(n, 9, 6));
      data[3] = 40; // a dominating value: its row saturates the others to 0
      const bytes = unary('Softmax', c.shape, c.attrs, c.opset);
      const inputs: TensorMap = { x: { dtype: 'float32', shape: c.shape, data } };
      const err = await maxErrorVsOrt(bytes, inputs, 'y');
      // input quantization: |dy_j| <= y_j (|dx_j| + sum_k y_k |dx_k|) <= 2 EPS.
      const bound = softmaxMaxError(S, c.rowLen) + 2 * EPS + FLOAT_SLACK;
      t.diagnostic(
        `Softmax ${c.label}: max abs error ${err.toExponential(3)} (bound ${bound.toExponential(3)})`,
      );
      assert.ok(err <= bound, `${err} > ${bound}`);
      const y = compileExact(bytes).run(inputs).outputs['y']!.data as Float32Array;
      const total = Array.from(y).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - n / c.rowLen) <= (n / c.rowLen) * c.rowLen * 2 ** -S, `sum ${total}`);
    });

  it('LogSoftmax: rows of 2 to 1000 values, within logSoftmaxMaxError', async (t) => {
    const r = seededRandom(4);
    for (const [n, span] of [
      [2, 1],
      [3, 5],
      [10, 0.01],
      [100, 2],
      [1000, 1],
      [7, 40],
    ] as const) {
      const rows = 6;
      const data = Float32Array.from({ length: rows * n }, () => (r() * 2 - 1) * span);
      const bytes = unary('LogSoftmax', [rows, n], {}, 13);
      const err = await maxErrorVsOrt(bytes, { x: { dtype: 'float32', shape: [rows, n], data } }, 'y');
      // input quantization: |dy_j| <= |dx_j| + sum_k y_k |dx_k| <= 2 EPS
      const bound = logSoftmaxMaxError(S, n) + 2 * EPS + FLOAT_SLACK;
      t.diagnostic(
        `LogSoftmax n = ${n}: max abs error ${err.toExponential(3)} (bound ${bound.toExponential(3)})`,
      );
      assert.ok(err <= bound, `n = ${n}: ${err} > ${bound}`);
    }
  });

  for (const name of [
    '1l_sigmoid',
    '2l_relu_sigmoid',
    '2l_relu_sigmoid_small',
    '2l_sigmoid_small',
    '1l_tanh',
    '1l_erf',
    'softplus',
    '1l_softmax',
    '1l_sqrt',
  ])
    it(`corpus ${name}`, async (t) => {
      const bytes = new Uint8Array(readFileSync(`${corpus}/${name}/network.onnx`));
      const json = JSON.parse(readFileSync(`${corpus}/${name}/input.json`, 'utf8')) as {
        input_data: number[][];
      };
      const model = compileExact(bytes);
      const dims = (await ort.InferenceSession.create(bytes)).inputNames;
      assert.equal(dims.length, 1);
      const data = Float32Array.from(json.input_data[0]!);
      const shape = name === '2l_relu_sigmoid' ? [1, 3, 8, 8] : [1, data.length];
      const inputs: TensorMap = { [model.inputNames[0]!]: { dtype: 'float32', shape, data } };
      const err = await maxErrorVsOrt(bytes, inputs, model.outputNames[0]!);
      const bound = corpusBound(name, data) + FLOAT_SLACK;
      t.diagnostic(`${name}: max abs error ${err.toExponential(3)} (bound ${bound.toExponential(3)})`);
      assert.ok(err <= bound, `${name}: ${err} > ${bound}`);
    });
});

const GOLDEN_TABLES = ['f4b5a64735d59f6c', '661160202619fc1b', '8b76435124b74877', '987282ba1cea6eba'];
const GOLDEN_EXP = '438cdc9f050452e2';

describe('LayerNormalization against onnxruntime', () => {
  /** Row statistics of the real inputs: min std, max |normalized|. */
  function rowStats(data: Float32Array, n: number, eps: number): { minStd: number; maxY: number } {
    let minStd = Infinity;
    let maxY = 0;
    for (let o = 0; o < data.length / n; o++) {
      const row = Array.from(data.subarray(o * n, (o + 1) * n));
      const mean = row.reduce((a, b) => a + b, 0) / n;
      const std = Math.sqrt(row.reduce((a, v) => a + (v - mean) ** 2, 0) / n + eps);
      minStd = Math.min(minStd, std);
      for (const v of row) maxY = Math.max(maxY, Math.abs(v - mean) / std);
    }
    return { minStd, maxY };
  }

  it('built models (axis -1 and 1, small-variance rows) and ezkl layernorm within layerNormMaxError', async (t) => {
    const r = seededRandom(21);
    const cases: {
      label: string;
      shape: number[];
      axis: number;
      bytes: Uint8Array;
      data: Float32Array;
      scaleMax: number;
      input: string;
      output: string;
    }[] = [];
    for (const [shape, axis, span] of [
      [[4, 16], -1, 3],
      [[2, 3, 5], 1, 0.05],
    ] as const) {
      const n = shape.slice(axis < 0 ? shape.length + axis : axis).reduce((a, b) => a * b, 1);
      const gamma = Float32Array.from({ length: n }, () => r() * 2 - 1);
      const beta = Float32Array.from({ length: n }, () => r() - 0.5);
      const pshape = shape.slice(axis < 0 ? shape.length + axis : axis);
      const bytes = buildModel({
        inputs: [{ name: 'x', dtype: 'float32', shape: [...shape] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: null }],
        initializers: {
          g: { dtype: 'float32', shape: [...pshape], data: gamma },
          b: { dtype: 'float32', shape: [...pshape], data: beta },
        },
        nodes: [
          {
            op: 'LayerNormalization',
            inputs: ['x', 'g', 'b'],
            outputs: ['y'],
            attrs: { axis: { int: axis } },
          },
        ],
      });
      const data = Float32Array.from(
        { length: shape.reduce((a, b) => a * b, 1) },
        () => (r() * 2 - 1) * span,
      );
      cases.push({
        label: `[${shape}] axis ${axis}`,
        shape: [...shape],
        axis,
        bytes,
        data,
        scaleMax: Math.max(...Array.from(gamma, Math.abs)),
        input: 'x',
        output: 'y',
      });
    }
    const ln = new Uint8Array(readFileSync(`${corpus}/layernorm/network.onnx`));
    const json = JSON.parse(readFileSync(`${corpus}/layernorm/input.json`, 'utf8')) as {
      input_data: number[][];
    };
    cases.push({
      label: 'ezkl layernorm',
      shape: [1, 10, 10],
      axis: -1,
      bytes: ln,
      data: Float32Array.from(json.input_data[0]!),
      scaleMax: 1,
      input: 'input',
      output: 'output',
    });
    for (const c of cases) {
      const n = c.shape.slice(c.axis < 0 ? c.shape.length + c.axis : c.axis).reduce((a, b) => a * b, 1);
      const { minStd, maxY } = rowStats(c.data, n, 1e-5);
      const err = await maxErrorVsOrt(
        c.bytes,
        { [c.input]: { dtype: 'float32', shape: c.shape, data: c.data } },
        c.output,
      );
      // input quantization moves d by 2 EPS: y by 2 EPS (1 + maxY) / std
      const bound =
        layerNormMaxError(S, minStd, maxY, c.scaleMax) +
        (c.scaleMax * 2 * EPS * (1 + maxY)) / minStd +
        FLOAT_SLACK;
      t.diagnostic(
        `LayerNormalization ${c.label}: max abs error ${err.toExponential(3)} (bound ${bound.toExponential(3)}, min std ${minStd.toFixed(3)})`,
      );
      assert.ok(err <= bound, `${c.label}: ${err} > ${bound}`);
    }
  });
});

describe('Elu, Selu, Celu, Softsign, Reciprocal against onnxruntime', () => {
  it('each element within its reported bound', async (t) => {
    const nodes: NodeSpec[] = [
      { op: 'Elu', inputs: ['x'], outputs: ['elu'], attrs: { alpha: { float: 0.7 } } },
      { op: 'Selu', inputs: ['x'], outputs: ['selu'] },
      { op: 'Celu', inputs: ['x'], outputs: ['celu'], attrs: { alpha: { float: 1.5 } } },
      { op: 'Softsign', inputs: ['x'], outputs: ['ss'] },
      { op: 'Reciprocal', inputs: ['x'], outputs: ['rc'] },
    ];
    const data = Float32Array.from(spread(64, 13, 20).map((v) => (v === 0 ? 0.3 : v)));
    const n = data.length;
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [n] }],
      outputs: nodes.map((o) => ({ name: o.outputs[0]!, dtype: 'float32' as const, shape: null })),
      nodes,
      opset: 13,
    });
    const inputs: TensorMap = { x: { dtype: 'float32', shape: [n], data } };
    const got = compileExact(bytes).run(inputs).outputs;
    const ref = await ortRun(bytes, inputs);
    const selu = { alpha: SELU_ALPHA, gamma: SELU_GAMMA };
    const bound: Record<string, (x: number) => number> = {
      elu: () => EPS + expUnitMaxError(S, 0.7),
      // gamma's quantization scales with |elu(x)|
      selu: (x) => selu.gamma * (selu.alpha * EPS + expUnitMaxError(S, selu.alpha)) + EPS * (2 + Math.abs(x)),
      celu: () => EPS + expUnitMaxError(S, 1.5, true),
      ss: () => 2 * EPS,
      // 1/x moves by EPS / x^2 under input quantization
      rc: (x) => EPS + (1.01 * EPS) / (x * x),
    };
    for (const o of nodes) {
      const name = o.outputs[0]!;
      const a = got[name]!.data as Float32Array;
      const b = ref[name]!;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const e = Math.abs(a[i]! - b[i]!);
        const bd = bound[name]!(data[i]!) + FLOAT_SLACK * Math.max(1, Math.abs(b[i]!));
        worst = Math.max(worst, e / bd);
        assert.ok(e <= bd, `${o.op} at ${data[i]}: ${e} > ${bd}`);
      }
      t.diagnostic(`${o.op}: worst error / bound ${worst.toFixed(3)}`);
    }
  });
});

describe('Exp', () => {
  it('every input in [-30, 12] at s = 12 within expMaxError; onnxruntime within it too', async (t) => {
    const plan = expPlan(S);
    let worst = 0;
    for (let X = -30 * 4096; X <= 12 * 4096; X++) {
      const x = X / 4096;
      const e = Math.abs(Number(expFixed(BigInt(X), plan, BigInt(S))) / 4096 - Math.exp(x));
      worst = Math.max(worst, e / expMaxError(S, x));
    }
    assert.ok(worst <= 1, `error / bound ${worst}`);
    const data = Float32Array.from(spread(64, 17, 10).map((v) => Math.min(v, 20)));
    const bytes = unary('Exp', [64]);
    // input quantization: exp(x) EPS, float32: relative 1e-6
    const worstOrt = await unaryAgainstOrt(
      bytes,
      data,
      (x) => expMaxError(S, x) + Math.exp(x) * (1.01 * EPS + 1e-6) + FLOAT_SLACK,
      'exp',
    );
    t.diagnostic(`Exp: error / bound ${worst.toFixed(4)} (exhaustive), ${worstOrt.toFixed(4)} (onnxruntime)`);
  });
});

describe('Log', () => {
  it('inputs in (0, 300] (every one below 8) within logMaxError; onnxruntime within it too', async (t) => {
    const plan = logPlan(S);
    const bytes = unary('Log', [64]);
    const node = decodeModel(bytes).graph!.node[0]!;
    let worst = 0;
    for (let X = 1; X <= 300 * 4096; X += X < 8 * 4096 ? 1 : 7) {
      const x = X / 4096;
      const e = Math.abs(Number(logFixed(node, BigInt(X), plan, BigInt(S))) / 4096 - Math.log(x));
      worst = Math.max(worst, e / logMaxError(S, x));
    }
    assert.ok(worst <= 1, `error / bound ${worst}`);
    const data = Float32Array.from(spread(64, 19, 50).map((v) => Math.abs(v) + 0.01));
    // input quantization: EPS / x
    const worstOrt = await unaryAgainstOrt(
      bytes,
      data,
      (x) => logMaxError(S, x) + (1.01 * EPS) / x + FLOAT_SLACK,
      'log',
    );
    assert.throws(() =>
      compileExact(bytes).run({ x: { dtype: 'float32', shape: [64], data: new Float32Array(64) } }),
    );
    t.diagnostic(
      `Log: error / bound ${worst.toFixed(4)} (exhaustive below 8), ${worstOrt.toFixed(4)} (onnxruntime)`,
    );
  });
});

describe('ReduceL2 and ReduceLogSumExp against onnxruntime', () => {
  it('within their bounds (floor of the root; LogSoftmax ln S)', async (t) => {
    const nodes: NodeSpec[] = [
      {
        op: 'ReduceL2',
        inputs: ['x'],
        outputs: ['l2'],
        attrs: { axes: { ints: [1] }, keepdims: { int: 0 } },
      },
      { op: 'ReduceLogSumExp', inputs: ['x'], outputs: ['lse'], attrs: { axes: { ints: [2] } } },
    ];
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [3, 5, 7] }],
      outputs: nodes.map((o) => ({ name: o.outputs[0]!, dtype: 'float32' as const, shape: null })),
      nodes,
      opset: 13,
    });
    const data = Float32Array.from(spread(105, 23, 6));
    const inputs: TensorMap = { x: { dtype: 'float32', shape: [3, 5, 7], data } };
    const got = compileExact(bytes).run(inputs).outputs;
    const ref = await ortRun(bytes, inputs);
    const bounds: Record<string, number> = {
      // floor 2^-s, input quantization sqrt(n) EPS (|| . || is 1-Lipschitz), float32 on large norms
      l2: 2 ** -S + Math.sqrt(5) * EPS + 1e-4,
      // LogSumExp is 1-Lipschitz in the max norm
      lse: logSoftmaxMaxError(S, 7) + EPS,
    };
    for (const name of ['l2', 'lse']) {
      const a = got[name]!.data as Float32Array;
      const b = ref[name]!;
      let worst = 0;
      for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      t.diagnostic(
        `${name}: max abs error ${worst.toExponential(3)} (bound ${bounds[name]!.toExponential(3)})`,
      );
      assert.ok(worst <= bounds[name]! + FLOAT_SLACK, `${name}: ${worst}`);
    }
  });
});

describe('InstanceNormalization against onnxruntime', () => {
  it('per channel over the spatial axes, within layerNormMaxError', async (t) => {
    const r = seededRandom(29);
    const shape = [2, 3, 4, 5];
    const gamma = Float32Array.of(1.5, -0.5, 0.8);
    const beta = Float32Array.of(0.1, 0, -0.3);
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape }],
      outputs: [{ name: 'y', dtype: 'float32', shape: null }],
      initializers: {
        g: { dtype: 'float32', shape: [3], data: gamma },
        b: { dtype: 'float32', shape: [3], data: beta },
      },
      nodes: [
        {
          op: 'InstanceNormalization',
          inputs: ['x', 'g', 'b'],
          outputs: ['y'],
          attrs: { epsilon: { float: 1e-5 } },
        },
      ],
    });
    const data = Float32Array.from({ length: 120 }, () => (r() * 2 - 1) * 4);
    let minStd = Infinity;
    let maxY = 0;
    for (let o = 0; o < 6; o++) {
      const row = Array.from(data.subarray(o * 20, (o + 1) * 20));
      const mean = row.reduce((a, b) => a + b, 0) / 20;
      const std = Math.sqrt(row.reduce((a, v) => a + (v - mean) ** 2, 0) / 20 + 1e-5);
      minStd = Math.min(minStd, std);
      for (const v of row) maxY = Math.max(maxY, Math.abs(v - mean) / std);
    }
    const err = await maxErrorVsOrt(bytes, { x: { dtype: 'float32', shape, data } }, 'y');
    const bound =
      layerNormMaxError(S, minStd, maxY, 1.5) + (1.5 * 2 * EPS * (1 + maxY)) / minStd + FLOAT_SLACK;
    t.diagnostic(
      `InstanceNormalization: max abs error ${err.toExponential(3)} (bound ${bound.toExponential(3)})`,
    );
    assert.ok(err <= bound, `${err} > ${bound}`);
  });
});
