import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  divRound,
  f32ToRational,
  foldBatchNorm,
  isqrt,
  quantizeF32Array,
  quantizeF32Bits,
  rshiftRound,
} from './fixed.ts';

const bitsOf = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;

describe('quantizeF32Bits (round half away from zero, exact)', () => {
  it('zero and negative zero are 0', () => {
    assert.equal(quantizeF32Bits(0x00000000, 12), 0n);
    assert.equal(quantizeF32Bits(0x80000000, 12), 0n);
  });
  it('exact binary values', () => {
    assert.equal(quantizeF32Bits(bitsOf(1.5), 12), 6144n);
    assert.equal(quantizeF32Bits(bitsOf(-2), 12), -8192n);
    assert.equal(quantizeF32Bits(bitsOf(1), 0), 1n);
  });
  it('halves round away from zero (not to even)', () => {
    assert.equal(quantizeF32Bits(bitsOf(2 ** -13), 12), 1n); // 0.5 ulp
    assert.equal(quantizeF32Bits(bitsOf(-(2 ** -13)), 12), -1n);
    assert.equal(quantizeF32Bits(bitsOf(1.5 * 2 ** -12), 12), 2n);
    assert.equal(quantizeF32Bits(bitsOf(2.5 * 2 ** -12), 12), 3n);
    assert.equal(quantizeF32Bits(bitsOf(-2.5 * 2 ** -12), 12), -3n);
    // the float32 just below 2^-13 rounds to 0
    assert.equal(quantizeF32Bits(0x38ffffff, 12), 0n);
    assert.equal(quantizeF32Bits(0xb8ffffff, 12), 0n);
  });
  it('0.1f is 13421773 * 2^-27, so 0.1f * 2^12 = 409.6000061 -> 410', () => {
    assert.equal(bitsOf(0.1), 0x3dcccccd);
    assert.equal(quantizeF32Bits(0x3dcccccd, 12), 410n);
    assert.equal(quantizeF32Bits(0xbdcccccd, 12), -410n);
  });
  it('subnormals', () => {
    assert.equal(quantizeF32Bits(0x00000001, 12), 0n); // 2^-149
    assert.equal(quantizeF32Bits(0x007fffff, 12), 0n); // largest subnormal
    assert.equal(quantizeF32Bits(0x00000001, 149), 1n);
    assert.equal(quantizeF32Bits(0x00000001, 150), 2n);
    assert.equal(quantizeF32Bits(0x00000001, 148), 1n); // exactly 0.5 -> 1
    assert.equal(quantizeF32Bits(0x80000001, 148), -1n);
    assert.equal(quantizeF32Bits(0x007fffff, 149), 0x7fffffn);
    assert.equal(quantizeF32Bits(0x00800000, 126), 1n); // smallest normal 2^-126
  });
  it('large values', () => {
    assert.equal(quantizeF32Bits(0x7f7fffff, 12), ((1n << 24n) - 1n) << 116n); // FLT_MAX
    assert.equal(quantizeF32Bits(0xff7fffff, 12), -(((1n << 24n) - 1n) << 116n));
    assert.equal(quantizeF32Bits(bitsOf(16777216), 12), 16777216n << 12n);
  });
  it('refuses NaN and infinities', () => {
    assert.throws(() => quantizeF32Bits(0x7fc00000, 12), /non-finite/);
    assert.throws(() => quantizeF32Bits(0x7f800000, 12), /non-finite/);
    assert.throws(() => quantizeF32Bits(0xff800000, 12), /non-finite/);
  });
  it('matches an exact float64 reference on random non-tie values', () => {
    let seed = 7;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const xs = Float32Array.from({ length: 5000 }, () => (rnd() - 0.5) * 2 ** Math.floor(rnd() * 30 - 15));
    const q = quantizeF32Array(xs, 12);
    xs.forEach((x, i) => {
      const y = Math.abs(x) * 4096; // exact in float64
      const r = Math.sign(x) * Math.floor(y + 0.5);
      assert.equal(q[i], BigInt(r === 0 ? 0 : r), `x=${x}`);
    });
  });
  it('attribute floats are read as float32', () => {
    assert.deepEqual(f32ToRational(0.05000000074505806), { neg: false, mant: 13421773n, exp: -28 });
  });
});

describe('rounding helpers (round half up)', () => {
  it('rshiftRound', () => {
    assert.equal(rshiftRound(3n, 1n), 2n); // 1.5 -> 2
    assert.equal(rshiftRound(-3n, 1n), -1n); // -1.5 -> -1
    assert.equal(rshiftRound(-5n, 2n), -1n); // -1.25 -> -1
    assert.equal(rshiftRound(-7n, 2n), -2n); // -1.75 -> -2
    assert.equal(rshiftRound(5n, 0n), 5n);
  });
  it('divRound', () => {
    assert.equal(divRound(5n, 3n), 2n);
    assert.equal(divRound(-3n, 2n), -1n);
    assert.equal(divRound(3n, 2n), 2n);
    assert.equal(divRound(7n, -2n), -3n);
    assert.equal(divRound(-4n, 3n), -1n);
    assert.throws(() => divRound(1n, 0n), /division by zero/);
  });
  it('isqrt', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 10n ** 40n, 10n ** 40n - 1n]) {
      const r = isqrt(n);
      assert.ok(r * r <= n && (r + 1n) * (r + 1n) > n, `isqrt(${n})`);
    }
  });
  it('foldBatchNorm: scale 2, var 4 - eps.. gives a = 1 exactly for var + eps = 4', () => {
    const r = (x: number) => f32ToRational(x);
    const { a, b } = foldBatchNorm(r(2), r(0.5), r(1), r(3), r(1), 12);
    assert.equal(a, 4096n); // 2 / sqrt(4)
    assert.equal(b, -2048n); // 0.5 - 1 * 1
  });
});
