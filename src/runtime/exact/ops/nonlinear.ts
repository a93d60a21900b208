/**
 * Nonlinear ops of the exact executor, each defined so that a circuit can compute the very same
 * integers (proof/zk/nonlinear.ts):
 * - Sigmoid, Tanh, Erf, Softplus: piecewise cubics on a coarse grid (piecewise.ts).
 * - Softmax (any axis; before opset 13 the input is flattened from `axis` into rows): per row,
 *   m = max, e_j = exp(x_j - m) at 2^(s + SOFTMAX_GUARD) by the piecewise exp (e = 1 exactly at
 *   the max), S = sum e_j, y_j = divRound(e_j * 2^s, S) (round half up, as Div).
 * - LogSoftmax (same rows): y_j = (x_j - m) - rshiftRound(lnS, 8), with the exponentials of
 *   Softmax, S = sum e_j at 2^(s+8) written S = 2^k (1 + f) (k = bit length - 1, f in [0, 1) exact at
 *   2^K, K = s + 8 + bitLength(n)) and lnS = (k - s - 8) ln2 + ln(1 + f) at 2^(s+8), ln2 rounded
 *   once, ln(1 + f) by a piecewise cubic (32 segments on [0, 1)).
 * - Gelu (opset 20) at 2^hi = 2^(s + GELU_GUARD) inside: approximate 'none': u = rshiftRound(X K, s)
 *   (K = 1/sqrt(2) at 2^hi), e = erf(u) piecewise at 2^hi; 'tanh': x3 = rshiftRound(rshiftRound(X X, s)
 *   X, s), v = rshiftRound((X 2^G + rshiftRound(x3 A, s)) C, hi) (A = 0.044715, C = sqrt(2/pi) at
 *   2^hi), e = tanh(v) piecewise at 2^hi; then y = rshiftRound(X (2^hi + e), hi + 1).
 * - LayerNormalization (Y only) over the axes from `axis`: mean = divRound(sum, n), d = X - mean,
 *   var = divRound(sum d^2, n) at 2^2s (one rounding), std = isqrt((var + eps) 2^16) at 2^(s+8)
 *   (eps at 2^2s), y = divRound(d 2^(s+8), std), Y = rshiftRound(y Scale, s) + B.
 *   InstanceNormalization: the same per (n, c) over the spatial axes, Scale and B per channel.
 * - Elu, Selu, Celu: E = exp(X) for X < 0 by the piecewise exp at 2^s; Elu = X >= 0 ? X :
 *   rshiftRound(alpha (E - 2^s), s); Selu = rshiftRound(gamma Elu_alpha, s); Celu = X >= 0 ? X :
 *   rshiftRound(alpha (exp(u) - 2^s), s) with u = divRound(X 2^s, alpha) (`expUnitMaxError`).
 * - Softsign: divRound(X 2^s, 2^s + |X|); Reciprocal: divRound(2^2s, X) (Div's rule).
 * - Exp: t = rshiftRound(X L, s) = x log2(e) at 2^(s+8) (L at 2^(s+8)), clamped below at
 *   kMin 2^(s+8) (kMin = -(s+2): smaller results round to 0 anyway), t = k 2^(s+8) + r, p = 2^r
 *   at 2^(s+8) by a piecewise cubic on [0, 1), y = rshiftRound(p 2^(k - kMin), 8 - kMin).
 * - Log (X > 0): X = 2^k (1 + f), k = bitLength(X) - 1, f = floor((X - 2^k) 2^hi / 2^k) at 2^hi
 *   (hi = s + 8), ln x = (k - s) ln2 + ln(1 + f) at 2^hi (piecewise on [0, 1)), rounded once to 2^s.
 * - ReduceL2: isqrt(sum X^2) (squares at 2^2s, so the root is at 2^s); ReduceLogSumExp: m +
 *   rshiftRound(lnS, 8) with LogSoftmax's exponentials and ln S (axes as ReduceSum's, `reduceGroups`).
 * - Sqrt: y = isqrt(X * 2^s), the floor of the exact square root at 2^s (negative inputs fail).
 */
import { PlumbError } from '../../../core/errors.ts';
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrFloat, attrInt, attrString, nodeError } from '../attributes.ts';
import { divRound, f32ToRational, isqrt, quantizeRational, rshiftRound } from '../fixed.ts';
import {
  invSqrt2Fixed,
  ln2Fixed,
  log2eFixed,
  type PiecewiseKind,
  type PiecewiseTable,
  piecewiseAbs,
  piecewiseEval,
  piecewiseMaxError,
  piecewiseTable,
  sqrt2OverPiFixed,
} from '../piecewise.ts';
import { asFixed, broadcastIndex, normAxis, size } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { OpImpl } from './op.ts';
import { reduceGroups } from './reduce.ts';

/** Selu's default alpha and gamma, as the float32 attributes ONNX stores (the float32 nearest the constants). */
export const SELU_ALPHA = Math.fround(1.6732632423543772);
export const SELU_GAMMA = Math.fround(1.0507009873554805);

/** Extra bits of the Softmax exponentials beyond the output scale. */
export const SOFTMAX_GUARD = 8;

function piecewise(kind: PiecewiseKind): OpImpl {
  return ({ scale, s }) => {
    const table = piecewiseTable(kind, scale);
    return (inputs) => {
      const x = asFixed(inputs.get(0), s);
      return [{ shape: x.shape, data: x.data.map((v) => piecewiseEval(table, v)), int: false }];
    };
  };
}

export type SoftmaxPlan = {
  /** Flat input indices of each row, in order along the reduced axis (or flattened tail). */
  rows: number[][];
};

/** The rows Softmax normalizes: opset < 13 flattens from `axis` (default 1), else one axis (default -1). */
export function softmaxPlan(node: NodeProto, opset: number, shape: readonly number[]): SoftmaxPlan {
  const rank = shape.length;
  const legacy = opset < 13;
  const axis = normAxis(attrInt(node, 'axis', legacy ? 1 : -1), Math.max(rank, 1), node);
  const rows: number[][] = [];
  if (legacy) {
    const len = size(shape.slice(axis));
    const outer = size(shape.slice(0, axis));
    for (let o = 0; o < outer; o++) rows.push(Array.from({ length: len }, (_, j) => o * len + j));
    return { rows };
  }
  const dim = shape[axis] ?? 1;
  const outer = size(shape.slice(0, axis));
  const inner = size(shape.slice(axis + 1));
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++)
      rows.push(Array.from({ length: dim }, (_, j) => (o * dim + j) * inner + i));
  return { rows };
}

/** Row max, exponentials exp(x_j - m) at 2^(s + SOFTMAX_GUARD) and their sum. */
function expRow(xs: readonly bigint[], scale: number): { m: bigint; e: bigint[]; sum: bigint } {
  const table = piecewiseTable('exp', scale, scale + SOFTMAX_GUARD);
  const m = xs.reduce((a, b) => (b > a ? b : a));
  const e = xs.map((v) => piecewiseEval(table, v - m));
  return { m, e, sum: e.reduce((a, b) => a + b, 0n) };
}

/** One Softmax row at 2^s (see the header). */
export function softmaxRow(xs: readonly bigint[], scale: number): bigint[] {
  const { e, sum } = expRow(xs, scale);
  return e.map((v) => divRound(v << BigInt(scale), sum));
}

export type LogSumPlan = {
  /** The exponent k of S = 2^k (1 + f) lies in [kMin, kMax). */
  kMin: number;
  kMax: number;
  /** ln(1 + f) for f at 2^kMax, result at 2^(s + SOFTMAX_GUARD). */
  table: PiecewiseTable;
  /** ln 2 at 2^(s + SOFTMAX_GUARD). */
  ln2: bigint;
};

/** The ln S plan of rows of n values at scale s. */
export function logSumPlan(n: number, scale: number): LogSumPlan {
  const hi = scale + SOFTMAX_GUARD;
  const kMax = hi + n.toString(2).length;
  return { kMin: hi - 1, kMax, table: piecewiseTable('log1p', kMax, hi), ln2: ln2Fixed(hi) };
}

/** ln(S / 2^(s + SOFTMAX_GUARD)) at 2^(s + SOFTMAX_GUARD) (see the header). */
export function lnSum(sum: bigint, plan: LogSumPlan, scale: number): bigint {
  const k = sum.toString(2).length - 1;
  if (sum <= 0n || k < plan.kMin || k >= plan.kMax)
    throw new PlumbError('INFERENCE_FAILED', 'exact executor: LogSoftmax sum out of range');
  const f = (sum - (1n << BigInt(k))) << BigInt(plan.kMax - k);
  return BigInt(k - scale - SOFTMAX_GUARD) * plan.ln2 + piecewiseAbs(plan.table, f);
}

/** One LogSoftmax row at 2^s (see the header). */
export function logSoftmaxRow(xs: readonly bigint[], scale: number): bigint[] {
  const { m, sum } = expRow(xs, scale);
  const ln = rshiftRound(lnSum(sum, logSumPlan(xs.length, scale), scale), BigInt(SOFTMAX_GUARD));
  return xs.map((v) => v - m - ln);
}

/**
 * Stated maximum error of a LogSoftmax row of n values at scale s: the sum is off by at most
 * (n - 1) eps relative to S >= 1 (eps: one exponential), ln 2 by 2^-(s+9) per unit of k (at
 * most bitLength(n)), ln(1 + f) by its piecewise error, final rounding 2^-(s+1).
 */
export function logSoftmaxMaxError(s: number, n: number): number {
  const eps = piecewiseMaxError('exp', s, s + SOFTMAX_GUARD);
  const relative = (n - 1) * eps;
  const hi = s + SOFTMAX_GUARD;
  const bits = n.toString(2).length;
  return (
    2 ** -(s + 1) - Math.log1p(-relative) + bits * 2 ** -(hi + 1) + piecewiseMaxError('log1p', hi + bits, hi)
  );
}

/**
 * Stated maximum error of a Softmax row of n values at scale s against the exact softmax of the
 * quantized inputs: with eps the error of each exponential (the max one is exact, so the sum is off
 * by at most (n - 1) eps and is at least 1 - (n - 1) eps), |e_j / S - y_j| <= n eps / (1 - n eps),
 * plus the final rounding 2^-(s+1).
 */
export function softmaxMaxError(s: number, n: number): number {
  const eps = piecewiseMaxError('exp', s, s + SOFTMAX_GUARD);
  return 2 ** -(s + 1) + (n * eps) / (1 - n * eps);
}

const softmax =
  (rowFn: (xs: readonly bigint[], scale: number) => bigint[]): OpImpl =>
  ({ node, scale, s, opset }) =>
  (inputs) => {
    const x = asFixed(inputs.get(0), s);
    const out = new Array<bigint>(x.data.length);
    for (const row of softmaxPlan(node, opset, x.shape).rows) {
      if (row.length === 0) continue;
      const y = rowFn(
        row.map((i) => x.data[i]!),
        scale,
      );
      row.forEach((i, j) => {
        out[i] = y[j]!;
      });
    }
    return [{ shape: x.shape, data: out, int: false }];
  };

/** Extra bits of Gelu's inner values beyond the output scale. */
export const GELU_GUARD = 4;

export type GeluPlan = {
  approximate: 'none' | 'tanh';
  /** Inner scale s + GELU_GUARD. */
  hi: number;
  /** 1/sqrt(2) ('none') or sqrt(2/pi) ('tanh') at 2^hi. */
  k: bigint;
  /** 0.044715 at 2^hi ('tanh'). */
  a: bigint;
  /** erf or tanh, input and output at 2^hi. */
  table: PiecewiseTable;
};

export function geluPlan(node: NodeProto, scale: number): GeluPlan {
  const approximate = attrString(node, 'approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh')
    throw nodeError(node, `approximate must be "none" or "tanh", got "${approximate}"`);
  const hi = scale + GELU_GUARD;
  const tanh = approximate === 'tanh';
  return {
    approximate,
    hi,
    k: tanh ? sqrt2OverPiFixed(hi) : invSqrt2Fixed(hi),
    a: divRound(44715n << BigInt(hi), 1000000n),
    table: piecewiseTable(tanh ? 'tanh' : 'erf', hi, hi),
  };
}

/** Gelu of X at 2^s (see the header). */
export function geluFixed(x: bigint, plan: GeluPlan, s: bigint): bigint {
  const hi = BigInt(plan.hi);
  let arg: bigint;
  if (plan.approximate === 'none') arg = rshiftRound(x * plan.k, s);
  else {
    const x3 = rshiftRound(rshiftRound(x * x, s) * x, s);
    const inner = (x << (hi - s)) + rshiftRound(x3 * plan.a, s);
    arg = rshiftRound(inner * plan.k, hi);
  }
  const e = piecewiseEval(plan.table, arg);
  return rshiftRound(x * ((1n << hi) + e), hi + 1n);
}

/**
 * Stated maximum error of Gelu at scale s, from the worst case over x of |x|/2 times the error of
 * erf / tanh at the computed argument (function error at 2^hi plus the argument's own rounding
 * and constant errors through the derivative), plus the final rounding 2^-(s+1). Checked
 * exhaustively at s = 12 in the tests.
 */
export function geluMaxError(s: number, approximate: 'none' | 'tanh'): number {
  const hi = s + GELU_GUARD;
  const unit = 2 ** -(hi + 1);
  if (approximate === 'none')
    // |x| < 5.7 where erf is not saturated; max_x x (1 + x) e^(-x^2/2) / sqrt(pi) < 0.75
    return 2 ** -(s + 1) + 2.85 * piecewiseMaxError('erf', hi) + 0.75 * unit + 1e-7;
  // |x| < 4.9 where tanh is not saturated. The argument v's error in units of 2^-(hi+1): its
  // rounding (1), C's (|inner|), then C times inner's: rounding (1), A's (|x|^3), A times x^3's
  // ((|x| + 1) 2^G); it reaches y through |x|/2 * tanh'(v).
  const g = 2 ** GELU_GUARD;
  const c = Math.sqrt(2 / Math.PI);
  let worst = 0;
  for (let x = 0; x <= 8; x += 1 / 256) {
    const inner = x + 0.044715 * x ** 3;
    const dv = 1 + inner + c * (1 + x ** 3 + 0.044715 * (x + 1) * g);
    worst = Math.max(worst, (x / 2) * (1 - Math.tanh(c * inner) ** 2) * dv);
  }
  return 2 ** -(s + 1) + 2.45 * piecewiseMaxError('tanh', hi) + 1.01 * worst * unit + 1e-7;
}

/** isqrt(X * 2^s): the floor of sqrt at 2^s. */
export function sqrtFixed(x: bigint, s: bigint): bigint {
  return isqrt(x << s);
}

/** Extra bits of LayerNormalization's standard deviation beyond the scale. */
export const LAYERNORM_GUARD = 8;

export type LayerNormPlan = {
  /** Rows: flat indices of each normalized group, in order. */
  rows: number[][];
  /** Scale / B index of each position in a row. */
  paramIndex: (shape: readonly number[]) => Int32Array;
  /** epsilon at 2^2s. */
  eps: bigint;
};

export function layerNormPlan(node: NodeProto, scale: number, shape: readonly number[]): LayerNormPlan {
  if (node.output.slice(1).some((o) => o !== ''))
    throw nodeError(node, 'only the Y output is supported (not Mean / InvStdDev)');
  const axis = normAxis(attrInt(node, 'axis', -1), shape.length, node);
  const n = size(shape.slice(axis));
  const outer = size(shape.slice(0, axis));
  const rows = Array.from({ length: outer }, (_, o) => Array.from({ length: n }, (_, j) => o * n + j));
  const eps = quantizeRational(f32ToRational(attrFloat(node, 'epsilon', 1e-5)), 2 * scale);
  return { rows, eps, paramIndex: (p) => broadcastIndex(p, shape.slice(axis)) };
}

/** One normalized row at 2^s before Scale and B: divRound(d 2^(s+8), std) (see the header). */
export function layerNormRow(xs: readonly bigint[], eps: bigint, s: bigint): bigint[] {
  const n = BigInt(xs.length);
  const mean = divRound(
    xs.reduce((a, b) => a + b, 0n),
    n,
  );
  const d = xs.map((v) => v - mean);
  const variance = divRound(
    d.reduce((a, v) => a + v * v, 0n),
    n,
  );
  const g = BigInt(LAYERNORM_GUARD);
  const std = isqrt((variance + eps) << (2n * g));
  return d.map((v) => divRound(v << (s + g), std));
}

/**
 * Stated maximum error of LayerNormalization's Y at scale s against exact arithmetic on the
 * quantized inputs, for rows whose standard deviation is at least `minStd`, |normalized| <= `maxY`,
 * |Scale| <= `maxScale`: the mean's rounding shifts d by 2^-(s+1) (through 1/std), std is floored
 * at 2^-(s+8) and the variance rounded at 2^-(2s+1) (relative errors, through |y|), y is rounded
 * once, then Scale's quantization, the product's rounding and B's quantization.
 */
export function layerNormMaxError(s: number, minStd: number, maxY: number, maxScale: number): number {
  const e = 2 ** -(s + 1);
  const stdRel = 2 ** -(s + LAYERNORM_GUARD) / minStd + 2 ** -(2 * s + 1) / (2 * minStd * minStd);
  const dy = e + e / minStd + maxY * stdRel;
  return maxScale * dy + maxY * e + 2 * e;
}

const layerNorm: OpImpl =
  ({ node, scale, s }) =>
  (inputs) => {
    const x = asFixed(inputs.get(0), s);
    const gamma = asFixed(inputs.get(1), s);
    const beta = inputs.opt(2) ? asFixed(inputs.get(2), s) : undefined;
    const plan = layerNormPlan(node, scale, x.shape);
    const gi = plan.paramIndex(gamma.shape);
    const bi = beta ? plan.paramIndex(beta.shape) : undefined;
    const out = new Array<bigint>(x.data.length);
    for (const row of plan.rows) {
      const y = layerNormRow(
        row.map((i) => x.data[i]!),
        plan.eps,
        s,
      );
      row.forEach((i, j) => {
        out[i] = rshiftRound(y[j]! * gamma.data[gi[j]!]!, s) + (beta && bi ? beta.data[bi[j]!]! : 0n);
      });
    }
    return [{ shape: x.shape, data: out, int: false }];
  };

/** InstanceNormalization's rows (one per n, c over the spatial axes) and epsilon at 2^2s. */
export function instanceNormPlan(
  node: NodeProto,
  scale: number,
  shape: readonly number[],
): { rows: number[][]; channels: number; eps: bigint } {
  if (shape.length < 3) throw nodeError(node, 'the input must have spatial axes (N x C x D1 ...)');
  const channels = shape[1]!;
  const inner = size(shape.slice(2));
  const rows = Array.from({ length: shape[0]! * channels }, (_, r) =>
    Array.from({ length: inner }, (_, j) => r * inner + j),
  );
  return {
    rows,
    channels,
    eps: quantizeRational(f32ToRational(attrFloat(node, 'epsilon', 1e-5)), 2 * scale),
  };
}

const instanceNorm: OpImpl =
  ({ node, scale, s }) =>
  (inputs) => {
    const x = asFixed(inputs.get(0), s);
    const gamma = asFixed(inputs.get(1), s);
    const beta = asFixed(inputs.get(2), s);
    const plan = instanceNormPlan(node, scale, x.shape);
    if (gamma.data.length !== plan.channels || beta.data.length !== plan.channels)
      throw nodeError(node, `scale and B must have ${plan.channels} values`);
    const out = new Array<bigint>(x.data.length);
    plan.rows.forEach((row, r) => {
      const c = r % plan.channels;
      const y = layerNormRow(
        row.map((i) => x.data[i]!),
        plan.eps,
        s,
      );
      row.forEach((i, j) => {
        out[i] = rshiftRound(y[j]! * gamma.data[c]!, s) + beta.data[c]!;
      });
    });
    return [{ shape: x.shape, data: out, int: false }];
  };

const sqrt: OpImpl =
  ({ node, s }) =>
  (inputs) => {
    const x: XTensor = asFixed(inputs.get(0), s);
    return [
      {
        shape: x.shape,
        data: x.data.map((v) => {
          if (v < 0n) throw nodeError(node, 'square root of a negative number');
          return sqrtFixed(v, s);
        }),
        int: false,
      },
    ];
  };

export type EluKind = 'Elu' | 'Selu' | 'Celu';

export type EluPlan = { kind: EluKind; alpha: bigint; gamma: bigint; exp: PiecewiseTable };

/** Elu / Selu / Celu constants at 2^s (ONNX defaults: Elu alpha 1, Selu's alpha and gamma, Celu alpha 1). */
export function eluPlan(node: NodeProto, scale: number): EluPlan {
  const kind = node.opType as EluKind;
  const q = (v: number) => quantizeRational(f32ToRational(v), scale);
  const alpha = q(attrFloat(node, 'alpha', kind === 'Selu' ? SELU_ALPHA : 1));
  const gamma = q(attrFloat(node, 'gamma', SELU_GAMMA));
  if (kind === 'Celu' && alpha <= 0n) throw nodeError(node, 'alpha must be positive');
  return { kind, alpha, gamma, exp: piecewiseTable('exp', scale) };
}

/** Elu / Selu / Celu of X at 2^s (see the header). */
export function eluFixed(x: bigint, plan: EluPlan, s: bigint): bigint {
  let y = x;
  if (x < 0n) {
    const u = plan.kind === 'Celu' ? divRound(x << s, plan.alpha) : x;
    y = rshiftRound(plan.alpha * (piecewiseEval(plan.exp, u) - (1n << s)), s);
  }
  return plan.kind === 'Selu' ? rshiftRound(plan.gamma * y, s) : y;
}

/**
 * Stated maximum error of alpha (exp(x) - 1) for x < 0 at scale s (Elu's negative side; Celu
 * with its argument's rounding, exp' <= 1): |alpha| times the exponential's error (plus, for Celu,
 * 2^-(s+1) from u), alpha's quantization 2^-(s+1) (|exp - 1| <= 1), the product's rounding.
 */
export function expUnitMaxError(s: number, alpha: number, celu = false): number {
  const e = 2 ** -(s + 1);
  return Math.abs(alpha) * (piecewiseMaxError('exp', s) + (celu ? e : 0)) + 2 * e;
}

const elu: OpImpl = ({ node, scale, s }) => {
  const plan = eluPlan(node, scale);
  return (inputs) => {
    const x = asFixed(inputs.get(0), s);
    return [{ shape: x.shape, data: x.data.map((v) => eluFixed(v, plan, s)), int: false }];
  };
};

const softsign: OpImpl =
  ({ s }) =>
  (inputs) => {
    const x = asFixed(inputs.get(0), s);
    return [
      {
        shape: x.shape,
        data: x.data.map((v) => divRound(v << s, (1n << s) + (v < 0n ? -v : v))),
        int: false,
      },
    ];
  };

const reciprocal: OpImpl =
  ({ s }) =>
  (inputs) => {
    const x = asFixed(inputs.get(0), s);
    return [{ shape: x.shape, data: x.data.map((v) => divRound(1n << (2n * s), v)), int: false }];
  };

/** Extra bits of Exp's inner values. */
export const EXP_GUARD = 8;

export type ExpPlan = { hi: number; kMin: number; log2e: bigint; table: PiecewiseTable };

export function expPlan(scale: number): ExpPlan {
  const hi = scale + EXP_GUARD;
  return { hi, kMin: -(scale + 2), log2e: log2eFixed(hi), table: piecewiseTable('exp2', hi, hi) };
}

/** exp(X / 2^s) at 2^s (see the header). */
export function expFixed(x: bigint, plan: ExpPlan, s: bigint): bigint {
  const hi = BigInt(plan.hi);
  const kMin = BigInt(plan.kMin);
  const t0 = rshiftRound(x * plan.log2e, s);
  const t = t0 < kMin << hi ? kMin << hi : t0;
  const k = t >> hi;
  const p = piecewiseEval(plan.table, t - (k << hi));
  return rshiftRound(p << (k - kMin), hi - s - kMin);
}

/**
 * Stated maximum error of Exp at x, scale s: final rounding 2^-(s+1), plus e^x times the relative
 * error of 2^(t / 2^(s+8)): t's rounding and log2(e)'s quantization (1 + |x|) 2^-(s+9) through ln 2,
 * and the piecewise 2^f's own error (2^f >= 1, so absolute bounds relative).
 */
export function expMaxError(s: number, x: number): number {
  const hi = s + EXP_GUARD;
  const relative = Math.LN2 * (1 + Math.abs(x)) * 2 ** -(hi + 1) + piecewiseMaxError('exp2', hi, hi);
  return 2 ** -(s + 1) + Math.exp(x) * relative;
}

export type LogPlan = { hi: number; ln2: bigint; table: PiecewiseTable };

export function logPlan(scale: number): LogPlan {
  const hi = scale + SOFTMAX_GUARD;
  return { hi, ln2: ln2Fixed(hi), table: piecewiseTable('log1p', hi, hi) };
}

/** ln(X / 2^s) at 2^s for X > 0 (see the header). */
export function logFixed(node: NodeProto, x: bigint, plan: LogPlan, s: bigint): bigint {
  if (x <= 0n) throw nodeError(node, 'logarithm of a non-positive number');
  const hi = BigInt(plan.hi);
  const k = BigInt(x.toString(2).length - 1);
  const f = ((x - (1n << k)) << hi) >> k;
  return rshiftRound((k - s) * plan.ln2 + piecewiseAbs(plan.table, f), hi - s);
}

/**
 * Stated maximum error of Log at x > 0, scale s: final rounding 2^-(s+1), ln 2's rounding times
 * |k - s| <= |log2 x| + 1, f's truncation (2^-hi through ln'(1 + f) <= 1), ln(1 + f)'s own error.
 */
export function logMaxError(s: number, x: number): number {
  const hi = s + SOFTMAX_GUARD;
  return (
    2 ** -(s + 1) +
    (Math.abs(Math.log2(x)) + 1) * 2 ** -(hi + 1) +
    2 ** -hi +
    piecewiseMaxError('log1p', hi, hi)
  );
}

/** ReduceLogSumExp of one group at 2^s (see the header). */
export function logSumExp(xs: readonly bigint[], scale: number): bigint {
  const { m, sum } = expRow(xs, scale);
  return m + rshiftRound(lnSum(sum, logSumPlan(xs.length, scale), scale), BigInt(SOFTMAX_GUARD));
}

function reduceNonlinear(kind: 'l2' | 'logsumexp'): OpImpl {
  return ({ node, opset, scale, s }) =>
    (inputs) => {
      const x = asFixed(inputs.get(0), s);
      const { shape, data } = reduceGroups(node, opset, x, inputs.opt(1), (vals) => {
        if (vals.length === 0) throw nodeError(node, 'cannot reduce an empty tensor');
        return kind === 'l2' ? isqrt(vals.reduce((a, b) => a + b * b, 0n)) : logSumExp(vals, scale);
      });
      return [{ shape, data, int: false }];
    };
}

export const nonlinearOps: Record<string, OpImpl> = {
  ReduceL2: reduceNonlinear('l2'),
  ReduceLogSumExp: reduceNonlinear('logsumexp'),
  Log: ({ node, scale, s }) => {
    const plan = logPlan(scale);
    return (inputs) => {
      const x = asFixed(inputs.get(0), s);
      return [{ shape: x.shape, data: x.data.map((v) => logFixed(node, v, plan, s)), int: false }];
    };
  },
  Exp: ({ scale, s }) => {
    const plan = expPlan(scale);
    return (inputs) => {
      const x = asFixed(inputs.get(0), s);
      return [{ shape: x.shape, data: x.data.map((v) => expFixed(v, plan, s)), int: false }];
    };
  },
  Elu: elu,
  Selu: elu,
  Celu: elu,
  Softsign: softsign,
  Reciprocal: reciprocal,
  Sigmoid: piecewise('sigmoid'),
  Tanh: piecewise('tanh'),
  Erf: piecewise('erf'),
  Softplus: piecewise('softplus'),
  Softmax: softmax(softmaxRow),
  LogSoftmax: softmax(logSoftmaxRow),
  Sqrt: sqrt,
  LayerNormalization: layerNorm,
  InstanceNormalization: instanceNorm,
  Gelu: ({ node, scale, s }) => {
    const plan = geluPlan(node, scale);
    return (inputs) => {
      const x = asFixed(inputs.get(0), s);
      return [{ shape: x.shape, data: x.data.map((v) => geluFixed(v, plan, s)), int: false }];
    };
  },
};
