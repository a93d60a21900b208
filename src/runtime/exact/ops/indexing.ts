/** Ops that select or rearrange elements: Concat, Slice, Pad, Gather, ArgMax. */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrFloat, attrInt, attrInts, attrString, nodeError } from '../attributes.ts';
import { f32ToRational, quantizeRational, type Rational } from '../fixed.ts';
import { asFixed, gatherByIndex, intValues, normAxis, size, strides } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { OpImpl } from './op.ts';

function concat(node: NodeProto, xs: XTensor[], s: bigint): XTensor {
  const first = xs[0];
  if (!first) throw nodeError(node, 'needs at least one input');
  const int = xs.every((x) => x.int);
  const parts = int ? xs : xs.map((x) => asFixed(x, s));
  const axis = normAxis(attrInt(node, 'axis', 0), first.shape.length, node);
  const outer = size(first.shape.slice(0, axis));
  const inner = size(first.shape.slice(axis + 1));
  const shape = [...first.shape];
  shape[axis] = parts.reduce((n, p) => n + p.shape[axis]!, 0);
  const data: bigint[] = [];
  for (let o = 0; o < outer; o++)
    for (const p of parts) {
      const block = p.shape[axis]! * inner;
      for (let i = 0; i < block; i++) data.push(p.data[o * block + i]!);
    }
  return { shape, data, int };
}

function slice(
  node: NodeProto,
  x: XTensor,
  starts: number[],
  ends: number[],
  axes?: number[],
  steps?: number[],
) {
  const rank = x.shape.length;
  const begin = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  const shape = [...x.shape];
  starts.forEach((st, i) => {
    const axis = normAxis(axes?.[i] ?? i, rank, node);
    const dim = x.shape[axis]!;
    const sp = steps?.[i] ?? 1;
    if (sp === 0) throw nodeError(node, 'steps must not be 0');
    let b = st < 0 ? st + dim : st;
    let e = ends[i]! < 0 ? ends[i]! + dim : ends[i]!;
    if (sp > 0) {
      b = Math.min(Math.max(b, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
      shape[axis] = Math.max(0, Math.ceil((e - b) / sp));
    } else {
      b = Math.min(Math.max(b, -1), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
      shape[axis] = Math.max(0, Math.ceil((b - e) / -sp));
    }
    begin[axis] = b;
    step[axis] = sp;
  });
  const st = strides(x.shape);
  return gatherByIndex(x, shape, (c) => {
    let src = 0;
    for (let d = 0; d < rank; d++) src += (begin[d]! + c[d]! * step[d]!) * st[d]!;
    return src;
  });
}

/** Source coordinate of padded coordinate v along an axis of length dim (-1: the pad value). */
function padSource(mode: string, v: number, dim: number): number {
  if (v >= 0 && v < dim) return v;
  if (mode === 'constant' || dim === 0) return -1;
  if (mode === 'edge') return v < 0 ? 0 : dim - 1;
  if (mode === 'wrap') return ((v % dim) + dim) % dim;
  // reflect: mirror about the edges without repeating them
  if (dim === 1) return 0;
  const period = 2 * (dim - 1);
  const m = ((v % period) + period) % period;
  return m < dim ? m : period - m;
}

const PAD_MODES = ['constant', 'reflect', 'edge', 'wrap'];

/** Pad (any mode, negative pads crop), shared with the circuit compiler through the kernel. */
function pad(node: NodeProto, x: XTensor, pads: number[], value: bigint): XTensor {
  const rank = x.shape.length;
  if (pads.length !== 2 * rank) throw nodeError(node, `pads must have ${2 * rank} values`);
  const mode = attrString(node, 'mode', 'constant');
  if (!PAD_MODES.includes(mode)) throw nodeError(node, `mode ${mode} is not supported`);
  const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + rank]!);
  if (shape.some((d) => d < 0)) throw nodeError(node, 'negative pads remove more than the whole axis');
  if (mode === 'reflect' && x.shape.some((d, i) => d > 0 && (pads[i]! >= d || pads[i + rank]! >= d)))
    throw nodeError(node, 'reflect pads must be smaller than the padded axis');
  const st = strides(x.shape);
  const source = (c: number[]) => {
    let src = 0;
    for (let d = 0; d < rank; d++) {
      const v = padSource(mode, c[d]! - pads[d]!, x.shape[d]!);
      if (v < 0) return -1;
      src += v * st[d]!;
    }
    return src;
  };
  const out = gatherByIndex(x, shape, source);
  if (value !== 0n && mode === 'constant') {
    // gatherByIndex writes 0 for padding; redo with the constant
    const coordOk = gatherByIndex({ shape: x.shape, data: x.data.map(() => 1n), int: true }, shape, source);
    out.data = out.data.map((v, i) => (coordOk.data[i] === 1n ? v : value));
  }
  return out;
}

/** Pads given for `axes` only (opset 18) spread to every axis. */
function padsForAxes(node: NodeProto, rank: number, pads: number[], axes: number[]): number[] {
  if (pads.length !== 2 * axes.length) throw nodeError(node, `pads must have ${2 * axes.length} values`);
  const full = new Array<number>(2 * rank).fill(0);
  axes.forEach((a, i) => {
    const d = normAxis(a, rank, node);
    full[d] = pads[i]!;
    full[d + rank] = pads[i + axes.length]!;
  });
  return full;
}

/** A float attribute taken as an unscaled integer (truncated toward zero). */
function signedInt(r: Rational): bigint {
  const v = r.neg ? -r.mant : r.mant;
  return r.exp >= 0 ? v << BigInt(r.exp) : v / (1n << BigInt(-r.exp));
}

function gather(node: NodeProto, x: XTensor, ind: XTensor): XTensor {
  const axis = normAxis(attrInt(node, 'axis', 0), x.shape.length, node);
  const dim = x.shape[axis]!;
  const idx = intValues(ind, node, 'indices').map((i) => {
    const j = i < 0 ? i + dim : i;
    if (j < 0 || j >= dim) throw nodeError(node, `index ${i} is out of range for dimension ${dim}`);
    return j;
  });
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const data: bigint[] = [];
  for (let o = 0; o < outer; o++)
    for (const j of idx) for (let i = 0; i < inner; i++) data.push(x.data[(o * dim + j) * inner + i]!);
  return { shape: [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)], data, int: x.int };
}

function argMax(node: NodeProto, x: XTensor): XTensor {
  const axis = normAxis(attrInt(node, 'axis', 0), x.shape.length, node);
  const keep = attrInt(node, 'keepdims', 1) === 1;
  const last = attrInt(node, 'select_last_index', 0) === 1;
  const dim = x.shape[axis]!;
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const data: bigint[] = [];
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let best = 0;
      for (let j = 1; j < dim; j++) {
        const v = x.data[(o * dim + j) * inner + i]!;
        const b = x.data[(o * dim + best) * inner + i]!;
        if (v > b || (last && v === b)) best = j;
      }
      data.push(BigInt(best));
    }
  const shape = keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  return { shape, data, int: true };
}

export const indexingOps: Record<string, OpImpl> = {
  Concat:
    ({ node, s }) =>
    (inputs) => [
      concat(
        node,
        node.input.map((_, i) => inputs.get(i)),
        s,
      ),
    ],
  Slice:
    ({ node, opset }) =>
    (inputs) => {
      const x = inputs.get(0);
      if (opset < 10) {
        const starts = attrInts(node, 'starts') ?? [];
        return [slice(node, x, starts, attrInts(node, 'ends') ?? [], attrInts(node, 'axes'))];
      }
      const vals = (i: number) => (inputs.opt(i) ? intValues(inputs.get(i), node, `input ${i}`) : undefined);
      return [slice(node, x, vals(1) ?? [], vals(2) ?? [], vals(3), vals(4))];
    },
  Pad:
    ({ node, scale, s, opset }) =>
    (inputs) => {
      const x = inputs.get(0);
      if (opset < 11) {
        const v = f32ToRational(attrFloat(node, 'value', 0));
        return [
          pad(node, x, attrInts(node, 'pads') ?? [], x.int ? signedInt(v) : quantizeRational(v, scale)),
        ];
      }
      const cv = inputs.opt(2);
      const value = cv ? (cv.int === x.int ? cv.data[0]! : x.int ? cv.data[0]! >> s : cv.data[0]! << s) : 0n;
      const pads = intValues(inputs.get(1), node, 'pads');
      const axes = inputs.opt(3);
      const full = axes ? padsForAxes(node, x.shape.length, pads, intValues(axes, node, 'axes')) : pads;
      return [pad(node, x, full, value)];
    },
  Gather:
    ({ node }) =>
    (inputs) => [gather(node, inputs.get(0), inputs.get(1))],
  ArgMax:
    ({ node }) =>
    (inputs) => [argMax(node, inputs.get(0))],
};
