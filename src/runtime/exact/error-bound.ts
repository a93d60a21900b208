/**
 * The exact executor's reported error: a bound on |executor output - the real-number result|
 * for a model on a given input, derived op by op along the run (first order plus the second-order
 * terms of products). onnxruntime's float32 result sits within float rounding of the real one,
 * so `bound + float slack` is what tests hold the executor (and every zk circuit, whose outputs
 * equal it) to, and what `push --zk --calibrate` reports.
 *
 * Propagated per tensor: e = max abs error; magnitudes come from the run itself (x = max |value
 * computed| + e bounds the real magnitude), shapes too. Each rounding or quantization costs at
 * most EPS = 2^-(s+1):
 * - inputs and float weights: EPS each;
 * - Gemm / MatMul / Conv with a constant weight, row y = sum w x + b: R e + EPS K (x + e) + 2 EPS
 *   (R = max row sum |w|, K the fan-in); MatMul of two computed tensors: K (e_a x_b + e_b x_a +
 *   e_a e_b) + EPS;
 * - Add / Sub: e_a + e_b; Mul: e_a x_b + e_b x_a + e_a e_b + EPS; Pow by an integer p: repeated
 *   Mul; Div by c: (e + e_c x / min|c|) / min|c| + EPS (a constant c: e_c = EPS); ReduceSum: n e;
 * - value-moving ops (Relu, MaxPool, Reshape, Transpose, Pad, Slice, Gather, Concat, Clip, Max,
 *   Min, Abs, Neg, ...): unchanged; AveragePool, ReduceMean: + EPS; LeakyRelu / PRelu: max(1,
 *   |slope|) e + EPS (x + 1); HardSigmoid: alpha e + EPS (x + 2);
 * - Sigmoid, Tanh, Erf, Softplus: Lipschitz constant times e, plus the piecewise approximation's
 *   own maximum error (`activationMaxError`); Softmax: e / 2 + `softmaxMaxError`; Sqrt: sqrt(e) +
 *   2^-s;
 * - BatchNormalization y = a x + b: max|a| e + EPS (x + max|mean| + 3);
 * - RNN, GRU, LSTM: step by step over the sequence (recurrent-error.ts).
 * Ops without a rule (comparisons, Where, LayerNormalization...) make the bound unknown for
 * everything downstream: `unknownOps` lists them.
 */
import { decodeModel } from '../../core/onnx/model.ts';
import { tensorFromProto } from '../../core/onnx/tensor-proto.ts';
import type { NodeProto, TensorProto } from '../../core/onnx/types.ts';
import type { TensorMap } from '../../core/tensor.ts';
import { compileExact } from './exact.ts';
import { softmaxMaxError, softmaxPlan } from './ops/nonlinear.ts';
import { activationMaxError } from './piecewise.ts';
import { recurrentErrorEstimate } from './recurrent-error.ts';
import type { XTensor } from './types.ts';

export type ErrorBound = {
  /** Max abs error over all outputs; undefined when an op on the way has no rule. */
  bound: number | undefined;
  /** Op types that have no error rule (the bound is unknown past them). */
  unknownOps: string[];
};

/** e: max abs error of a tensor; x: bound on the real values' magnitude. */
type Est = { e: number; x: number };

/** Ops that only move, select or sign-flip values: error and magnitude pass through. */
const passThrough = new Set([
  'Identity',
  'Relu',
  'MaxPool',
  'Flatten',
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Pad',
  'Slice',
  'Gather',
  'Concat',
  'Expand',
  'Tile',
  'Resize',
  'Upsample',
  'Cast',
  'Neg',
  'Abs',
  'Max',
  'Min',
  'Clip',
  'ReduceMax',
  'ReduceMin',
  'Split',
  'ConstantOfShape',
]);

/** Of the pass-through ops, those taking values from every input (the others: from the first). */
const multiInput = new Set(['Concat', 'Max', 'Min']);

const lipschitz: Record<string, { kind: 'sigmoid' | 'tanh' | 'erf' | 'softplus'; l: number }> = {
  Sigmoid: { kind: 'sigmoid', l: 0.25 },
  Tanh: { kind: 'tanh', l: 1 },
  Erf: { kind: 'erf', l: 2 / Math.sqrt(Math.PI) },
  Softplus: { kind: 'softplus', l: 1 },
};

const maxAbs = (v: readonly number[]) => v.reduce((m, a) => Math.max(m, Math.abs(a)), 0);
const minAbs = (v: readonly number[]) =>
  v.reduce((m, a) => Math.min(m, Math.abs(a)), Number.POSITIVE_INFINITY);
const mul = (a: Est, b: Est, eps: number): Est => ({
  e: a.e * b.x + b.e * a.x + a.e * b.e + eps,
  x: a.x * b.x,
});

function floatValues(t: TensorProto): number[] {
  return Array.from(tensorFromProto(t, 'INVALID_MODEL').data as ArrayLike<number | bigint>, Number);
}

/** Rows of a constant weight as the dot products see them: one row per output feature. */
function weightRows(node: NodeProto, w: TensorProto): number[][] {
  const v = floatValues(w);
  const dims = w.dims.map(Number);
  const transB = node.attribute.find((a) => a.name === 'transB')?.i === 1n;
  if (node.opType === 'Conv' || (node.opType === 'Gemm' && transB)) {
    const out = dims[0]!;
    const k = v.length / out;
    return Array.from({ length: out }, (_, r) => v.slice(r * k, (r + 1) * k));
  }
  // Gemm without transB, MatMul: [..., K, N] (batches share the bound)
  const n = dims.at(-1) ?? 1;
  const k = dims.at(-2) ?? v.length;
  const batches = v.length / (k * n);
  const rows: number[][] = [];
  for (let b = 0; b < batches; b++)
    for (let c = 0; c < n; c++) rows.push(Array.from({ length: k }, (_, r) => v[b * k * n + r * n + c]!));
  return rows;
}

type NodeContext = {
  consts: ReadonlyMap<string, TensorProto>;
  values: ReadonlyMap<string, XTensor>;
  EPS: number;
  scale: number;
  opset: number;
};

/** The rule for one node, or undefined when it has none. */
function nodeEstimate(n: NodeProto, ins: Est[], ctx: NodeContext): Est | undefined {
  const { consts, values, EPS, scale } = ctx;
  const a = ins[0];
  if (!a) return undefined;
  const b = ins[1];
  const constOf = (i: number) => consts.get(n.input[i] ?? '');
  const shapeOf = (i: number) => values.get(n.input[i] ?? '')?.shape;
  if (passThrough.has(n.opType)) {
    const data = multiInput.has(n.opType) ? ins : [a];
    return { e: Math.max(...data.map((i) => i.e)), x: Math.max(...data.map((i) => i.x)) };
  }
  const act = lipschitz[n.opType];
  if (act)
    return { e: act.l * a.e + activationMaxError(act.kind, scale), x: n.opType === 'Softplus' ? a.x + 1 : 1 };
  switch (n.opType) {
    case 'Gemm':
    case 'MatMul':
    case 'Conv': {
      const w = constOf(1);
      if (!w) {
        // MatMul of two computed tensors: K products summed, one rounding.
        const K = shapeOf(0)?.at(-1);
        if (n.opType !== 'MatMul' || !b || K === undefined) return undefined;
        const p = mul(a, b, 0);
        return { e: K * p.e + EPS, x: K * p.x };
      }
      const rows = weightRows(n, w);
      const K = rows[0]?.length ?? 0;
      const R = Math.max(0, ...rows.map((r) => r.reduce((s, v) => s + Math.abs(v), 0)));
      const bias = constOf(2);
      const bMax = bias ? maxAbs(floatValues(bias)) : 0;
      return { e: R * a.e + EPS * K * (a.x + a.e) + 2 * EPS, x: R * a.x + bMax };
    }
    case 'Add':
    case 'Sub':
      return b ? { e: a.e + b.e, x: a.x + b.x } : undefined;
    case 'Mul':
      return b ? mul(a, b, EPS) : undefined;
    case 'Pow': {
      const p = constOf(1);
      const exp = p ? floatValues(p) : [];
      if (exp.length !== 1 || !Number.isInteger(exp[0]) || exp[0]! < 0) return undefined;
      let r: Est = { e: 0, x: 1 };
      for (let k = 0; k < exp[0]!; k++) r = k === 0 ? a : mul(r, a, EPS);
      return r;
    }
    case 'Div': {
      // a / c: by a constant, or by a computed tensor whose smallest |value| bounds it away from 0
      const c = constOf(1);
      const cv = values.get(n.input[1] ?? '');
      const m = c ? minAbs(floatValues(c)) : b && cv ? magnitudes(cv, scale).min - b.e : 0;
      if (!(m > 0)) return undefined;
      const eb = c ? EPS : (b?.e ?? 0);
      return { e: (a.e + (eb * a.x) / m) / m + EPS, x: a.x / m };
    }
    case 'AveragePool':
    case 'ReduceMean':
      return { e: a.e + EPS, x: a.x };
    case 'ReduceSum': {
      const inSize = values.get(n.input[0] ?? '')?.data.length;
      const outSize = values.get(n.output[0] ?? '')?.data.length;
      if (!inSize || !outSize) return undefined;
      const k = inSize / outSize;
      return { e: k * a.e, x: k * a.x };
    }
    case 'LeakyRelu':
    case 'PRelu': {
      const slope =
        n.opType === 'PRelu'
          ? maxAbs(constOf(1) ? floatValues(constOf(1)!) : [Number.NaN])
          : Math.abs(n.attribute.find((x) => x.name === 'alpha')?.f ?? 0.01);
      if (!Number.isFinite(slope)) return undefined;
      const l = Math.max(1, slope);
      return { e: l * a.e + EPS * (a.x + 1), x: l * a.x };
    }
    case 'HardSigmoid': {
      const alpha = Math.abs(n.attribute.find((x) => x.name === 'alpha')?.f ?? 0.2);
      return { e: alpha * a.e + EPS * (a.x + 2), x: 1 };
    }
    case 'HardSwish': {
      const hs = { e: a.e / 6 + EPS * (a.x + 2), x: 1 };
      return mul(a, hs, EPS);
    }
    case 'Softmax': {
      const shape = shapeOf(0);
      if (!shape) return undefined;
      const rows = softmaxPlan(n, ctx.opset, shape).rows;
      const len = Math.max(1, ...rows.map((r) => r.length));
      // |d softmax_i| <= sum_j |d s_i / d x_j| e = 2 s_i (1 - s_i) e <= e / 2
      return { e: a.e / 2 + softmaxMaxError(scale, len), x: 1 };
    }
    case 'Sqrt': {
      // |sqrt(u) - sqrt(v)| <= |u - v| / (2 sqrt(min)) away from 0, else <= sqrt(|u - v|);
      // isqrt floors: < 2^-s
      const xv = values.get(n.input[0] ?? '');
      const lo = xv ? magnitudes(xv, scale).min - a.e : 0;
      const e = lo > 0 ? a.e / (2 * Math.sqrt(lo)) : Math.sqrt(a.e);
      return { e: e + 2 * EPS, x: Math.sqrt(a.x) };
    }
    case 'BatchNormalization': {
      const [sc, bi, me, va] = [1, 2, 3, 4].map((i) => {
        const t = constOf(i);
        return t ? floatValues(t) : undefined;
      });
      if (!sc || !bi || !me || !va) return undefined;
      const eps = n.attribute.find((x) => x.name === 'epsilon')?.f ?? 1e-5;
      const as = sc.map((v, c) => v / Math.sqrt(va[c]! + eps));
      const aMax = maxAbs(as);
      const shift = Math.max(...as.map((v, c) => Math.abs(bi[c]! - me[c]! * v)));
      return { e: aMax * a.e + EPS * (a.x + maxAbs(me) + 3), x: aMax * a.x + shift };
    }
    case 'RNN':
    case 'GRU':
    case 'LSTM':
      return recurrentErrorEstimate(n, ins, values, scale);
    default:
      return undefined;
  }
}

/** Min and max |value| of an executor tensor, in real units (0, 0 when empty). */
function magnitudes(t: XTensor, scale: number): { min: number; max: number } {
  let lo: bigint | undefined;
  let hi = 0n;
  for (const v of t.data) {
    const a = v < 0n ? -v : v;
    if (lo === undefined || a < lo) lo = a;
    if (a > hi) hi = a;
  }
  const unit = t.int ? 1 : 2 ** scale;
  return { min: Number(lo ?? 0n) / unit, max: Number(hi) / unit };
}

/**
 * The reported error bound of running `bytes` on `inputs` at scale 2^scale (the run is done
 * here, with the exact executor; throws as the executor does for unsupported models).
 */
export function errorBound(bytes: Uint8Array, inputs: TensorMap, scale = 12): ErrorBound {
  const EPS = 2 ** -(scale + 1);
  const model = decodeModel(bytes);
  const g = model.graph;
  if (!g) return { bound: undefined, unknownOps: [] };
  const run = compileExact(bytes, { scale }).run(inputs, { values: true });
  const values = run.values ?? new Map<string, XTensor>();
  const opset = Math.max(
    0,
    ...model.opsetImport.filter((o) => o.domain === '' || o.domain === 'ai.onnx').map((o) => o.version),
  );
  const consts = new Map(g.initializer.map((t) => [t.name, t]));
  // e by tensor (undefined: unknown); the magnitude comes from the run plus e.
  const errs = new Map<string, number | undefined>();
  for (const t of g.initializer)
    errs.set(t.name, t.dataType === 1 || t.dataType === 10 || t.dataType === 11 ? EPS : 0);
  for (const [name, t] of Object.entries(inputs))
    if (!consts.has(name)) errs.set(name, t.dtype.startsWith('float') ? EPS : 0);
  const est = (name: string): Est | undefined => {
    const e = errs.get(name);
    const v = values.get(name);
    return e === undefined || !v ? undefined : { e, x: magnitudes(v, scale).max + e };
  };
  const unknown = new Set<string>();
  const ctx: NodeContext = { consts, values, EPS, scale, opset };
  for (const n of g.node) {
    let e: number | undefined;
    const t = n.opType === 'Constant' ? n.attribute[0]?.t : undefined;
    if (t && n.output[0]) consts.set(n.output[0], t); // serves as a weight or divisor
    if (n.opType === 'Constant') e = EPS;
    else if (n.opType === 'Shape' || n.opType === 'Size') e = 0;
    else {
      const ins = n.input.filter((i) => i).map(est);
      if (ins.every((i) => i !== undefined)) {
        e = nodeEstimate(n, ins, ctx)?.e;
        if (e === undefined) unknown.add(n.opType);
      }
    }
    for (const o of n.output) errs.set(o, e);
  }
  const outs = g.output.map((o) => errs.get(o.name));
  const bound = outs.every((o) => o !== undefined) ? Math.max(0, ...(outs as number[])) : undefined;
  return { bound, unknownOps: [...unknown].sort() };
}
