/** Output forms of exact tensors: canonical int64 encoding (trace hashes) and float32 display. */
import { PlumbError } from '../../core/errors.ts';
import type { XTensor } from './types.ts';

/** X / 2^s as float32 (presentation only; `raw` is canonical). */
export function dequantize(data: readonly bigint[], scale: number): Float32Array {
  const out = new Float32Array(data.length);
  const div = 2 ** scale;
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]!) / div;
  return out;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Canonical encoding of one tensor: int64 LE rank, dims, then values (must fit int64). */
export function encodeCanonical(t: XTensor): Uint8Array {
  const buf = new BigInt64Array(1 + t.shape.length + t.data.length);
  buf[0] = BigInt(t.shape.length);
  t.shape.forEach((d, i) => {
    buf[1 + i] = BigInt(d);
  });
  const o = 1 + t.shape.length;
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    if (v < INT64_MIN || v > INT64_MAX)
      throw new PlumbError('INFERENCE_FAILED', 'exact executor: a value does not fit in int64');
    buf[o + i] = v;
  }
  const bytes = new Uint8Array(buf.buffer);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    // big-endian host: swap each 8-byte word to little-endian
    for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
  }
  return bytes;
}
