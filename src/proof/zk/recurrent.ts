/**
 * RNN, GRU, LSTM in circuits, equal to the exact executor's integers: the executor's own step
 * function (runtime/exact/ops/recurrent.ts `recurrentRun`) run on affine expressions.
 * - W, R, B and P are constants (quantized as the executor does), X and the states are signals,
 *   so every gate pre-activation X W^T + H R^T (+ P C) is linear: one Rescale per element (biases
 *   added at 2^s, as Gemm), then the piecewise Sigmoid / Tanh template (nonlinear.ts).
 * - Elementwise products of two signals (GRU r H or r n and z (H - h~), LSTM f C + i c~ and
 *   o h(C)) take one quadratic constraint each (elementwise.ts `product`), summed at 2^2s and
 *   rounded once by Rescale; (1 - z) never appears: H_t = h~ + rshiftRound(z (H - h~), s).
 * - clip: max / min by sign bits. sequence_lens must be a constant (the unrolled structure
 *   depends on it). Values that are still constants (a zero initial state) fold.
 */
import type { NodeProto } from '../../core/onnx/types.ts';
import { nodeError } from '../../runtime/exact/attributes.ts';
import { rshiftRound } from '../../runtime/exact/fixed.ts';
import { type Arith, recurrentPlan, recurrentRun } from '../../runtime/exact/ops/recurrent.ts';
import { piecewiseEval, piecewiseTable } from '../../runtime/exact/piecewise.ts';
import { asFixed } from '../../runtime/exact/tensor.ts';
import type { XTensor } from '../../runtime/exact/types.ts';
import { product } from './elementwise.ts';
import type { Emitter } from './gadgets.ts';
import { type Lin, linCombine, linConst, type Sym, symOf, type Val } from './lin.ts';
import type { LowerContext } from './nn.ts';
import { piecewise } from './nonlinear.ts';

/** Op types this module lowers. */
export const recurrentCircuitOps: readonly string[] = ['GRU', 'LSTM', 'RNN'];

const neg = (l: Lin): Lin => linCombine(l, -1n, linConst(0n), 0n);

/** The step arithmetic on circuit expressions (see the header). */
function circuitArith(em: Emitter, scale: number, what: string): Arith<Lin> {
  const s = BigInt(scale);
  const tables = { Sigmoid: piecewiseTable('sigmoid', scale), Tanh: piecewiseTable('tanh', scale) };
  const kinds = { Sigmoid: 'sigmoid', Tanh: 'tanh' } as const;
  const lin = (terms: readonly [bigint, Lin][], c: bigint): Lin => {
    let acc = linConst(c);
    for (const [w, x] of terms) if (w !== 0n) acc = linCombine(acc, 1n, x, w);
    return acc;
  };
  return {
    konst: linConst,
    lin,
    round: (terms, prods, c) => {
      let acc = lin(terms, 0n);
      for (const [a, b] of prods) acc = linCombine(acc, 1n, product(em, a, b, what), 1n);
      if (acc.terms.size === 0) return linConst(rshiftRound(acc.c, s) + c);
      return em.rescale(acc, c, what);
    },
    act: (f, x) =>
      x.terms.size === 0 ? linConst(piecewiseEval(tables[f], x.c)) : piecewise(em, kinds[f], x, what),
    clip: (x, c) => {
      if (x.terms.size === 0) return linConst(x.c < -c ? -c : x.c > c ? c : x.c);
      const lo = em.max(x, linConst(-c), what);
      return neg(em.max(neg(lo), linConst(-c), what));
    },
  };
}

/** Lower an RNN / GRU / LSTM node; returns Y, Y_h (and Y_c). */
export function lowerRecurrent(
  node: NodeProto,
  get: (i: number) => Val,
  opt: (i: number) => Val | undefined,
  em: Emitter,
  ctx: LowerContext,
): Sym[] {
  const plan = recurrentPlan(node, ctx.scale);
  const what = `${node.opType} node "${node.name}"`;
  const names = ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P'];
  const constant = (i: number): XTensor | undefined => {
    const v = opt(i);
    if (!v) return undefined;
    if (v.kind !== 'const') throw nodeError(node, `${names[i]} must be a constant in circuits`);
    return v.t;
  };
  const fixed = (i: number) => {
    const t = constant(i);
    return t ? asFixed(t, ctx.s) : undefined;
  };
  const required = (i: number) => {
    get(i);
    return fixed(i)!;
  };
  const lstm = plan.kind === 'LSTM';
  const lensT = constant(4);
  if (lensT && !lensT.int) throw nodeError(node, 'sequence_lens must be an integer tensor');
  const state = (i: number) => {
    const v = opt(i);
    return v ? symOf(v, ctx.s) : undefined;
  };
  const outs = recurrentRun(
    node,
    plan,
    circuitArith(em, ctx.scale, what),
    {
      X: symOf(get(0), ctx.s),
      W: required(1),
      R: required(2),
      B: fixed(3),
      lens: lensT?.data.map(Number),
      h0: state(5),
      c0: lstm ? state(6) : undefined,
      P: lstm ? fixed(7) : undefined,
    },
    ctx.s,
  );
  return outs.map((o) => ({ kind: 'sym', shape: o.shape, data: o.data }));
}
