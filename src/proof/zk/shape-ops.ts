/**
 * Pure rewiring ops in circuits: Concat, DepthToSpace, Dropout (inference), Expand, Gather,
 * GatherElements, Pad, Resize / Upsample (nearest; linear by `resizeLinear`), ScatterElements /
 * ScatterND (constant indices, reduction none), Slice, SpaceToDepth, Split, Squeeze, Tile,
 * Transpose, Trilu, Unsqueeze (Cast between float types: see logic.ts). No constraint: output elements are input elements (or constants the op writes,
 * e.g. Pad's value).
 *
 * One definition with the exact executor: the executor's OWN kernel runs on index tensors (the
 * data inputs replaced by 0, 1, 2, ... in a float tensor of the same shape; the other inputs,
 * which must be constants, passed as they are). Each output element is then the index of the
 * input element it copies. The kernel runs twice with the indices offset by N (their count): an
 * element that moved with the offset is a copied input, one that did not is a constant written
 * by the op itself (at 2^s, as the executor writes it for a float input). Only ops that move
 * values without computing on them are lowered this way (the op list below); the kernel's own
 * validation (axes, pads, modes...) applies unchanged, with the executor's error messages.
 */
import type { NodeProto } from '../../core/onnx/types.ts';
import { nodeError } from '../../runtime/exact/attributes.ts';
import { linearResizeTaps } from '../../runtime/exact/ops/layout.ts';
import { registry } from '../../runtime/exact/ops/registry.ts';
import type { XTensor } from '../../runtime/exact/types.ts';
import type { Emitter } from './gadgets.ts';
import { dot, type Lin, linCombine, linConst, type Sym, symOf, type Val } from './lin.ts';
import type { LowerContext } from './nn.ts';

/** Ops lowered by rewiring, and which of their inputs carry data (the rest must be constants). */
const DATA_INPUTS: Record<string, 'first' | 'all' | 'scatter'> = {
  Concat: 'all',
  DepthToSpace: 'first',
  Dropout: 'first',
  Expand: 'first',
  Gather: 'first',
  GatherElements: 'first',
  Pad: 'first',
  Resize: 'first',
  ScatterElements: 'scatter',
  ScatterND: 'scatter',
  Slice: 'first',
  SpaceToDepth: 'first',
  Split: 'first',
  Squeeze: 'first',
  Tile: 'first',
  Transpose: 'first',
  Trilu: 'first',
  Unsqueeze: 'first',
  Upsample: 'first',
};

/** Op types this module lowers (Cast: see logic.ts). */
export const shapeCircuitOps: readonly string[] = [...Object.keys(DATA_INPUTS), 'Cast'];

/** Also rewiring, lowered elsewhere for float tensors but here for integer ones (logic.ts). */
const MORE_DATA_INPUTS: Record<string, 'first'> = { Flatten: 'first', Identity: 'first', Reshape: 'first' };

/**
 * Lower a rewiring op (see the module comment) to a symbolic tensor; `int`: the data inputs are
 * unscaled integer tensors (bool results, see logic.ts), constants among them taken unscaled too.
 */
export function rewire(
  node: NodeProto,
  opt: (i: number) => Val | undefined,
  ctx: LowerContext,
  int = false,
): Sym {
  const out = rewireAll(node, opt, ctx, int)[0];
  if (out?.kind !== 'sym') throw nodeError(node, 'expected a non-constant output');
  return out;
}

/** Every output of a rewiring op (Split has several): symbolic, or constant when nothing moved. */
export function rewireAll(
  node: NodeProto,
  opt: (i: number) => Val | undefined,
  ctx: LowerContext,
  int = false,
): Val[] {
  const which = DATA_INPUTS[node.opType] ?? MORE_DATA_INPUTS[node.opType];
  const impl = registry.get(node.opType);
  if (!which || !impl) throw nodeError(node, 'op is not a rewiring op');
  if ((node.opType === 'Resize' || node.opType === 'Upsample') && resizeMode(node) !== 'nearest')
    throw nodeError(node, 'only mode nearest moves values (linear: see resizeLinear)');
  const vals = node.input.map((name, i) => (name ? opt(i) : undefined));
  // Scatter: data and updates are moved, the indices (input 1) must be constant.
  const isData = (i: number) => which === 'all' || i === 0 || (which === 'scatter' && i === 2);
  // Data inputs share one pool of expressions; input i's elements start at base[i].
  const pool: Lin[] = [];
  const base: number[] = [];
  const shapes: number[][] = [];
  vals.forEach((v, i) => {
    if (!v) return;
    if (isData(i)) {
      const x = int && v.kind === 'const' ? unscaled(v.t) : symOf(v, ctx.s);
      base[i] = pool.length;
      shapes[i] = x.shape;
      pool.push(...x.data);
    } else if (v.kind === 'sym')
      throw nodeError(node, `input ${i} ("${node.input[i]}") must be a constant in circuits`);
  });
  if (!vals[0]) throw nodeError(node, 'input 0 is missing');
  const kernel = impl({ node, scale: ctx.scale, s: ctx.s, opset: ctx.opset, initializers: ctx.initializers });
  const run = (offset: number): XTensor[] => {
    const tensor = (i: number): XTensor => {
      const v = vals[i];
      if (!v) throw nodeError(node, `input ${i} is missing`);
      if (!isData(i)) return (v as { kind: 'const'; t: XTensor }).t;
      const shape = shapes[i]!;
      const start = offset + base[i]!;
      const n = shape.reduce((a, b) => a * b, 1);
      return { shape, data: Array.from({ length: n }, (_, k) => BigInt(start + k)), int };
    };
    return kernel({ get: tensor, opt: (i) => (vals[i] ? tensor(i) : undefined) });
  };
  const N = pool.length;
  const as = run(0);
  const bs = N > 0 ? run(N) : as;
  return as.map((a, o): Val => {
    const b = bs[o]!;
    // An output equal in both runs holds only values the op wrote itself (e.g. Dropout's mask).
    if (a.data.every((v, k) => v === b.data[k])) return { kind: 'const', t: a };
    if (a.int !== int) throw nodeError(node, 'unexpected output of the rewiring kernel');
    const data = a.data.map((v, k) => {
      const w = b.data[k]!;
      if (N > 0 && w - v === BigInt(N)) {
        const l = pool[Number(v)];
        if (!l) throw nodeError(node, 'rewiring index out of range');
        return l;
      }
      if (w !== v) throw nodeError(node, 'the op computes on values: it is not a rewiring');
      return linConst(v);
    });
    return { kind: 'sym', shape: a.shape, data };
  });
}

/** Resize / Upsample's mode attribute. */
export function resizeMode(node: NodeProto): string {
  const mode = node.attribute.find((a) => a.name === 'mode')?.s;
  return mode ? new TextDecoder().decode(mode) : 'nearest';
}

/**
 * Linear (bilinear) Resize / Upsample: the executor's own taps (`linearResizeTaps`), weights at
 * 2^2s, one constant-weight dot product per output element at 2^3s, rounded once by 2^2s
 * (DivConst), as the executor's rshiftRound(acc, 2s). Scales / sizes must be constants.
 */
export function resizeLinear(
  node: NodeProto,
  opt: (i: number) => Val | undefined,
  em: Emitter,
  ctx: LowerContext,
): Sym {
  const xv = opt(0);
  if (!xv) throw nodeError(node, 'input 0 is missing');
  const x = symOf(xv, ctx.s);
  const consts = node.input.map((_, i) => {
    const v = i === 0 ? undefined : opt(i);
    if (v?.kind === 'sym')
      throw nodeError(node, `input ${i} ("${node.input[i]}") must be a constant in circuits`);
    return v?.t;
  });
  const shapeOnly: XTensor = { shape: x.shape, data: [], int: false };
  const get = (i: number): XTensor => {
    const t = i === 0 ? shapeOnly : consts[i];
    if (!t) throw nodeError(node, `input ${i} is missing`);
    return t;
  };
  const { shape, taps } = linearResizeTaps(
    { node, scale: ctx.scale, s: ctx.s, opset: ctx.opset, initializers: ctx.initializers },
    { get, opt: (i) => (i === 0 ? shapeOnly : consts[i]) },
  );
  const what = `${node.opType} node "${node.name}"`;
  const S2 = 2n * ctx.s;
  const data = taps.map(({ index, weight }) => {
    const acc = dot(
      weight,
      index.map((i) => x.data[i]!),
    );
    return em.divFloor(linCombine(acc, 1n, linConst(1n << (S2 - 1n)), 1n), 1n << S2, what);
  });
  return { kind: 'sym', shape, data };
}

function unscaled(t: XTensor): Sym {
  return { kind: 'sym', shape: t.shape, data: t.data.map(linConst) };
}
