/**
 * Arithmetic ops in circuits, each equal to the exact executor's integers (ops/math.ts,
 * ops/reduce.ts, ops/elementwise.ts):
 * - Product of two non-constant values (Mul, Pow, MatMul, HardSwish): a new signal p = x * y in
 *   ONE quadratic constraint, at 2^2s, then the Rescale gadget (round half up, as
 *   `rshiftRound`). |p| <= bound(x) * bound(y) is checked below p/2, so the field product is the
 *   integer product; MatMul sums its products and rounds once, as the executor.
 * - Neg: linear. Abs: max(x, -x). Max / Min (any number of inputs, broadcast): pairwise by the
 *   sign bit of a difference; min(a, b) = -max(-a, -b).
 * - Clip with constant bounds: max with the lower bound, then min with the upper one.
 * - PRelu with a constant slope: LeakyRelu per element (slope at 2^s), or
 *   relu(x) + k * (x - relu(x)) for an integer slope k (linear after Relu).
 * - HardSigmoid: rescale(alpha * x) + beta (one Rescale), Relu by its sign bit, min with 1.
 *   HardSwish: rescale(x * hardsigmoid(x)).
 * - Pow with a constant integer exponent n >= 0: n - 1 products, each rounded, left to right.
 * - ReduceSum (linear), ReduceMean (divRound(sum, count) by DivConst, as AveragePool),
 *   ReduceMax / ReduceMin (pairwise max / min), ReduceL1 (sum of Abs), ReduceSumSquare (products
 *   summed, one rounding), over constant axes (the executor's `reduceGroups`); GlobalAveragePool /
 *   GlobalMaxPool as ReduceMean / ReduceMax over the spatial axes; ReduceProd: rounded products
 *   left to right. CumSum: linear (exclusive / reverse).
 * - Sum (linear), Mean (DivConst); Floor / Ceil: floor(X / 2^s) by DivConst, scaled back; Sign:
 *   two sign bits; ThresholdedRelu: [x > alpha] by a sign bit, times x.
 * - Gemm in general (non-constant A and B, or C, alpha / beta != 1): products, then Rescale, or
 *   rshiftRound(acc * alpha, 2s) by DivConst; beta * C rounded once, as the executor.
 */

import { PlumbError } from '../../core/errors.ts';
import type { NodeProto } from '../../core/onnx/types.ts';
import { attrFloat, attrInt, nodeError } from '../../runtime/exact/attributes.ts';
import { f32ToRational, quantizeRational, rshiftRound } from '../../runtime/exact/fixed.ts';
import { matmulPlan } from '../../runtime/exact/ops/linear.ts';
import { hardSigmoidParams, powExponent } from '../../runtime/exact/ops/math.ts';
import { reduceGroups } from '../../runtime/exact/ops/reduce.ts';
import { asFixed, broadcastIndex, broadcastShape, normAxis, size } from '../../runtime/exact/tensor.ts';
import type { XTensor } from '../../runtime/exact/types.ts';
import { FIELD_PRIME } from './field.ts';
import type { Emitter } from './gadgets.ts';
import { type Lin, linCombine, linConst, linSignal, type Sym, symOf, type Val } from './lin.ts';
import type { LowerContext } from './nn.ts';

/** Op types this module lowers (Mul and MatMul of two non-constant tensors are routed here too). */
export const arithmeticCircuitOps: readonly string[] = [
  'Abs',
  'Ceil',
  'Clip',
  'CumSum',
  'Floor',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'HardSigmoid',
  'HardSwish',
  'Max',
  'Mean',
  'Min',
  'Neg',
  'Pow',
  'PRelu',
  'ReduceL1',
  'ReduceMax',
  'ReduceMean',
  'ReduceMin',
  'ReduceProd',
  'ReduceSum',
  'ReduceSumSquare',
  'Sign',
  'Sum',
  'ThresholdedRelu',
];

const FIELD_LIMIT = (FIELD_PRIME - 1n) / 2n;

const scaleBy = (l: Lin, k: bigint): Lin => linCombine(l, k, linConst(0n), 0n);

/** A new signal p = x * y (one constraint), or a linear expression when one side is constant. */
export function product(em: Emitter, x: Lin, y: Lin, what: string): Lin {
  if (x.terms.size === 0) return scaleBy(y, x.c);
  if (y.terms.size === 0) return scaleBy(x, y.c);
  const bound = em.bound(x) * em.bound(y);
  if (bound >= FIELD_LIMIT)
    throw new PlumbError('INVALID_MODEL', `${what}: a product could exceed the field`);
  const name = em.fresh('pr');
  em.lines.push(`    signal ${name};`);
  em.lines.push(`    ${name} <== (${em.render(x, what)}) * (${em.render(y, what)});`);
  em.constraints += 1;
  em.registerBound(name, bound);
  const out = linSignal(name);
  out.bound = bound;
  return out;
}

/** [l >= 0] as a 0/1 expression (a sign bit). */
function nonnegBit(em: Emitter, l: Lin, what: string): Lin {
  if (l.terms.size === 0) return linConst(l.c >= 0n ? 1n : 0n);
  return withBound(linSignal(em.sign(l, what)), 1n);
}

const withBound = (l: Lin, bound: bigint): Lin => ({ ...l, bound });

/** rshiftRound(x * y, s): the executor's product of two scaled values. */
function mulRound(em: Emitter, x: Lin, y: Lin, what: string): Lin {
  return em.rescale(product(em, x, y, what), 0n, what);
}

const min = (em: Emitter, a: Lin, b: Lin, what: string): Lin =>
  scaleBy(em.max(scaleBy(a, -1n), scaleBy(b, -1n), what), -1n);

function map(x: Sym, fn: (l: Lin) => Lin): Sym {
  return { kind: 'sym', shape: x.shape, data: x.data.map(fn) };
}

/** Elementwise fn over two tensors broadcast together. */
function zip(node: NodeProto, x: Sym, y: Sym, fn: (a: Lin, b: Lin) => Lin): Sym {
  const shape = broadcastShape(x.shape, y.shape, node);
  const ix = broadcastIndex(x.shape, shape);
  const iy = broadcastIndex(y.shape, shape);
  return {
    kind: 'sym',
    shape,
    data: Array.from({ length: size(shape) }, (_, k) => fn(x.data[ix[k]!]!, y.data[iy[k]!]!)),
  };
}

function constant(node: NodeProto, v: Val | undefined, what: string): XTensor | undefined {
  if (!v) return undefined;
  if (v.kind !== 'const') throw nodeError(node, `${what} must be a constant in circuits`);
  return v.t;
}

/** Mul of two non-constant tensors: rshiftRound(x * y, s) per element (broadcast). */
export function mulSym(node: NodeProto, a: Sym, b: Sym, em: Emitter): Sym {
  const what = `Mul node "${node.name}"`;
  return zip(node, a, b, (x, y) => mulRound(em, x, y, what));
}

/**
 * The cells of MatMul(A, B) (batched; 1-D operands as ONNX), in order: `cell(ai, bi)` per output
 * element, given the flat indices into A of its row and into B of its column.
 */
export function matmulCells(
  node: NodeProto,
  aShape: readonly number[],
  bShape: readonly number[],
  cell: (ai: number[], bi: number[]) => Lin,
): { shape: number[]; data: Lin[] } {
  const { M, K, N, batch, ia, ib } = matmulPlan(node, aShape, bShape);
  const ks = Array.from({ length: K }, (_, k) => k);
  const data: Lin[] = [];
  for (let t = 0; t < size(batch); t++) {
    const ao = ia[t]! * M * K;
    const bo = ib[t]! * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++)
        data.push(
          cell(
            ks.map((k) => ao + i * K + k),
            ks.map((k) => bo + k * N + j),
          ),
        );
  }
  const shape = [...batch];
  if (aShape.length !== 1) shape.push(M);
  if (bShape.length !== 1) shape.push(N);
  return { shape, data };
}

/** MatMul of two non-constant tensors: products summed at 2^2s, rounded once. */
export function matmulSym(node: NodeProto, A: Sym, B: Sym, em: Emitter): Sym {
  const what = `MatMul node "${node.name}"`;
  const { shape, data } = matmulCells(node, A.shape, B.shape, (ai, bi) => {
    let acc = linConst(0n);
    ai.forEach((a, k) => {
      acc = linCombine(acc, 1n, product(em, A.data[a]!, B.data[bi[k]!]!, what), 1n);
    });
    return em.rescale(acc, 0n, what);
  });
  return { kind: 'sym', shape, data };
}

/** Whether a Gemm needs `gemmGeneral` (ops.ts lowers the constant-weight, alpha = beta = 1 case). */
export function gemmIsGeneral(node: NodeProto, a: Val, b: Val, c: Val | undefined): boolean {
  return (
    (a.kind === 'sym' && b.kind === 'sym') ||
    c?.kind === 'sym' ||
    attrFloat(node, 'alpha', 1) !== 1 ||
    attrFloat(node, 'beta', 1) !== 1
  );
}

/** Gemm as the executor (ops/linear.ts): y = rshiftRound(A B (* alpha), s (2s)) + (beta *) C. */
export function gemmGeneral(
  node: NodeProto,
  a: Val,
  b: Val,
  c: Val | undefined,
  em: Emitter,
  ctx: LowerContext,
): Sym {
  const what = `Gemm node "${node.name}"`;
  const s = ctx.s;
  const A = symOf(a, s);
  const B = symOf(b, s);
  if (A.shape.length !== 2 || B.shape.length !== 2) throw nodeError(node, 'A and B must be 2-D');
  const transA = attrInt(node, 'transA', 0) === 1;
  const transB = attrInt(node, 'transB', 0) === 1;
  const [M, K] = (transA ? [A.shape[1], A.shape[0]] : A.shape) as [number, number];
  const [K2, N] = (transB ? [B.shape[1], B.shape[0]] : B.shape) as [number, number];
  if (K !== K2) throw nodeError(node, `inner dimensions differ (${K} and ${K2})`);
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const q = (v: number) => quantizeRational(f32ToRational(v), ctx.scale);
  let cd: Lin[] | undefined;
  if (c) {
    const C = symOf(c, s);
    const idx = broadcastIndex(C.shape, broadcastShape(C.shape, [M, N], node));
    cd = Array.from(idx, (i) => {
      const l = C.data[i]!;
      if (beta === 1) return l;
      if (l.terms.size === 0) return linConst(rshiftRound(l.c * q(beta), s));
      return em.rescale(scaleBy(l, q(beta)), 0n, what);
    });
  }
  const data: Lin[] = [];
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let acc = linConst(0n);
      for (let k = 0; k < K; k++) {
        const x = A.data[transA ? k * M + i : i * K + k]!;
        const y = B.data[transB ? j * K + k : k * N + j]!;
        acc = linCombine(acc, 1n, product(em, x, y, what), 1n);
      }
      const y =
        alpha === 1
          ? em.rescale(acc, 0n, what)
          : em.divFloor(
              linCombine(scaleBy(acc, q(alpha)), 1n, linConst(1n << (2n * s - 1n)), 1n),
              1n << (2n * s),
              what,
            );
      data.push(cd ? linCombine(y, 1n, cd[i * N + j]!, 1n) : y);
    }
  return { kind: 'sym', shape: [M, N], data };
}

function clip(
  node: NodeProto,
  x: Sym,
  opt: (i: number) => Val | undefined,
  em: Emitter,
  ctx: LowerContext,
): Sym {
  const what = `Clip node "${node.name}"`;
  const bound = (i: number, attr: string): bigint | undefined => {
    if (ctx.opset < 11) {
      const f = node.attribute.find((a) => a.name === attr)?.f;
      if (f === undefined || !Number.isFinite(f)) return undefined;
      return quantizeRational(f32ToRational(f), ctx.scale);
    }
    const t = constant(node, opt(i), `the ${attr} bound`);
    if (!t) return undefined;
    if (t.data.length !== 1) throw nodeError(node, `${attr} must be a scalar`);
    return asFixed(t, ctx.s).data[0]!;
  };
  const lo = bound(1, 'min');
  const hi = bound(2, 'max');
  return map(x, (l) => {
    const a = lo === undefined ? l : em.max(l, linConst(lo), what);
    return hi === undefined ? a : min(em, a, linConst(hi), what);
  });
}

function prelu(node: NodeProto, x: Sym, slopeV: Val, em: Emitter): Sym {
  const what = `PRelu node "${node.name}"`;
  const slope = constant(node, slopeV, 'the slope');
  if (!slope) throw nodeError(node, 'the slope is required');
  const shape = broadcastShape(x.shape, slope.shape, node);
  const ix = broadcastIndex(x.shape, shape);
  const ic = broadcastIndex(slope.shape, shape);
  const data = Array.from({ length: size(shape) }, (_, k) => {
    const l = x.data[ix[k]!]!;
    const q = slope.data[ic[k]!]!;
    if (!slope.int) return em.leakyRelu(l, q, what);
    // Integer slope: x >= 0 ? x : x * q = relu(x) + q * (x - relu(x)).
    const r = em.relu(l, what);
    return linCombine(r, 1n, linCombine(l, 1n, r, -1n), q);
  });
  return { kind: 'sym', shape, data };
}

function hardSigmoid(em: Emitter, l: Lin, alpha: bigint, beta: bigint, what: string): Lin {
  const t = em.rescale(scaleBy(l, alpha), beta, what);
  return min(em, em.relu(t, what), linConst(1n << BigInt(em.s)), what);
}

function pow(node: NodeProto, x: Sym, e: Val, em: Emitter, s: bigint): Sym {
  const what = `Pow node "${node.name}"`;
  const et = constant(node, e, 'the exponent');
  if (!et) throw nodeError(node, 'the exponent is required');
  const shape = broadcastShape(x.shape, et.shape, node);
  const ix = broadcastIndex(x.shape, shape);
  const ie = broadcastIndex(et.shape, shape);
  const data = Array.from({ length: size(shape) }, (_, k) => {
    const l = x.data[ix[k]!]!;
    const n = powExponent(node, et.data[ie[k]!]!, et.int, s);
    if (n < 0n)
      throw nodeError(
        node,
        'a negative exponent (a division by a non-constant) is not supported in circuits',
      );
    if (n > 64n) throw nodeError(node, `exponent ${n} is too large (at most 64)`);
    if (n === 0n) return linConst(1n << s);
    let y = l;
    for (let i = 1n; i < n; i++) y = mulRound(em, y, l, what);
    return y;
  });
  return { kind: 'sym', shape, data };
}

function reduce(node: NodeProto, x: Sym, axesV: Val | undefined, em: Emitter, ctx: LowerContext): Sym {
  const what = `${node.opType} node "${node.name}"`;
  const axesT = constant(node, axesV, 'the axes');
  const op =
    node.opType === 'GlobalAveragePool'
      ? 'ReduceMean'
      : node.opType === 'GlobalMaxPool'
        ? 'ReduceMax'
        : node.opType;
  const { shape, data } = reduceGroups(node, ctx.opset, x, axesT, (vals) => {
    if (op === 'ReduceMax' || op === 'ReduceMin') {
      if (vals.length === 0) throw nodeError(node, 'cannot reduce an empty tensor');
      const pick = op === 'ReduceMax' ? em.max.bind(em) : (a: Lin, b: Lin, w: string) => min(em, a, b, w);
      return vals.slice(1).reduce((a, b) => pick(a, b, what), vals[0]!);
    }
    if (op === 'ReduceProd') {
      if (vals.length === 0) return linConst(1n << ctx.s);
      return vals.slice(1).reduce((a, b) => mulRound(em, a, b, what), vals[0]!);
    }
    if (op === 'ReduceSumSquare') {
      const acc = vals.reduce((a, b) => linCombine(a, 1n, product(em, b, b, what), 1n), linConst(0n));
      return em.rescale(acc, 0n, what);
    }
    const terms = op === 'ReduceL1' ? vals.map((l) => em.max(l, scaleBy(l, -1n), what)) : vals;
    const sum = terms.reduce((a, b) => linCombine(a, 1n, b, 1n), linConst(0n));
    if (op === 'ReduceSum' || op === 'ReduceL1') return sum;
    if (vals.length === 0) throw nodeError(node, 'cannot average an empty tensor');
    const count = BigInt(vals.length);
    return em.divFloor(linCombine(sum, 2n, linConst(count), 1n), 2n * count, what);
  });
  return { kind: 'sym', shape, data };
}

/** Lower one arithmetic node (see the module comment) with at least one non-constant input. */
export function lowerArithmetic(
  node: NodeProto,
  get: (i: number) => Val,
  opt: (i: number) => Val | undefined,
  em: Emitter,
  ctx: LowerContext,
): Sym {
  const s = ctx.s;
  const what = `${node.opType} node "${node.name}"`;
  const x = () => {
    const v = get(0);
    if (v.kind !== 'sym') throw nodeError(node, 'input 0 must be the non-constant tensor in circuits');
    return v;
  };
  switch (node.opType) {
    case 'Neg':
      return map(x(), (l) => scaleBy(l, -1n));
    case 'Abs':
      return map(x(), (l) => em.max(l, scaleBy(l, -1n), what));
    case 'Max':
    case 'Min': {
      const xs = node.input.map((_, i) => symOf(get(i), s));
      const pick =
        node.opType === 'Max'
          ? (a: Lin, b: Lin) => em.max(a, b, what)
          : (a: Lin, b: Lin) => min(em, a, b, what);
      return xs.slice(1).reduce((acc, y) => zip(node, acc, y, pick), xs[0]!);
    }
    case 'Clip':
      return clip(node, x(), opt, em, ctx);
    case 'PRelu':
      return prelu(node, x(), get(1), em);
    case 'HardSigmoid':
    case 'HardSwish': {
      const { alpha, beta } = hardSigmoidParams(node, ctx.scale);
      if (node.opType === 'HardSigmoid') return map(x(), (l) => hardSigmoid(em, l, alpha, beta, what));
      return map(x(), (l) => mulRound(em, l, hardSigmoid(em, l, alpha, beta, what), what));
    }
    case 'Pow':
      return pow(node, x(), get(1), em, s);
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceL1':
    case 'ReduceSumSquare':
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'ReduceProd':
      return reduce(node, x(), opt(1), em, ctx);
    case 'CumSum': {
      const xs = x();
      const axisT = constant(node, get(1), 'the axis');
      if (!axisT) throw nodeError(node, 'the axis is required');
      // The executor's own kernel on index tensors gives no sums; mirror its loop instead.
      const axis = normAxis(Number(axisT.data[0] ?? 0n), xs.shape.length, node);
      const exclusive = attrInt(node, 'exclusive', 0) === 1;
      const reverse = attrInt(node, 'reverse', 0) === 1;
      const dim = xs.shape[axis]!;
      const inner = size(xs.shape.slice(axis + 1));
      const outer = size(xs.shape.slice(0, axis));
      const data = new Array<Lin>(xs.data.length);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          let acc = linConst(0n);
          for (let step = 0; step < dim; step++) {
            const k = (o * dim + (reverse ? dim - 1 - step : step)) * inner + i;
            const next = linCombine(acc, 1n, xs.data[k]!, 1n);
            data[k] = exclusive ? acc : next;
            acc = next;
          }
        }
      return { kind: 'sym', shape: xs.shape, data };
    }
    case 'Sum':
    case 'Mean': {
      const xs = node.input.map((_, i) => symOf(get(i), s));
      const sum = xs
        .slice(1)
        .reduce((acc, y) => zip(node, acc, y, (a, b) => linCombine(a, 1n, b, 1n)), xs[0]!);
      if (node.opType === 'Sum') return sum;
      const n = BigInt(xs.length);
      return map(sum, (l) => em.divFloor(linCombine(l, 2n, linConst(n), 1n), 2n * n, what));
    }
    case 'Floor':
      return map(x(), (l) => scaleBy(em.divFloor(l, 1n << s, what), 1n << s));
    case 'Ceil':
      return map(x(), (l) => scaleBy(em.divFloor(scaleBy(l, -1n), 1n << s, what), -(1n << s)));
    case 'Sign':
      // [x >= 0] - [-x >= 0]: 1, 0 or -1, at 2^s.
      return map(x(), (l) =>
        scaleBy(linCombine(nonnegBit(em, l, what), 1n, nonnegBit(em, scaleBy(l, -1n), what), -1n), 1n << s),
      );
    case 'ThresholdedRelu': {
      const alpha = quantizeRational(f32ToRational(attrFloat(node, 'alpha', 1)), ctx.scale);
      // [x > alpha] = 1 - [alpha - x >= 0], then one product.
      return map(x(), (l) => {
        const above = linCombine(
          linConst(1n),
          1n,
          nonnegBit(em, linCombine(linConst(alpha), 1n, l, -1n), what),
          -1n,
        );
        return product(em, withBound(above, 1n), l, what);
      });
    }
    default:
      throw nodeError(node, 'op is not supported in circuits');
  }
}
