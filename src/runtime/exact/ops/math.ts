/**
 * Elementwise arithmetic beyond the basic four: Neg, Abs, Max, Min, Sum, Mean, Clip, PRelu,
 * HardSigmoid, HardSwish, ThresholdedRelu, Floor, Ceil, Round (half to even), Sign, CumSum and Pow with an integer
 * exponent. Every product of two scaled values is rounded
 * once with `rshiftRound`, as Mul does.
 */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrFloat, attrInt, nodeError } from '../attributes.ts';
import { divRound, f32ToRational, quantizeRational, rshiftRound } from '../fixed.ts';
import { asFixed, binary, intValues, normAxis, size } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { Inputs, OpImpl } from './op.ts';

const map = (x: XTensor, fn: (v: bigint) => bigint): XTensor => ({
  shape: x.shape,
  data: x.data.map(fn),
  int: x.int,
});

/**
 * The node's inputs (any number, at least one) broadcast together and folded left to right by
 * `fn`: integers when every input is, else at 2^s. Also returns the count and whether integer.
 */
function foldInputs(
  node: NodeProto,
  inputs: Inputs,
  s: bigint,
  fn: (a: bigint, b: bigint) => bigint,
): { folded: XTensor; count: number; int: boolean } {
  const xs = node.input.map((_, i) => inputs.get(i));
  if (xs.length === 0) throw nodeError(node, 'needs at least one input');
  const int = xs.every((x) => x.int);
  const parts = int ? xs : xs.map((x) => asFixed(x, s));
  return {
    folded: parts.slice(1).reduce((acc, x) => binary(acc, x, node, int, fn), parts[0]!),
    count: xs.length,
    int,
  };
}

/** Max / Min of any number of tensors, broadcast together, folded left to right. */
function extremum(pick: (a: bigint, b: bigint) => bigint): OpImpl {
  return ({ node, s }) =>
    (inputs) => [foldInputs(node, inputs, s, pick).folded];
}
const maxOf = (a: bigint, b: bigint) => (a >= b ? a : b);
const minOf = (a: bigint, b: bigint) => (a <= b ? a : b);

/** Clip's bounds: inputs 1 and 2 from opset 11, attributes `min` / `max` before (undefined: none). */
function clipBounds(
  node: NodeProto,
  opset: number,
  scale: number,
  x: XTensor,
  lo: XTensor | undefined,
  hi: XTensor | undefined,
): [bigint | undefined, bigint | undefined] {
  if (opset < 11) {
    const a = node.attribute.find((t) => t.name === 'min')?.f;
    const b = node.attribute.find((t) => t.name === 'max')?.f;
    const q = (v: number | undefined) =>
      v === undefined || !Number.isFinite(v) ? undefined : quantizeRational(f32ToRational(v), scale);
    return [q(a), q(b)];
  }
  const one = (t: XTensor | undefined, what: string) => {
    if (!t) return undefined;
    if (t.data.length !== 1) throw nodeError(node, `${what} must be a scalar`);
    const v = t.data[0]!;
    if (x.int === t.int) return v;
    return x.int ? v >> BigInt(scale) : v << BigInt(scale);
  };
  return [one(lo, 'min'), one(hi, 'max')];
}

/** y = min(max(x, lo), hi), onnxruntime's order (hi wins when lo > hi). */
export function clipValue(v: bigint, lo: bigint | undefined, hi: bigint | undefined): bigint {
  const a = lo !== undefined && v < lo ? lo : v;
  return hi !== undefined && a > hi ? hi : a;
}

/** HardSigmoid's constants at 2^s: y = clamp(rshiftRound(alpha * x, s) + beta, 0, 2^s). */
export function hardSigmoidParams(node: NodeProto, scale: number): { alpha: bigint; beta: bigint } {
  const q = (v: number) => quantizeRational(f32ToRational(v), scale);
  if (node.opType === 'HardSwish') return { alpha: q(1 / 6), beta: q(0.5) };
  return { alpha: q(attrFloat(node, 'alpha', 0.2)), beta: q(attrFloat(node, 'beta', 0.5)) };
}

export function hardSigmoidValue(v: bigint, alpha: bigint, beta: bigint, s: bigint): bigint {
  return clipValue(rshiftRound(v * alpha, s) + beta, 0n, 1n << s);
}

/** Pow's exponent as an integer: an int tensor, or a float one at 2^s with no fraction. */
export function powExponent(node: NodeProto, e: bigint, int: boolean, s: bigint): bigint {
  if (int) return e;
  if (e % (1n << s) !== 0n) throw nodeError(node, 'only integer exponents are supported');
  return e >> s;
}

/** x^n at 2^s: n - 1 products, each rounded (x * x * ... left to right); 1 / x^|n| for n < 0. */
export function powFixed(node: NodeProto, x: bigint, n: bigint, s: bigint): bigint {
  if (n > 64n || n < -64n) throw nodeError(node, `exponent ${n} is too large (at most 64 in magnitude)`);
  const k = n < 0n ? -n : n;
  let y = 1n << s;
  for (let i = 0n; i < k; i++) y = i === 0n ? x : rshiftRound(y * x, s);
  if (n >= 0n) return y;
  if (y === 0n) throw nodeError(node, 'zero to a negative power');
  return divRound((1n << s) << s, y);
}

const pow: OpImpl =
  ({ node, s }) =>
  (inputs) => {
    const x = inputs.get(0);
    const e = inputs.get(1);
    if (x.int)
      return [
        binary(x, e, node, true, (p, q) => {
          const n = powExponent(node, q, e.int, s);
          if (n < 0n) throw nodeError(node, 'an integer base needs a non-negative exponent');
          return p ** n;
        }),
      ];
    return [binary(x, e, node, false, (p, q) => powFixed(node, p, powExponent(node, q, e.int, s), s))];
  };

/** Sum / Mean of any number of tensors, broadcast together (Mean: divRound by the count). */
function sumMean(mean: boolean): OpImpl {
  return ({ node, s }) =>
    (inputs) => {
      const { folded: sum, count, int } = foldInputs(node, inputs, s, (p, q) => p + q);
      if (!mean) return [sum];
      const n = BigInt(count);
      return [map(sum, (v) => (int ? v / n : divRound(v, n)))];
    };
}

/** Floor / Ceil of a value at 2^s: floor(X / 2^s) * 2^s (integers are unchanged). */
export function floorFixed(v: bigint, s: bigint): bigint {
  return (v >> s) << s;
}

/** CumSum along a constant axis (exclusive / reverse): exact sums. */
function cumSum(node: NodeProto, x: XTensor, axisT: XTensor): XTensor {
  const axis = normAxis(intValues(axisT, node, 'axis')[0] ?? 0, x.shape.length, node);
  const exclusive = attrInt(node, 'exclusive', 0) === 1;
  const reverse = attrInt(node, 'reverse', 0) === 1;
  const dim = x.shape[axis]!;
  const inner = size(x.shape.slice(axis + 1));
  const outer = size(x.shape.slice(0, axis));
  const data = new Array<bigint>(x.data.length);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let acc = 0n;
      for (let step = 0; step < dim; step++) {
        const j = reverse ? dim - 1 - step : step;
        const k = (o * dim + j) * inner + i;
        if (exclusive) {
          data[k] = acc;
          acc += x.data[k]!;
        } else {
          acc += x.data[k]!;
          data[k] = acc;
        }
      }
    }
  return { shape: x.shape, data, int: x.int };
}

/** Round half to even of a value at 2^s, at 2^s. */
export function roundFixed(v: bigint, s: bigint): bigint {
  const q = v >> s;
  const r = v - (q << s);
  const half = 1n << (s - 1n);
  const up = r > half || (r === half && (q & 1n) === 1n);
  return (up ? q + 1n : q) << s;
}

/** A rounding op (Floor, Ceil, Round): `fn` per fixed-point value; integer tensors unchanged. */
function rounding(fn: (v: bigint, s: bigint) => bigint): OpImpl {
  return ({ s }) =>
    (inputs) => {
      const x = inputs.get(0);
      return [x.int ? x : map(x, (v) => fn(v, s))];
    };
}

export const mathOps: Record<string, OpImpl> = {
  Round: rounding(roundFixed),
  CumSum:
    ({ node }) =>
    (inputs) => [cumSum(node, inputs.get(0), inputs.get(1))],
  Sum: sumMean(false),
  Mean: sumMean(true),
  Floor: rounding(floorFixed),
  Ceil: rounding((v, s) => -floorFixed(-v, s)),
  Sign:
    ({ s }) =>
    (inputs) => {
      const x = inputs.get(0);
      const one = x.int ? 1n : 1n << s;
      return [map(x, (v) => (v > 0n ? one : v < 0n ? -one : 0n))];
    },
  ThresholdedRelu: ({ node, scale }) => {
    const alpha = quantizeRational(f32ToRational(attrFloat(node, 'alpha', 1)), scale);
    return (inputs) => [map(asFixed(inputs.get(0), BigInt(scale)), (v) => (v > alpha ? v : 0n))];
  },
  Neg: () => (inputs) => [map(inputs.get(0), (v) => -v)],
  Abs: () => (inputs) => [map(inputs.get(0), (v) => (v < 0n ? -v : v))],
  Max: extremum(maxOf),
  Min: extremum(minOf),
  Clip:
    ({ node, scale, opset }) =>
    (inputs) => {
      const x = inputs.get(0);
      const [lo, hi] = clipBounds(node, opset, scale, x, inputs.opt(1), inputs.opt(2));
      return [map(x, (v) => clipValue(v, lo, hi))];
    },
  PRelu:
    ({ node, s }) =>
    (inputs) => {
      const slope = inputs.get(1);
      const int = inputs.get(0).int && slope.int;
      const x = int ? inputs.get(0) : asFixed(inputs.get(0), s);
      // An int slope multiplies exactly (as Mul by an int); a scaled one is rounded once.
      return [
        binary(x, slope, node, int, (p, q) => (p >= 0n ? p : slope.int ? p * q : rshiftRound(p * q, s))),
      ];
    },
  HardSigmoid: ({ node, scale, s }) => {
    const { alpha, beta } = hardSigmoidParams(node, scale);
    return (inputs) => {
      const x = asFixed(inputs.get(0), s);
      return [map(x, (v) => hardSigmoidValue(v, alpha, beta, s))];
    };
  },
  HardSwish: ({ node, scale, s }) => {
    const { alpha, beta } = hardSigmoidParams(node, scale);
    return (inputs) => {
      const x = asFixed(inputs.get(0), s);
      return [map(x, (v) => rshiftRound(v * hardSigmoidValue(v, alpha, beta, s), s))];
    };
  },
  Pow: pow,
};
