/**
 * Circuit-friendly nonlinear functions of the exact executor: piecewise cubic polynomials on a
 * coarse uniform grid, saturating beyond a clamped range. Used by Sigmoid, Tanh, Erf, Softplus
 * and the exp of Softmax; the zk circuit compiler lowers the very same integers (proof/zk/nonlinear.ts).
 *
 * Definition (integers only, identical on every machine)
 * - Each function is reduced to g(a) for a = |x| >= 0 (odd symmetry for Tanh and Erf, sigmoid
 *   symmetry for Sigmoid via g = sigmoid - 1/2, Softplus(x) = max(x, 0) + ln(1 + e^-|x|), exp(-a)).
 * - [0, 2^rangeBits) is cut into N = 2^n segments of width 2^-segBits (segBits capped at the scale
 *   s). For A = |X| at 2^s: J = A >> tb, t = A - J * 2^tb (tb = s - segBits, T = 2^tb). J >= N
 *   saturates: g takes its limit (0, 1/2 or 1).
 * - Segment i holds a cubic in u = t / T: c0 + c1 u + c2 u^2 + c3 u^3 with integer coefficients at
 *   2^q (q = out + 10): the Lagrange interpolant of g at u = 0, 1/3, 2/3, 1. The node values are
 *   computed with BigInt series (exp by Taylor, erf by its positive series, ln(1+z) by atanh) at
 *   2^(q+8), then every coefficient is rounded once (`divRound`). The saturated entry is (limit, 0, 0, 0).
 * - Evaluation: one exact Horner sum in integers, ((c3 t + c2 T) t + c1 T^2) t + c0 T^3, rounded once:
 *   y = rshiftRound(sum, q + 3 tb - out), y at scale 2^out (out = s for activations).
 *
 * Error (reported by `piecewiseMaxError`, checked exhaustively in the tests): final rounding
 * 2^-(out+1) + coefficient rounding + interpolation h^4 max|g''''| / 1944 (h = 2^-segBits; 1/1944 =
 * max |u (u - 1/3)(u - 2/3)(u - 1)| / 4!) + saturation |g(2^rangeBits) - limit|. At s = 12 about
 * 1.27e-4 (Sigmoid), 1.31e-4 (Tanh), 1.23e-4 (Erf), 1.27e-4 (Softplus): the final rounding dominates.
 */
import { divRound, isqrt, rshiftRound } from './fixed.ts';

export type PiecewiseKind = 'sigmoid' | 'tanh' | 'erf' | 'softplus' | 'exp' | 'log1p' | 'exp2';

type KindDef = {
  /** g is approximated on [0, 2^rangeBits) and saturates beyond. */
  rangeBits: number;
  /** Segments of width 2^-segBits. */
  segBits: number;
  /** g(num / den) at WP fractional bits (num >= 0, den > 0). */
  g: (num: bigint, den: bigint) => bigint;
  /** Limit of g beyond the range, in halves (0, 1 or 2). */
  limitHalves: bigint;
  /** max |g''''| on [0, 2^rangeBits) (interpolation error bound). */
  m4: number;
  /** max |g(a) - limit| for a >= 2^rangeBits. */
  saturation: number;
};

/** Working precision (fractional bits) of the series. */
const WP = 192n;
const ONE = 1n << WP;
/** Coefficient precision beyond the output scale, and node precision beyond the coefficients. */
const COEF_GUARD = 10;
const NODE_GUARD = 8;

/** exp(num / den) at WP fractional bits, num >= 0: Taylor series (all terms positive). */
function expPos(num: bigint, den: bigint): bigint {
  let term = ONE;
  let sum = ONE;
  for (let n = 1n; term !== 0n; n++) {
    term = (term * num) / (n * den);
    sum += term;
  }
  return sum;
}

/** exp(-num / den) at WP bits. */
function expNeg(num: bigint, den: bigint): bigint {
  return divRound(ONE << WP, expPos(num, den));
}

let sqrtPiCache: bigint | undefined;
/** sqrt(pi) at WP bits: pi by Machin's formula, then an integer square root. */
function sqrtPi(): bigint {
  if (sqrtPiCache !== undefined) return sqrtPiCache;
  const W = WP + 32n;
  const one = 1n << W;
  const atanInv = (k: bigint) => {
    // atan(1/k) = sum (-1)^n / ((2n+1) k^(2n+1))
    let pow = one / k;
    let sum = pow;
    const k2 = k * k;
    for (let n = 1n; pow !== 0n; n++) {
      pow /= k2;
      sum += (n % 2n === 1n ? -pow : pow) / (2n * n + 1n);
    }
    return sum;
  };
  const pi = 16n * atanInv(5n) - 4n * atanInv(239n);
  sqrtPiCache = isqrt(pi << W) >> 32n; // sqrt(pi * 2^2W) = sqrt(pi) * 2^W
  return sqrtPiCache;
}

/** erf(num / den) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1)). */
function erfFixed(num: bigint, den: bigint): bigint {
  if (num === 0n) return 0n;
  const x2num = num * num;
  const x2den = den * den;
  let term = (ONE * num) / den;
  let sum = term;
  for (let n = 1n; term !== 0n; n++) {
    term = (term * 2n * x2num) / (x2den * (2n * n + 1n));
    sum += term;
  }
  const scaled = (sum * expNeg(x2num, x2den)) >> WP;
  return divRound((2n * scaled) << WP, sqrtPi());
}

/** ln(1 + z) for z >= 0 at WP bits (z at WP bits): 2 atanh(z / (2 + z)). */
function log1pFixed(z: bigint): bigint {
  const w = divRound(z << WP, 2n * ONE + z);
  const w2 = (w * w) >> WP;
  let pow = w;
  let sum = w;
  for (let k = 1n; pow !== 0n; k++) {
    pow = (pow * w2) >> WP;
    sum += pow / (2n * k + 1n);
  }
  return 2n * sum;
}

/** ln(1 + e^-x). */
const softplusTail = (num: bigint, den: bigint): bigint => log1pFixed(expNeg(num, den));

/** 1/sqrt(2) at `bits` fractional bits, rounded (half up). */
export function invSqrt2Fixed(bits: number): bigint {
  return rshiftRound(isqrt(ONE << (WP - 1n)), WP - BigInt(bits));
}

/** sqrt(2/pi) at `bits` fractional bits, rounded (half up). */
export function sqrt2OverPiFixed(bits: number): bigint {
  return rshiftRound(divRound(isqrt(2n * ONE * ONE) << WP, sqrtPi()), WP - BigInt(bits));
}

/** log2(e) = 1 / ln 2 at `bits` fractional bits, rounded (half up). */
export function log2eFixed(bits: number): bigint {
  return rshiftRound(divRound(ONE << WP, log1pFixed(ONE)), WP - BigInt(bits));
}

/** ln 2 at `bits` fractional bits, rounded (half up). */
export function ln2Fixed(bits: number): bigint {
  return rshiftRound(log1pFixed(ONE), WP - BigInt(bits));
}

const KINDS: Record<PiecewiseKind, KindDef> = {
  sigmoid: {
    rangeBits: 4,
    segBits: 1,
    // sigmoid(x) - 1/2 = (e^x - 1) / (2 (e^x + 1))
    g: (num, den) => {
      const e = expPos(num, den);
      return divRound((e - ONE) << WP, 2n * (e + ONE));
    },
    limitHalves: 1n,
    m4: 0.128,
    saturation: 1.13e-7,
  },
  tanh: {
    rangeBits: 3,
    segBits: 2,
    g: (num, den) => {
      const e = expPos(2n * num, den);
      return divRound((e - ONE) << WP, e + ONE);
    },
    limitHalves: 2n,
    m4: 4.1,
    saturation: 2.26e-7,
  },
  erf: { rangeBits: 2, segBits: 3, g: erfFixed, limitHalves: 2n, m4: 4.5, saturation: 1.6e-8 },
  softplus: { rangeBits: 4, segBits: 1, g: softplusTail, limitHalves: 0n, m4: 0.126, saturation: 1.13e-7 },
  exp: { rangeBits: 4, segBits: 2, g: expNeg, limitHalves: 0n, m4: 1, saturation: 1.13e-7 },
  // 2^f on [0, 1) only (Exp's mantissa): never saturates; |g''''| = ln(2)^4 2^f <= 0.462.
  exp2: {
    rangeBits: 0,
    segBits: 5,
    g: (num, den) => expPos(log1pFixed(ONE) * num, den * ONE),
    limitHalves: 0n,
    m4: 0.462,
    saturation: 0,
  },
  // ln(1 + f) on [0, 1) only (LogSoftmax's mantissa): never saturates; |g''''| = 6 / (1 + f)^4.
  log1p: {
    rangeBits: 0,
    segBits: 5,
    g: (num, den) => log1pFixed((ONE * num) / den),
    limitHalves: 0n,
    m4: 6,
    saturation: 0,
  },
};

export type PiecewiseTable = {
  kind: PiecewiseKind;
  /** Input scale s and output scale `out`. */
  s: number;
  out: number;
  /** Bits of the offset within a segment: A = J * 2^tb + t. */
  tb: number;
  /** log2 of the segment count. */
  n: number;
  count: number;
  /** Coefficient scale 2^q. */
  q: number;
  /** Final shift: y = rshiftRound(sum, shift). */
  shift: number;
  /** count + 1 rows of [c0, c1, c2, c3] at 2^q; row `count` is the saturated value. */
  coeffs: bigint[][];
};

const tables = new Map<string, PiecewiseTable>();

/** The coefficient table of `kind` for inputs at 2^s and outputs at 2^out (cached). */
export function piecewiseTable(kind: PiecewiseKind, s: number, out = s): PiecewiseTable {
  const key = `${kind}:${s}:${out}`;
  const hit = tables.get(key);
  if (hit) return hit;
  const def = KINDS[kind];
  const segBits = Math.min(def.segBits, s);
  const tb = s - segBits;
  const n = def.rangeBits + segBits;
  const count = 2 ** n;
  const q = out + COEF_GUARD;
  const p = BigInt(q + NODE_GUARD);
  const toP = (v: bigint) => rshiftRound(v, WP - p);
  const den = 3n << BigInt(segBits);
  const node = new Array<bigint>(3 * count + 1);
  for (let j = 0; j <= 3 * count; j++) node[j] = toP(def.g(BigInt(j), den));
  const half = 2n << (p - BigInt(q)); // the 1/2 of the formulas, and 2^(p - q)
  const coeffs: bigint[][] = [];
  for (let i = 0; i < count; i++) {
    const [f0, f1, f2, f3] = [0, 1, 2, 3].map((j) => node[3 * i + j]!) as [bigint, bigint, bigint, bigint];
    const d1 = f1 - f0;
    const d2 = f2 - 2n * f1 + f0;
    const d3 = f3 - 3n * f2 + 3n * f1 - f0;
    coeffs.push([
      rshiftRound(f0, p - BigInt(q)),
      divRound(6n * d1 - 3n * d2 + 2n * d3, half),
      divRound(9n * (d2 - d3), half),
      divRound(9n * d3, half),
    ]);
  }
  coeffs.push([def.limitHalves << BigInt(q - 1), 0n, 0n, 0n]);
  const table: PiecewiseTable = { kind, s, out, tb, n, count, q, shift: q + 3 * tb - out, coeffs };
  tables.set(key, table);
  return table;
}

/** The segment row of A = |X| >= 0 (count: saturated) and the offset t within the segment. */
export function segmentOf(table: PiecewiseTable, a: bigint): { row: number; t: bigint } {
  const j = a >> BigInt(table.tb);
  return { row: j >= BigInt(table.count) ? table.count : Number(j), t: a - (j << BigInt(table.tb)) };
}

/** g(A / 2^s) at 2^out for A >= 0: the Horner sum of the segment's cubic, rounded once. */
export function piecewiseAbs(table: PiecewiseTable, a: bigint): bigint {
  const { row, t } = segmentOf(table, a);
  const [c0, c1, c2, c3] = table.coeffs[row]! as [bigint, bigint, bigint, bigint];
  const T = 1n << BigInt(table.tb);
  const sum = ((c3 * t + c2 * T) * t + c1 * T * T) * t + c0 * T * T * T;
  return rshiftRound(sum, BigInt(table.shift));
}

/**
 * The full function at X (scale 2^s), result at 2^out: Sigmoid 1/2 +- g(|X|), Tanh / Erf
 * +-g(|X|), Softplus max(X, 0) + g(|X|) (out = s), exp: g(-X) for X <= 0 (exp(X)).
 */
export function piecewiseEval(table: PiecewiseTable, x: bigint): bigint {
  const neg = x < 0n;
  const g = piecewiseAbs(table, neg ? -x : x);
  switch (table.kind) {
    case 'sigmoid': {
      const half = 1n << BigInt(table.out - 1);
      return neg ? half - g : half + g;
    }
    case 'tanh':
    case 'erf':
      return neg ? -g : g;
    case 'softplus':
      return neg ? g : x + g;
    case 'exp':
    case 'log1p':
    case 'exp2':
      return g;
  }
}

/**
 * Stated maximum error of `piecewiseEval` against the true function at the quantized input, in
 * real units, for inputs at 2^s and outputs at 2^out (for 'exp': e^-a, a >= 0; 'log1p': [0, 1)).
 */
export function piecewiseMaxError(kind: PiecewiseKind, s: number, out = s): number {
  const def = KINDS[kind];
  const h = 2 ** -Math.min(def.segBits, s);
  const q = out + COEF_GUARD;
  // c0..c3 each rounded once (2^-(q+1)), node values rounded at 2^-(q+NODE_GUARD+1) enter the
  // coefficients with total weight 1 + 20 + 54 + 36 = 111.
  const coefficients = 4 * 2 ** -(q + 1) + 111 * 2 ** -(q + NODE_GUARD);
  return 2 ** -(out + 1) + coefficients + (h ** 4 * def.m4) / 1944 + def.saturation;
}

/** Maximum error of Sigmoid / Tanh / Erf / Softplus at scale s (the executor's activations). */
export function activationMaxError(kind: 'sigmoid' | 'tanh' | 'erf' | 'softplus', s: number): number {
  return piecewiseMaxError(kind, s);
}
