/**
 * Ops that copy elements to a new layout without computing on them: Expand, Tile, Split, Resize /
 * Upsample in nearest mode, DepthToSpace / SpaceToDepth, GatherElements, ScatterElements /
 * ScatterND (reduction none), Trilu, and Dropout
 * (inference: the identity). Each is an output-element -> input-element map (`gatherByIndex`),
 * so the circuit compiler can reuse it unchanged (src/proof/zk/shape-ops.ts).
 */
import { tensorFromProto } from '../../../core/onnx/tensor-proto.ts';
import type { NodeProto, TensorProto } from '../../../core/onnx/types.ts';
import { attrFloat, attrInt, attrInts, attrString, nodeError } from '../attributes.ts';
import { f32ToRational, quantizeRational, rshiftRound } from '../fixed.ts';
import {
  asFixed,
  broadcastIndex,
  broadcastShape,
  gatherByIndex,
  intValues,
  normAxis,
  strides,
} from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { CompileContext, Inputs, OpImpl } from './op.ts';

function expand(node: NodeProto, x: XTensor, spec: number[]): XTensor {
  if (spec.some((d) => d < 0 || !Number.isInteger(d)))
    throw nodeError(node, `invalid shape [${spec.join(', ')}]`);
  const shape = broadcastShape(x.shape, spec, node);
  const idx = broadcastIndex(x.shape, shape);
  return { shape, data: Array.from(idx, (i) => x.data[i]!), int: x.int };
}

function tile(node: NodeProto, x: XTensor, repeats: number[]): XTensor {
  const rank = x.shape.length;
  if (repeats.length !== rank) throw nodeError(node, `repeats must have ${rank} values`);
  if (repeats.some((r) => r < 0)) throw nodeError(node, 'repeats must not be negative');
  const shape = x.shape.map((d, i) => d * repeats[i]!);
  const st = strides(x.shape);
  return gatherByIndex(x, shape, (c) => {
    let src = 0;
    for (let d = 0; d < rank; d++) src += (c[d]! % x.shape[d]!) * st[d]!;
    return src;
  });
}

const f = Math.fround;

/** Nearest-neighbour plan: per axis, the output size and the coordinate transform. */
type ResizePlan = {
  sizes: number[];
  scales: number[];
  transform: string;
  nearest: string;
};

/** Input coordinate of output coordinate `o` along one axis, in float32 as onnxruntime computes it. */
function sourceCoord(o: number, scale: number, outLen: number, inLen: number, transform: string): number {
  switch (transform) {
    case 'half_pixel':
      return f(f(f(o + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outLen > 1 ? f(f(f(o + 0.5) / scale) - 0.5) : 0;
    case 'asymmetric':
      return f(o / scale);
    case 'align_corners':
      return outLen === 1 ? 0 : f(f(o * (inLen - 1)) / (outLen - 1));
    default:
      throw new Error(`unreachable transform ${transform}`);
  }
}

function nearestIndex(x: number, mode: string, down: boolean): number {
  switch (mode) {
    case 'round_prefer_floor':
      return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x);
    case 'round_prefer_ceil':
      return Math.round(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    default: // 'simple' (Upsample, Resize-10): truncation, ceiling when downsampling
      return down ? Math.ceil(x) : Math.trunc(x);
  }
}

function resizeNearest(x: XTensor, plan: ResizePlan): XTensor {
  const rank = x.shape.length;
  const st = strides(x.shape);
  const maps = plan.sizes.map((outLen, d) => {
    const inLen = x.shape[d]!;
    const scale = plan.scales[d]!;
    return Array.from({ length: outLen }, (_, o) => {
      const c = sourceCoord(o, scale, outLen, inLen, plan.transform);
      const i = nearestIndex(c, plan.nearest, scale < 1);
      return Math.min(Math.max(i, 0), inLen - 1);
    });
  });
  return gatherByIndex(x, plan.sizes, (c) => {
    let src = 0;
    for (let d = 0; d < rank; d++) src += maps[d]![c[d]!]! * st[d]!;
    return src;
  });
}

/**
 * Scales as float32 values: from the raw initializer when there is one (exact), else from the
 * value at 2^s (exact for dyadic scales such as 2 or 0.5, the usual case).
 */
function scaleValues(t: XTensor, raw: TensorProto | undefined, scale: number): number[] {
  if (raw) return Array.from(tensorFromProto(raw).data as ArrayLike<number | bigint>, (v) => f(Number(v)));
  return t.data.map((v) => f(t.int ? Number(v) : Number(v) / 2 ** scale));
}

function outputSizes(node: NodeProto, inShape: number[], scales: number[]): number[] {
  if (scales.length !== inShape.length) throw nodeError(node, `scales must have ${inShape.length} values`);
  if (scales.some((v) => !(v > 0))) throw nodeError(node, 'scales must be positive');
  return inShape.map((d, i) => Math.trunc(f(scales[i]! * d)));
}

const TRANSFORMS = ['half_pixel', 'pytorch_half_pixel', 'asymmetric', 'align_corners'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** Resize / Upsample: the mode and the plan (output sizes, scales, coordinate transform). */
function resizePlanOf(ctx: CompileContext, inputs: Inputs): { mode: string; plan: ResizePlan } {
  const { node, scale, opset, initializers } = ctx;
  const x = inputs.get(0);
  if (node.opType === 'Upsample') {
    const mode = attrString(node, 'mode', 'nearest');
    let scales: number[];
    if (opset < 9) {
      const attrScales = node.attribute.find((a) => a.name === 'scales')?.floats;
      if (attrScales) scales = Array.from(attrScales, f);
      else if (opset < 7)
        scales = [1, 1, attrFloat(node, 'height_scale', 1), attrFloat(node, 'width_scale', 1)];
      else throw nodeError(node, 'the scales attribute is required');
    } else scales = scaleValues(inputs.get(1), initializers.get(node.input[1] ?? ''), scale);
    const sizes = outputSizes(node, x.shape, scales);
    return { mode, plan: { sizes, scales, transform: 'asymmetric', nearest: 'simple' } };
  }
  const mode = attrString(node, 'mode', 'nearest');
  if (attrString(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch')
    throw nodeError(node, 'only keep_aspect_ratio_policy = stretch is supported');
  if (attrInt(node, 'antialias', 0) !== 0) throw nodeError(node, 'antialias is not supported');
  const transform =
    opset < 11 ? 'asymmetric' : attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  if (!TRANSFORMS.includes(transform))
    throw nodeError(node, `coordinate_transformation_mode ${transform} is not supported`);
  const nearest = opset < 11 ? 'simple' : attrString(node, 'nearest_mode', 'round_prefer_floor');
  if (mode === 'nearest' && opset >= 11 && !NEAREST_MODES.includes(nearest))
    throw nodeError(node, `nearest_mode ${nearest} is not supported`);
  const rank = x.shape.length;
  const axes = (attrInts(node, 'axes') ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, rank, node));
  // Scales and sizes given for `axes` only (opset 18), spread to every axis.
  const spread = (vals: number[], fill: (d: number) => number) => {
    if (vals.length !== axes.length) throw nodeError(node, `expected ${axes.length} scales or sizes`);
    const full = x.shape.map((_, d) => fill(d));
    axes.forEach((a, i) => {
      full[a] = vals[i]!;
    });
    return full;
  };
  const scalesIn = opset < 11 ? inputs.get(1) : inputs.opt(2);
  const sizesIn = opset < 11 ? undefined : inputs.opt(3);
  if (sizesIn && sizesIn.data.length > 0) {
    if (scalesIn && scalesIn.data.length > 0)
      throw nodeError(node, 'only one of scales and sizes may be given');
    const sizes = spread(intValues(sizesIn, node, 'sizes'), (d) => x.shape[d]!);
    if (sizes.some((d) => d < 0)) throw nodeError(node, 'sizes must not be negative');
    return { mode, plan: { sizes, scales: sizes.map((o, d) => f(o / x.shape[d]!)), transform, nearest } };
  }
  if (!scalesIn || scalesIn.data.length === 0) throw nodeError(node, 'scales or sizes are required');
  const raw = initializers.get(node.input[opset < 11 ? 1 : 2] ?? '');
  const scales = spread(scaleValues(scalesIn, raw, scale), () => 1);
  return { mode, plan: { sizes: outputSizes(node, x.shape, scales), scales, transform, nearest } };
}

/**
 * Linear Resize / Upsample as taps: per output element, input indices and weights at 2^2s
 * (the product of the two axes' weights, each quantized at 2^s from onnxruntime's float32
 * weights). Bilinear only: the input is [H, W] or [N, C, H, W] with N and C unchanged.
 */
export function linearResizeTaps(
  ctx: CompileContext,
  inputs: Inputs,
): { shape: number[]; taps: { index: number[]; weight: bigint[] }[] } {
  const { node, scale } = ctx;
  const x = inputs.get(0);
  const { mode, plan } = resizePlanOf(ctx, inputs);
  if (mode !== 'linear' && mode !== 'bilinear')
    throw nodeError(node, `mode ${mode} is not supported (nearest and linear are)`);
  const rank = x.shape.length;
  if (rank !== 2 && rank !== 4) throw nodeError(node, 'linear mode needs a 2-D or 4-D (NCHW) input');
  if (rank === 4 && (plan.sizes[0] !== x.shape[0] || plan.sizes[1] !== x.shape[1]))
    throw nodeError(node, 'linear mode resizes the last two axes only');
  const q = (w: number) => quantizeRational(f32ToRational(w), scale);
  // Per output coordinate of an axis: [i1, i2, weight of i1, weight of i2] (onnxruntime's rule).
  const axisTaps = (d: number) =>
    Array.from({ length: plan.sizes[d]! }, (_, o) => {
      const len = x.shape[d]!;
      const sc = plan.scales[d]!;
      let c = sc === 1 ? o : sourceCoord(o, sc, plan.sizes[d]!, len, plan.transform);
      c = Math.max(0, Math.min(c, len - 1));
      const i1 = Math.min(Math.trunc(c), len - 1);
      const i2 = Math.min(i1 + 1, len - 1);
      let [d1, d2] = [f(Math.abs(c - i1)), f(Math.abs(c - i2))];
      if (i1 === i2) [d1, d2] = [0.5, 0.5];
      return [i1, i2, q(d2), q(d1)] as const;
    });
  const H = x.shape[rank - 2]!;
  const W = x.shape[rank - 1]!;
  const ty = axisTaps(rank - 2);
  const tx = axisTaps(rank - 1);
  const planes = rank === 4 ? x.shape[0]! * x.shape[1]! : 1;
  const taps: { index: number[]; weight: bigint[] }[] = [];
  for (let p = 0; p < planes; p++)
    for (const [y1, y2, wy1, wy2] of ty)
      for (const [x1, x2, wx1, wx2] of tx)
        taps.push({
          index: [y1 * W + x1, y1 * W + x2, y2 * W + x1, y2 * W + x2].map((i) => p * H * W + i),
          weight: [wy1 * wx1, wy1 * wx2, wy2 * wx1, wy2 * wx2],
        });
  return { shape: plan.sizes, taps };
}

const resizeImpl: OpImpl = (ctx) => {
  const mode = attrString(ctx.node, 'mode', 'nearest');
  if (!['nearest', 'linear', 'bilinear'].includes(mode))
    throw nodeError(ctx.node, `mode ${mode} is not supported (nearest and linear are)`);
  const s = ctx.s;
  return (inputs) => {
    const x = inputs.get(0);
    if (mode === 'nearest') return [resizeNearest(x, resizePlanOf(ctx, inputs).plan)];
    const xf = asFixed(x, s);
    const { shape, taps } = linearResizeTaps(ctx, inputs);
    const data = taps.map(({ index, weight }) =>
      rshiftRound(
        index.reduce((acc, i, k) => acc + weight[k]! * xf.data[i]!, 0n),
        2n * s,
      ),
    );
    return [{ shape, data, int: false }];
  };
};

/**
 * Split's part sizes along an axis of length `dim`: given, or equal parts (with `num_outputs`,
 * opset 18, ceil-sized with a smaller last part; before, the axis must divide evenly).
 */
function splitSizes(node: NodeProto, dim: number, parts: number, given: number[] | undefined): number[] {
  if (given) {
    if (given.length !== parts || given.some((d) => d < 0) || given.reduce((a, b) => a + b, 0) !== dim)
      throw nodeError(node, `split [${given.join(', ')}] does not divide an axis of ${dim} into ${parts}`);
    return given;
  }
  const uneven = node.attribute.some((a) => a.name === 'num_outputs');
  if (!uneven && dim % parts !== 0)
    throw nodeError(node, `an axis of ${dim} does not split evenly into ${parts}`);
  const chunk = Math.ceil(dim / parts);
  return Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
}

const split: OpImpl =
  ({ node, opset }) =>
  (inputs) => {
    const x = inputs.get(0);
    const rank = x.shape.length;
    const axis = normAxis(attrInt(node, 'axis', 0), rank, node);
    const given =
      opset >= 13
        ? inputs.opt(1)
          ? intValues(inputs.get(1), node, 'split')
          : undefined
        : attrInts(node, 'split');
    const sizes = splitSizes(node, x.shape[axis]!, node.output.length, given);
    const st = strides(x.shape);
    let start = 0;
    return sizes.map((len) => {
      const shape = x.shape.map((d, i) => (i === axis ? len : d));
      const from = start;
      start += len;
      return gatherByIndex(x, shape, (c) => {
        let src = 0;
        for (let d = 0; d < rank; d++) src += (d === axis ? c[d]! + from : c[d]!) * st[d]!;
        return src;
      });
    });
  };

/** DepthToSpace (DCR / CRD) and SpaceToDepth on NCHW. */
function depthSpace(node: NodeProto, x: XTensor, toSpace: boolean): XTensor {
  if (x.shape.length !== 4) throw nodeError(node, 'the input must be 4-D (NCHW)');
  const b = attrInt(node, 'blocksize', 0);
  if (b <= 0) throw nodeError(node, 'blocksize is required');
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const st = strides(x.shape);
  if (toSpace) {
    if (C % (b * b) !== 0) throw nodeError(node, `${C} channels are not a multiple of blocksize^2`);
    const crd = attrString(node, 'mode', 'DCR') === 'CRD';
    const Cb = C / (b * b);
    return gatherByIndex(x, [N, Cb, H * b, W * b], ([n, c, y, z]) => {
      const [h, i, w, j] = [Math.floor(y! / b), y! % b, Math.floor(z! / b), z! % b];
      const ci = crd ? c! * b * b + i * b + j : (i * b + j) * Cb + c!;
      return n! * st[0]! + ci * st[1]! + h * st[2]! + w;
    });
  }
  if (H % b !== 0 || W % b !== 0) throw nodeError(node, 'height and width must be multiples of blocksize');
  return gatherByIndex(x, [N, C * b * b, H / b, W / b], ([n, co, h, w]) => {
    const [blk, c] = [Math.floor(co! / C), co! % C];
    const [i, j] = [Math.floor(blk / b), blk % b];
    return n! * st[0]! + c * st[1]! + (h! * b + i) * st[2]! + (w! * b + j);
  });
}

function gatherElements(node: NodeProto, x: XTensor, ind: XTensor): XTensor {
  const rank = x.shape.length;
  if (ind.shape.length !== rank) throw nodeError(node, 'indices must have the rank of the data');
  const axis = normAxis(attrInt(node, 'axis', 0), rank, node);
  const idx = intValues(ind, node, 'indices');
  const st = strides(x.shape);
  const ist = strides(ind.shape);
  const dim = x.shape[axis]!;
  return gatherByIndex(x, [...ind.shape], (c) => {
    let k = 0;
    for (let d = 0; d < rank; d++) k += c[d]! * ist[d]!;
    const v = idx[k]!;
    const j = v < 0 ? v + dim : v;
    if (j < 0 || j >= dim) throw nodeError(node, `index ${v} is out of range for dimension ${dim}`);
    let src = 0;
    for (let d = 0; d < rank; d++) src += (d === axis ? j : c[d]!) * st[d]!;
    return src;
  });
}

/** Trilu: elements with column - row >= k (upper) or <= k (lower) kept, the rest 0. */
function trilu(node: NodeProto, x: XTensor, k: number): XTensor {
  const rank = x.shape.length;
  if (rank < 2) throw nodeError(node, 'the input must be at least 2-D');
  const upper = attrInt(node, 'upper', 1) === 1;
  return gatherByIndex(x, [...x.shape], (c) => {
    const i = c[rank - 2]!;
    const j = c[rank - 1]!;
    if (upper ? j - i < k : j - i > k) return -1;
    let src = 0;
    for (let d = 0; d < rank; d++) src = src * x.shape[d]! + c[d]!;
    return src;
  });
}

/** ScatterElements / ScatterND with reduction none: a copy of data with updates written in. */
function scatter(node: NodeProto, x: XTensor, ind: XTensor, upd: XTensor, s: bigint): XTensor {
  const reduction = attrString(node, 'reduction', 'none');
  if (reduction !== 'none') throw nodeError(node, `reduction ${reduction} is not supported (only none)`);
  const int = x.int && upd.int;
  const [data, up] = int ? [x, upd] : [asFixed(x, s), asFixed(upd, s)];
  const out = [...data.data];
  const idx = intValues(ind, node, 'indices');
  const rank = x.shape.length;
  const st = strides(x.shape);
  const at = (v: number, d: number) => {
    const dim = x.shape[d]!;
    const j = v < 0 ? v + dim : v;
    if (j < 0 || j >= dim) throw nodeError(node, `index ${v} is out of range for dimension ${dim}`);
    return j;
  };
  if (node.opType === 'ScatterElements') {
    if (ind.shape.length !== rank || upd.shape.some((d, i) => d !== ind.shape[i]))
      throw nodeError(node, 'indices and updates must have the same shape, of the data rank');
    const axis = normAxis(attrInt(node, 'axis', 0), rank, node);
    const ist = strides(ind.shape);
    for (let k = 0; k < idx.length; k++) {
      let dst = 0;
      for (let d = 0; d < rank; d++) {
        const c = Math.floor(k / ist[d]!) % ind.shape[d]!;
        dst += (d === axis ? at(idx[k]!, d) : c) * st[d]!;
      }
      out[dst] = up.data[k]!;
    }
  } else {
    const K = ind.shape[ind.shape.length - 1]!;
    if (K > rank) throw nodeError(node, 'index tuples are longer than the data rank');
    const tuples = idx.length / K;
    const slice = st[K - 1]!;
    if (up.data.length !== tuples * slice) throw nodeError(node, 'updates do not match indices and data');
    for (let t = 0; t < tuples; t++) {
      let dst = 0;
      for (let d = 0; d < K; d++) dst += at(idx[t * K + d]!, d) * st[d]!;
      for (let i = 0; i < slice; i++) out[dst + i] = up.data[t * slice + i]!;
    }
  }
  return { shape: x.shape, data: out, int };
}

export const layoutOps: Record<string, OpImpl> = {
  ScatterElements:
    ({ node, s }) =>
    (inputs) => [scatter(node, inputs.get(0), inputs.get(1), inputs.get(2), s)],
  ScatterND:
    ({ node, s }) =>
    (inputs) => [scatter(node, inputs.get(0), inputs.get(1), inputs.get(2), s)],
  DepthToSpace:
    ({ node }) =>
    (inputs) => [depthSpace(node, inputs.get(0), true)],
  SpaceToDepth:
    ({ node }) =>
    (inputs) => [depthSpace(node, inputs.get(0), false)],
  GatherElements:
    ({ node }) =>
    (inputs) => [gatherElements(node, inputs.get(0), inputs.get(1))],
  Trilu:
    ({ node }) =>
    (inputs) => {
      const k = inputs.opt(1);
      return [trilu(node, inputs.get(0), k ? intValues(k, node, 'k')[0]! : 0)];
    },
  Split: split,
  // Inference: the identity (a requested mask output is all true).
  Dropout:
    ({ node }) =>
    (inputs) => {
      const x = inputs.get(0);
      if (inputs.opt(2)?.data.some((v) => v !== 0n)) throw nodeError(node, 'training mode is not supported');
      return [x, { shape: x.shape, data: x.data.map(() => 1n), int: true }];
    },
  Expand:
    ({ node }) =>
    (inputs) => [expand(node, inputs.get(0), intValues(inputs.get(1), node, 'shape'))],
  Tile:
    ({ node }) =>
    (inputs) => [tile(node, inputs.get(0), intValues(inputs.get(1), node, 'repeats'))],
  Resize: resizeImpl,
  Upsample: resizeImpl,
};
