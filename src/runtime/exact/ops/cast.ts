/**
 * Cast. Float targets (float, double) keep the value at 2^s: the executor has one float
 * representation, so float32 <-> float64 is the identity (float16 / bfloat16 are refused, their
 * rounding is coarser than 2^-s). Integer targets truncate toward zero and wrap to the
 * target's width as onnxruntime does; bool is "not zero".
 */
import { attrInt, nodeError } from '../attributes.ts';
import type { XTensor } from '../types.ts';
import type { OpImpl } from './op.ts';

/** ONNX element types: bit width and signedness of the integer ones (Cast targets). */
export const INT_TYPES: Record<number, { bits: number; signed: boolean }> = {
  2: { bits: 8, signed: false },
  3: { bits: 8, signed: true },
  4: { bits: 16, signed: false },
  5: { bits: 16, signed: true },
  6: { bits: 32, signed: true },
  7: { bits: 64, signed: true },
  12: { bits: 32, signed: false },
  13: { bits: 64, signed: false },
};
const FLOAT_TYPES = new Set([1, 11]);
const BOOL = 9;

/** Whether Cast to ONNX element type `to` keeps a float value unchanged (at 2^s). */
export function castIsFloat(to: number): boolean {
  return FLOAT_TYPES.has(to);
}

export const castOps: Record<string, OpImpl> = {
  Cast: ({ node, s }) => {
    const to = attrInt(node, 'to', 0);
    const intType = INT_TYPES[to];
    if (!FLOAT_TYPES.has(to) && !intType && to !== BOOL)
      throw nodeError(node, `cast to element type ${to} is not supported`);
    return (inputs): XTensor[] => {
      const x = inputs.get(0);
      if (FLOAT_TYPES.has(to))
        return [x.int ? { shape: x.shape, data: x.data.map((v) => v << s), int: false } : x];
      if (to === BOOL) return [{ shape: x.shape, data: x.data.map((v) => (v !== 0n ? 1n : 0n)), int: true }];
      // Truncation toward zero of X / 2^s (BigInt division truncates).
      const ints = x.int ? x.data : x.data.map((v) => v / (1n << s));
      const { bits, signed } = intType!;
      const wrap = (v: bigint) => (signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
      return [{ shape: x.shape, data: ints.map(wrap), int: true }];
    };
  },
};
