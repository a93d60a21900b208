/** XTensor helpers: conversion from Plumb tensors, layout, broadcasting and index views. */
import { PlumbError } from '../../core/errors.ts';
import { tensorFromProto } from '../../core/onnx/tensor-proto.ts';
import type { NodeProto, TensorProto } from '../../core/onnx/types.ts';
import type { Tensor } from '../../core/tensor.ts';
import { nodeError } from './attributes.ts';
import { quantizeF32Array, quantizeF64Array } from './fixed.ts';
import type { XTensor } from './types.ts';

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function strides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i]!;
  }
  return st;
}

/** Convert a Plumb tensor: floats are quantized at 2^s, integer types are kept unscaled. */
export function fromTensor(t: Tensor, s: number, what: string): XTensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return { shape, data: quantizeF32Array(t.data, s), int: false };
    case 'float64':
      return { shape, data: quantizeF64Array(t.data, s), int: false };
    case 'int64':
    case 'uint64':
      return { shape, data: Array.from(t.data as ArrayLike<bigint>), int: true };
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'bool':
      return { shape, data: Array.from(t.data as ArrayLike<number>, (v) => BigInt(v)), int: true };
    default:
      throw new PlumbError(
        'INVALID_INPUT',
        `${what}: dtype ${t.dtype} is not supported by the exact executor`,
      );
  }
}

export function constProto(t: TensorProto, s: number): XTensor {
  return fromTensor(tensorFromProto(t, 'INVALID_MODEL'), s, `tensor "${t.name}"`);
}

export function asFixed(t: XTensor, s: bigint): XTensor {
  return t.int ? { shape: t.shape, data: t.data.map((v) => v << s), int: false } : t;
}

export function intValues(t: XTensor, node: NodeProto, what: string): number[] {
  if (!t.int) throw nodeError(node, `${what} must be an integer tensor`);
  return t.data.map(Number);
}

export function normAxis(axis: number, rank: number, node: NodeProto): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw nodeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function broadcastShape(a: readonly number[], b: readonly number[], node: NodeProto): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw nodeError(node, `cannot broadcast [${a.join(', ')}] with [${b.join(', ')}]`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Flat source index of each output element when `shape` is broadcast to `out`. */
export function broadcastIndex(shape: readonly number[], out: readonly number[]): Int32Array {
  const n = size(out);
  const idx = new Int32Array(n);
  const rank = out.length;
  const src = strides(shape);
  const eff = new Array<number>(rank).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = rank - shape.length + i;
    eff[o] = shape[i] === 1 ? 0 : src[i]!;
  }
  const counter = new Array<number>(rank).fill(0);
  let cur = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = cur;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      cur += eff[d]!;
      if (counter[d]! < out[d]!) break;
      cur -= eff[d]! * out[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

/** Elementwise `fn` over `a` and `b` broadcast together. */
export function binary(
  a: XTensor,
  b: XTensor,
  node: NodeProto,
  int: boolean,
  fn: (x: bigint, y: bigint) => bigint,
): XTensor {
  const shape = broadcastShape(a.shape, b.shape, node);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const n = size(shape);
  const data = new Array<bigint>(n);
  for (let k = 0; k < n; k++) data[k] = fn(a.data[ia[k]!]!, b.data[ib[k]!]!);
  return { shape, data, int };
}

/** Output element -> input element for a permutation/slice/pad style view (-1 gives 0). */
export function gatherByIndex(t: XTensor, shape: number[], map: (coord: number[]) => number): XTensor {
  const n = size(shape);
  const data = new Array<bigint>(n);
  const coord = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    const src = map(coord);
    data[k] = src < 0 ? 0n : t.data[src]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      coord[d]!++;
      if (coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
  return { shape, data, int: t.int };
}
