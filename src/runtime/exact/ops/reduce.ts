/**
 * Reductions over constant axes: ReduceSum (exact), ReduceMean (divRound(sum, count), the
 * AveragePool rule), ReduceMax, ReduceMin, ReduceL1, ReduceSumSquare (squares at 2^2s, one
 * rounding), ReduceProd (left to right, each product rounded), and GlobalAveragePool / GlobalMaxPool (mean / max over the spatial axes). `reduceGroups` is shared with the circuit compiler.
 */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrInt, attrInts, nodeError } from '../attributes.ts';
import { divRound, rshiftRound } from '../fixed.ts';
import { intValues, normAxis, size, strides } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { OpImpl } from './op.ts';

/**
 * The reduced axes: an input from opset 13 (ReduceSum) or 18 (the others), an attribute before;
 * GlobalAveragePool / GlobalMaxPool: every spatial axis (2..rank-1).
 */
export function reduceAxes(
  node: NodeProto,
  opset: number,
  axesInput: XTensor | undefined,
  rank = 0,
): number[] | undefined {
  if (node.opType.startsWith('Global')) {
    if (rank < 3) throw nodeError(node, 'the input must have spatial axes (rank >= 3)');
    return Array.from({ length: rank - 2 }, (_, i) => i + 2);
  }
  const fromInput = node.opType === 'ReduceSum' ? opset >= 13 : opset >= 18;
  if (!fromInput) return attrInts(node, 'axes');
  return axesInput ? intValues(axesInput, node, 'axes') : undefined;
}

export type ReducePlan = {
  shape: number[];
  /** For each output element, the flat input indices it reduces, in input order. */
  groups: number[][];
};

/** Output shape and index groups of a reduction of `shape` over `axes` (undefined: all, or none). */
export function reducePlan(
  node: NodeProto,
  shape: readonly number[],
  axes: number[] | undefined,
): ReducePlan {
  const rank = shape.length;
  const keep = attrInt(node, 'keepdims', 1) === 1;
  if ((!axes || axes.length === 0) && attrInt(node, 'noop_with_empty_axes', 0) === 1)
    return { shape: [...shape], groups: Array.from({ length: size(shape) }, (_, i) => [i]) };
  const red = new Set(
    axes && axes.length > 0 ? axes.map((a) => normAxis(a, rank, node)) : shape.map((_, i) => i),
  );
  const outFull = shape.map((d, i) => (red.has(i) ? 1 : d));
  const ost = strides(outFull);
  const groups: number[][] = Array.from({ length: size(outFull) }, () => []);
  const coord = new Array<number>(rank).fill(0);
  const n = size(shape);
  for (let k = 0; k < n; k++) {
    let o = 0;
    for (let d = 0; d < rank; d++) if (!red.has(d)) o += coord[d]! * ost[d]!;
    groups[o]!.push(k);
    for (let d = rank - 1; d >= 0; d--) {
      coord[d]!++;
      if (coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
  const out = keep ? outFull : shape.filter((_, i) => !red.has(i));
  return { shape: out, groups };
}

/**
 * A reduction of x over the node's axes (see `reduceAxes`): each output element is `fn` of the
 * values it reduces, in input order. Shared by the executor and the circuit compiler.
 */
export function reduceGroups<T, U>(
  node: NodeProto,
  opset: number,
  x: { shape: readonly number[]; data: readonly T[] },
  axesInput: XTensor | undefined,
  fn: (vals: T[]) => U,
): { shape: number[]; data: U[] } {
  const { shape, groups } = reducePlan(node, x.shape, reduceAxes(node, opset, axesInput, x.shape.length));
  return { shape, data: groups.map((g) => fn(g.map((i) => x.data[i]!))) };
}

function reduce(kind: 'sum' | 'mean' | 'max' | 'min' | 'l1' | 'sumsq' | 'prod'): OpImpl {
  return ({ node, opset, s }) =>
    (inputs) => {
      const x = inputs.get(0);
      const { shape, data } = reduceGroups(node, opset, x, inputs.opt(1), (vals) => {
        if (kind === 'prod') {
          // Left to right, each product rounded (integers exact); empty: 1.
          if (vals.length === 0) return x.int ? 1n : 1n << s;
          return vals.slice(1).reduce((a, b) => (x.int ? a * b : rshiftRound(a * b, s)), vals[0]!);
        }
        if (kind === 'l1') return vals.reduce((a, b) => a + (b < 0n ? -b : b), 0n);
        if (kind === 'sumsq') {
          // Squares accumulate at 2^2s and are rounded once, as a dot product.
          const acc = vals.reduce((a, b) => a + b * b, 0n);
          return x.int ? acc : rshiftRound(acc, s);
        }
        if (kind === 'max' || kind === 'min') {
          if (vals.length === 0) throw nodeError(node, 'cannot reduce an empty tensor');
          return vals.reduce((a, b) => ((kind === 'max' ? b > a : b < a) ? b : a));
        }
        const sum = vals.reduce((a, b) => a + b, 0n);
        if (kind === 'sum') return sum;
        if (vals.length === 0) throw nodeError(node, 'cannot average an empty tensor');
        // Integers: onnxruntime's integer division truncates; scaled values round half up.
        return x.int ? sum / BigInt(vals.length) : divRound(sum, BigInt(vals.length));
      });
      return [{ shape, data, int: x.int }];
    };
}

export const reduceOps: Record<string, OpImpl> = {
  ReduceSum: reduce('sum'),
  ReduceMean: reduce('mean'),
  ReduceMax: reduce('max'),
  ReduceMin: reduce('min'),
  ReduceL1: reduce('l1'),
  ReduceProd: reduce('prod'),
  // Global pools keep the spatial axes as 1 (no keepdims attribute: the default 1 applies).
  GlobalAveragePool: reduce('mean'),
  GlobalMaxPool: reduce('max'),
  ReduceSumSquare: reduce('sumsq'),
};
