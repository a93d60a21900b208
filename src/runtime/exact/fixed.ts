/**
 * Fixed-point primitives of the exact executor (see exact.ts for the design). Everything here
 * is integer-only: floats are decoded from their IEEE 754 bits into exact rationals
 * mant * 2^exp, and every rounding is done on BigInt, so results are the same on every machine.
 *
 * Two rounding rules, each used in exactly one helper:
 * - quantization of float values (inputs, weights, attributes): round half AWAY FROM ZERO of
 *   x * 2^s, computed exactly from the float bits (`quantizeF32Bits`, `quantizeRational`);
 * - rescaling and division inside the computation: round half UP, i.e. floor(v + 1/2), for
 *   v = x / 2^k (`rshiftRound`) or v = a / d (`divRound`).
 */
import { PlumbError } from '../../core/errors.ts';

/** An exact binary rational: (neg ? -1 : 1) * mant * 2^exp. */
export type Rational = { neg: boolean; mant: bigint; exp: number };

/** Decode float32 bits (as an unsigned 32-bit number) into an exact rational. */
export function f32BitsToRational(bits: number): Rational {
  const neg = bits >>> 31 === 1;
  const e = (bits >>> 23) & 0xff;
  const m = bits & 0x7fffff;
  if (e === 0xff)
    throw new PlumbError('INVALID_INPUT', `cannot quantize a non-finite float (${m ? 'NaN' : 'Infinity'})`);
  if (e === 0) return { neg, mant: BigInt(m), exp: -149 };
  return { neg, mant: BigInt(m | 0x800000), exp: e - 150 };
}

/** Decode float64 bits into an exact rational. */
export function f64BitsToRational(bits: bigint): Rational {
  const neg = bits >> 63n === 1n;
  const e = Number((bits >> 52n) & 0x7ffn);
  const m = bits & 0xfffffffffffffn;
  if (e === 0x7ff)
    throw new PlumbError('INVALID_INPUT', `cannot quantize a non-finite float (${m ? 'NaN' : 'Infinity'})`);
  if (e === 0) return { neg, mant: m, exp: -1074 };
  return { neg, mant: m | 0x10000000000000n, exp: e - 1075 };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The exact rational of a JS number rounded to float32 (attributes are stored as float32). */
export function f32ToRational(value: number): Rational {
  f32[0] = value; // a store, not arithmetic: float32 attribute values round-trip exactly
  return f32BitsToRational(u32[0]!);
}

export function f64ToRational(value: number): Rational {
  f64[0] = value;
  return f64BitsToRational(u64[0]!);
}

/** round_half_away_from_zero(r * 2^s), exactly. */
export function quantizeRational(r: Rational, s: number): bigint {
  const e = r.exp + s;
  let q: bigint;
  if (e >= 0) q = r.mant << BigInt(e);
  else {
    const k = BigInt(-e);
    q = r.mant >> k;
    const rem = r.mant - (q << k);
    if (rem << 1n >= 1n << k) q += 1n; // ties go up in magnitude: away from zero
  }
  return r.neg ? -q : q;
}

/** round_half_away_from_zero(x * 2^s) for the float32 whose bits are `bits`. */
export function quantizeF32Bits(bits: number, s: number): bigint {
  return quantizeRational(f32BitsToRational(bits), s);
}

/** Quantize every element of a Float32Array (read through its bits, no float arithmetic). */
export function quantizeF32Array(data: Float32Array, s: number): bigint[] {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Array<bigint>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = quantizeF32Bits(bits[i]!, s);
  return out;
}

export function quantizeF64Array(data: Float64Array, s: number): bigint[] {
  const bits = new BigUint64Array(data.buffer, data.byteOffset, data.length);
  const out = new Array<bigint>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = quantizeRational(f64BitsToRational(bits[i]!), s);
  return out;
}

/** floor(x / 2^k + 1/2): the one rescaling rule (round half up). BigInt >> is a floor shift. */
export function rshiftRound(x: bigint, k: bigint): bigint {
  if (k === 0n) return x;
  return (x + (1n << (k - 1n))) >> k;
}

/** floor(a / b) for b != 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** floor(a / d + 1/2): division with the same round-half-up rule as `rshiftRound`. */
export function divRound(a: bigint, d: bigint): bigint {
  if (d === 0n) throw new PlumbError('INFERENCE_FAILED', 'exact executor: division by zero');
  if (d < 0n) {
    a = -a;
    d = -d;
  }
  return floorDiv(2n * a + d, 2n * d);
}

/** floor(sqrt(n)) for n >= 0 (Newton's method on BigInt). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new PlumbError('INFERENCE_FAILED', 'exact executor: square root of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Sum of two rationals, exactly. */
export function addRational(a: Rational, b: Rational): Rational {
  const e = Math.min(a.exp, b.exp);
  const av = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - e);
  const bv = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - e);
  const v = av + bv;
  return { neg: v < 0n, mant: v < 0n ? -v : v, exp: e };
}

/** Signed integer value of r * 2^k (caller makes sure it is an integer or accepts flooring). */
function signedShift(r: Rational, k: number): bigint {
  const v = r.neg ? -r.mant : r.mant;
  return k >= 0 ? v << BigInt(k) : v >> BigInt(-k);
}

/**
 * BatchNormalization folded to y = x * a + b: returns a and b at scale 2^s, where
 * a = scale / sqrt(var + eps) and b = bias - mean * a. sqrt is evaluated with isqrt at
 * 2^-SQRT_BITS relative precision, then a is rounded once with `divRound`; b uses the rounded a.
 */
export function foldBatchNorm(
  scale: Rational,
  bias: Rational,
  mean: Rational,
  variance: Rational,
  eps: Rational,
  s: number,
): { a: bigint; b: bigint } {
  const v = addRational(variance, eps);
  if (v.neg || v.mant === 0n)
    throw new PlumbError('INVALID_MODEL', 'BatchNormalization: var + epsilon must be positive');
  // sqrt(N * 2^E) * 2^P = isqrt(N * 2^(E + 2P)); choose E + 2P = 2 * SQRT_BITS.
  let n = v.mant;
  let e = v.exp;
  if (e % 2 !== 0) {
    n <<= 1n;
    e -= 1;
  }
  const SQRT_BITS = 96;
  const p = (2 * SQRT_BITS - e) / 2;
  const root = isqrt(n << BigInt(2 * SQRT_BITS)); // ~ sqrt(v) * 2^p
  // a * 2^s = scale * 2^s / sqrt(v) = scale.mant * 2^(scale.exp + s + p) / root
  const num = signedShift(scale, 0);
  const shift = scale.exp + s + p;
  const a = shift >= 0 ? divRound(num << BigInt(shift), root) : divRound(num, root << BigInt(-shift));
  const meanQ = quantizeRational(mean, s);
  const biasQ = quantizeRational(bias, s);
  return { a, b: biasQ - rshiftRound(meanQ * a, BigInt(s)) };
}
