/**
 * RNN, GRU, LSTM, written ONCE as a step function over an arithmetic (`Arith`): the exact
 * executor runs it on bigint, the circuit compiler (src/proof/zk/recurrent.ts) on affine
 * expressions, so both compute the same integers by construction.
 *
 * ONNX semantics: gate order iofc (LSTM) / zrh (GRU), direction forward / reverse /
 * bidirectional, layout 0 ([seq, batch, ...]) or 1 ([batch, seq, ...]), initial states,
 * sequence_lens (steps past a sequence's length leave zeros in Y and keep the state), clip,
 * LSTM peepholes P and input_forget (f = 2^s - i), GRU linear_before_reset. Activations: Sigmoid
 * and Tanh (the executor's piecewise cubics); others and activation_alpha / beta are refused.
 *
 * Fixed point, as everywhere: a gate's pre-activation X W^T + H R^T (+ P C) accumulates at 2^2s
 * and is rounded ONCE, then Wb + Rb is added (as Gemm); sums of products of two values
 * (LSTM f C + i c~, GRU r n with X W^T) are taken at 2^2s and rounded once; the GRU update is
 * H = h~ + rshiftRound(z (H - h~), s), so (1 - z) never appears.
 */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrFloat, attrInt, attrString, nodeError } from '../attributes.ts';
import { f32ToRational, quantizeRational, rshiftRound } from '../fixed.ts';
import { piecewiseEval, piecewiseTable } from '../piecewise.ts';
import { asFixed, intValues } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { OpImpl } from './op.ts';

export type ActivationKind = 'Sigmoid' | 'Tanh';

/** The arithmetic of a recurrence (T: bigint at 2^s in the executor, an affine expression in circuits). */
export type Arith<T> = {
  konst(c: bigint): T;
  /** sum w * x + c, exact (integer coefficients, no rounding). */
  lin(terms: readonly [bigint, T][], c: bigint): T;
  /** rshiftRound(sum w * x + sum a * b, s) + c: constants times values and products of two values, at 2^2s. */
  round(terms: readonly [bigint, T][], prods: readonly [T, T][], c: bigint): T;
  act(f: ActivationKind, x: T): T;
  /** min(max(x, -c), c). */
  clip(x: T, c: bigint): T;
};

type Kind = 'RNN' | 'GRU' | 'LSTM';
const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTS: Record<Kind, ActivationKind[]> = {
  RNN: ['Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
};

export type RecurrentPlan = {
  kind: Kind;
  hidden: number;
  dirs: number;
  reverse: boolean[];
  layout: number;
  acts: ActivationKind[][];
  linearBeforeReset: boolean;
  /** LSTM input_forget: f = 1 - i. */
  inputForget: boolean;
  /** The clip threshold at 2^s, when set. */
  clip: bigint | undefined;
};

const utf8 = new TextDecoder();

/** Validated attributes of an RNN / GRU / LSTM node. */
export function recurrentPlan(node: NodeProto, scale: number): RecurrentPlan {
  const kind = node.opType as Kind;
  if (!(kind in GATES)) throw nodeError(node, 'not a recurrent op');
  const hidden = attrInt(node, 'hidden_size', 0);
  if (hidden <= 0) throw nodeError(node, 'hidden_size is required');
  const direction = attrString(node, 'direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction))
    throw nodeError(node, `direction ${direction} is not supported`);
  for (const a of ['activation_alpha', 'activation_beta'])
    if (node.attribute.some((x) => x.name === a))
      throw nodeError(node, `the ${a} attribute is not supported`);
  const layout = attrInt(node, 'layout', 0);
  if (layout !== 0 && layout !== 1) throw nodeError(node, `layout ${layout} is not supported`);
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const per = DEFAULT_ACTS[kind];
  const given = node.attribute.find((a) => a.name === 'activations')?.strings?.map((b) => utf8.decode(b));
  const names = given && given.length > 0 ? given : Array.from({ length: dirs }, () => per).flat();
  if (names.length !== per.length * dirs) throw nodeError(node, `expected ${per.length * dirs} activations`);
  const acts = Array.from({ length: dirs }, (_, d) =>
    names.slice(d * per.length, (d + 1) * per.length).map((n) => {
      if (n !== 'Sigmoid' && n !== 'Tanh')
        throw nodeError(node, `activation ${n} is not supported (Sigmoid and Tanh are)`);
      return n as ActivationKind;
    }),
  );
  const hasClip = node.attribute.some((a) => a.name === 'clip');
  return {
    kind,
    hidden,
    dirs,
    reverse: direction === 'bidirectional' ? [false, true] : [direction === 'reverse'],
    layout,
    acts,
    linearBeforeReset: attrInt(node, 'linear_before_reset', 0) === 1,
    inputForget: kind === 'LSTM' && attrInt(node, 'input_forget', 0) === 1,
    clip: hasClip ? quantizeRational(f32ToRational(attrFloat(node, 'clip', 0)), scale) : undefined,
  };
}

export type Tensorish<T> = { shape: readonly number[]; data: readonly T[] };

export type RecurrentInputs<T> = {
  X: Tensorish<T>;
  /** Constants at 2^s: W [dirs, G*H, I], R [dirs, G*H, H], B [dirs, 2*G*H], P [dirs, 3*H]. */
  W: XTensor;
  R: XTensor;
  B: XTensor | undefined;
  /** Per batch entry (constant). */
  lens: number[] | undefined;
  h0: Tensorish<T> | undefined;
  c0: Tensorish<T> | undefined;
  P: XTensor | undefined;
};

/** Y, Y_h (and Y_c for LSTM), each { shape, data }. */
export function recurrentRun<T>(
  node: NodeProto,
  plan: RecurrentPlan,
  ar: Arith<T>,
  inp: RecurrentInputs<T>,
  s: bigint,
): { shape: number[]; data: T[] }[] {
  const { kind, hidden: H, dirs, layout } = plan;
  const G = GATES[kind];
  if (inp.X.shape.length !== 3) throw nodeError(node, 'X must be 3-D');
  const [seq, batch, I] = (layout === 1 ? [inp.X.shape[1], inp.X.shape[0], inp.X.shape[2]] : inp.X.shape) as [
    number,
    number,
    number,
  ];
  const expect = (shape: readonly number[] | undefined, want: number[], what: string) => {
    if (shape && (shape.length !== want.length || shape.some((d, i) => d !== want[i])))
      throw nodeError(node, `${what} must have shape [${want.join(', ')}], got [${shape.join(', ')}]`);
  };
  expect(inp.W.shape, [dirs, G * H, I], 'W');
  expect(inp.R.shape, [dirs, G * H, H], 'R');
  expect(inp.B?.shape, [dirs, 2 * G * H], 'B');
  expect(inp.P?.shape, [dirs, 3 * H], 'P');
  const stateShape = layout === 1 ? [batch, dirs, H] : [dirs, batch, H];
  expect(inp.h0?.shape, stateShape, 'initial_h');
  expect(inp.c0?.shape, stateShape, 'initial_c');
  const lens = inp.lens ?? Array.from({ length: batch }, () => seq);
  if (lens.length !== batch || lens.some((l) => l < 0 || l > seq))
    throw nodeError(node, `sequence_lens must have ${batch} values in [0, ${seq}]`);
  const zero = ar.konst(0n);
  const xAt = (t: number, n: number, k: number) =>
    inp.X.data[layout === 1 ? (n * seq + t) * I + k : (t * batch + n) * I + k]!;
  const stateIndex = (d: number, n: number, j: number) =>
    layout === 1 ? (n * dirs + d) * H + j : (d * batch + n) * H + j;
  const yIndex = (t: number, d: number, n: number, j: number) =>
    layout === 1 ? ((n * seq + t) * dirs + d) * H + j : ((t * dirs + d) * batch + n) * H + j;
  const y: T[] = Array.from({ length: seq * dirs * batch * H }, () => zero);
  const yh: T[] = new Array(dirs * batch * H);
  const yc: T[] = new Array(dirs * batch * H);
  const pre = (x: T) => (plan.clip === undefined ? x : ar.clip(x, plan.clip));
  for (let d = 0; d < dirs; d++) {
    const [f, g, h] = [plan.acts[d]![0]!, plan.acts[d]![1] ?? 'Tanh', plan.acts[d]![2] ?? 'Tanh'];
    const w = (gate: number, j: number, k: number) => inp.W.data[((d * G + gate) * H + j) * I + k]!;
    const r = (gate: number, j: number, k: number) => inp.R.data[((d * G + gate) * H + j) * H + k]!;
    const bias = (gate: number, j: number, which: 0 | 1) =>
      inp.B?.data[d * 2 * G * H + which * G * H + gate * H + j] ?? 0n;
    const p = (which: number, j: number) => inp.P?.data[d * 3 * H + which * H + j] ?? 0n;
    for (let n = 0; n < batch; n++) {
      let hs = Array.from({ length: H }, (_, j) => inp.h0?.data[stateIndex(d, n, j)] ?? zero);
      let cs = Array.from({ length: H }, (_, j) => inp.c0?.data[stateIndex(d, n, j)] ?? zero);
      const len = lens[n]!;
      for (let step = 0; step < len; step++) {
        const t = plan.reverse[d] ? len - 1 - step : step;
        const xs = Array.from({ length: I }, (_, k) => xAt(t, n, k));
        const xTerms = (gate: number, j: number): [bigint, T][] => xs.map((v, k) => [w(gate, j, k), v]);
        const hTerms = (gate: number, j: number, from: T[]): [bigint, T][] =>
          from.map((v, k) => [r(gate, j, k), v]);
        // X W^T + H R^T (+ extra terms), one rounding, + Wb + Rb; clipped when asked.
        const gate = (gi: number, j: number, extra: [bigint, T][] = [], from: T[] = hs) =>
          pre(
            ar.round(
              [...xTerms(gi, j), ...hTerms(gi, j, from), ...extra],
              [],
              bias(gi, j, 0) + bias(gi, j, 1),
            ),
          );
        let next: T[];
        if (kind === 'RNN') next = hs.map((_, j) => ar.act(f, gate(0, j)));
        else if (kind === 'LSTM') {
          // Gate order i, o, f, c; peepholes P = [Pi, Po, Pf].
          const cNext = hs.map((_, j) => {
            const i = ar.act(f, gate(0, j, inp.P ? [[p(0, j), cs[j]!]] : []));
            const fg = plan.inputForget
              ? ar.lin([[-1n, i]], 1n << s)
              : ar.act(f, gate(2, j, inp.P ? [[p(2, j), cs[j]!]] : []));
            const cc = ar.act(g, gate(3, j));
            return ar.round(
              [],
              [
                [fg, cs[j]!],
                [i, cc],
              ],
              0n,
            );
          });
          next = hs.map((_, j) => {
            const o = ar.act(f, gate(1, j, inp.P ? [[p(1, j), cNext[j]!]] : []));
            return ar.round([], [[o, ar.act(h, cNext[j]!)]], 0n);
          });
          cs = cNext;
        } else {
          // Gate order z, r, h.
          const z = hs.map((_, j) => ar.act(f, gate(0, j)));
          const rg = hs.map((_, j) => ar.act(f, gate(1, j)));
          let cand: T[];
          if (plan.linearBeforeReset) {
            cand = hs.map((_, j) => {
              const nj = ar.round(hTerms(2, j, hs), [], bias(2, j, 1));
              return ar.act(g, pre(ar.round(xTerms(2, j), [[rg[j]!, nj]], bias(2, j, 0))));
            });
          } else {
            const rh = hs.map((v, k) => ar.round([], [[rg[k]!, v]], 0n));
            cand = hs.map((_, j) => ar.act(g, gate(2, j, [], rh)));
          }
          next = hs.map((v, j) => {
            const diff = ar.lin(
              [
                [1n, v],
                [-1n, cand[j]!],
              ],
              0n,
            );
            return ar.lin(
              [
                [1n, cand[j]!],
                [1n, ar.round([], [[z[j]!, diff]], 0n)],
              ],
              0n,
            );
          });
        }
        hs = next;
        for (let j = 0; j < H; j++) y[yIndex(t, d, n, j)] = hs[j]!;
      }
      for (let j = 0; j < H; j++) {
        yh[stateIndex(d, n, j)] = hs[j]!;
        yc[stateIndex(d, n, j)] = cs[j]!;
      }
    }
  }
  const outs = [
    { shape: layout === 1 ? [batch, seq, dirs, H] : [seq, dirs, batch, H], data: y },
    { shape: stateShape, data: yh },
  ];
  if (kind === 'LSTM') outs.push({ shape: stateShape, data: yc });
  void s;
  return outs;
}

const recurrent: OpImpl = ({ node, scale, s }) => {
  const plan = recurrentPlan(node, scale);
  const tables = { Sigmoid: piecewiseTable('sigmoid', scale), Tanh: piecewiseTable('tanh', scale) };
  const ar: Arith<bigint> = {
    konst: (c) => c,
    lin: (terms, c) => terms.reduce((acc, [w, x]) => acc + w * x, c),
    round: (terms, prods, c) => {
      let acc = 0n;
      for (const [w, x] of terms) acc += w * x;
      for (const [a, b] of prods) acc += a * b;
      return rshiftRound(acc, s) + c;
    },
    act: (f, x) => piecewiseEval(tables[f], x),
    clip: (x, c) => (x < -c ? -c : x > c ? c : x),
  };
  return (inputs) => {
    const fixed = (i: number) => {
      const t = inputs.opt(i);
      return t ? asFixed(t, s) : undefined;
    };
    const lensT = inputs.opt(4);
    const outs = recurrentRun(
      node,
      plan,
      ar,
      {
        X: asFixed(inputs.get(0), s),
        W: asFixed(inputs.get(1), s),
        R: asFixed(inputs.get(2), s),
        B: fixed(3),
        lens: lensT ? intValues(lensT, node, 'sequence_lens') : undefined,
        h0: fixed(5),
        c0: plan.kind === 'LSTM' ? fixed(6) : undefined,
        P: plan.kind === 'LSTM' ? fixed(7) : undefined,
      },
      s,
    );
    return outs.map((o) => ({ shape: o.shape, data: o.data, int: false }));
  };
};

export const recurrentOps: Record<string, OpImpl> = { GRU: recurrent, LSTM: recurrent, RNN: recurrent };
