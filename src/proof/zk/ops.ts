/**
 * Op lowering: one non-constant ONNX node (Gemm, MatMul, Add/Sub, Relu, Identity, Flatten,
 * Reshape here; Conv, pools, BatchNormalization, LeakyRelu, Mul/Div by a constant in nn.ts) to
 * symbolic tensors, emitting gadgets for the rescales, divisions and sign bits it needs.
 */
import type { NodeProto } from '../../core/onnx/types.ts';
import { attrFloat, attrInt, nodeError } from '../../runtime/exact/attributes.ts';
import { flattenShape, reshapeShape } from '../../runtime/exact/ops/shape.ts';
import { asFixed, broadcastIndex, broadcastShape, size } from '../../runtime/exact/tensor.ts';
import { convTranspose } from './conv-transpose.ts';
import {
  gemmGeneral,
  gemmIsGeneral,
  lowerArithmetic,
  matmulCells,
  matmulSym,
  mulSym,
} from './elementwise.ts';
import type { Emitter } from './gadgets.ts';
import { dot, type Lin, linCombine, type Sym, symOf, type Val } from './lin.ts';
import { hasIntInput, lowerLogic } from './logic.ts';
import { batchNorm, conv, div, type LowerContext, leakyRelu, mul, pool } from './nn.ts';
import { divSym, lowerNonlinear } from './nonlinear.ts';
import { lowerRecurrent } from './recurrent.ts';
import { resizeLinear, resizeMode, rewire, rewireAll } from './shape-ops.ts';

function gemm(node: NodeProto, a: Val, b: Val, c: Val | undefined, em: Emitter, s: bigint): Sym {
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  if (alpha !== 1 || beta !== 1)
    throw nodeError(node, 'only alpha = 1 and beta = 1 are supported in circuits');
  if (a.kind === 'sym' && b.kind === 'sym')
    throw nodeError(node, 'a product of two non-constant tensors is not supported in circuits');
  if (c?.kind === 'sym') throw nodeError(node, 'a non-constant C is not supported in circuits');
  const aShape = a.kind === 'sym' ? a.shape : a.t.shape;
  const bShape = b.kind === 'sym' ? b.shape : b.t.shape;
  if (aShape.length !== 2 || bShape.length !== 2) throw nodeError(node, 'A and B must be 2-D');
  const transA = attrInt(node, 'transA', 0) === 1;
  const transB = attrInt(node, 'transB', 0) === 1;
  const [M, K] = (transA ? [aShape[1], aShape[0]] : aShape) as [number, number];
  const [K2, N] = (transB ? [bShape[1], bShape[0]] : bShape) as [number, number];
  if (K !== K2) throw nodeError(node, `inner dimensions differ (${K} and ${K2})`);
  const aAt = (i: number, k: number) => (transA ? k * M + i : i * K + k);
  const bAt = (k: number, j: number) => (transB ? j * K + k : k * N + j);
  let cd: bigint[] | undefined;
  if (c) {
    const cf = asFixed(c.t, s);
    const idx = broadcastIndex(cf.shape, broadcastShape(cf.shape, [M, N], node));
    cd = Array.from(idx, (i) => cf.data[i]!);
  }
  const data: Lin[] = [];
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      const ks = Array.from({ length: K }, (_, k) => k);
      let acc: Lin;
      if (a.kind === 'sym' && b.kind === 'const') {
        const bf = asFixed(b.t, s).data;
        acc = dot(
          ks.map((k) => bf[bAt(k, j)]!),
          ks.map((k) => a.data[aAt(i, k)]!),
        );
      } else if (a.kind === 'const' && b.kind === 'sym') {
        const af = asFixed(a.t, s).data;
        acc = dot(
          ks.map((k) => af[aAt(i, k)]!),
          ks.map((k) => b.data[bAt(k, j)]!),
        );
      } else throw nodeError(node, 'a Gemm of constants only should have been folded');
      data.push(em.rescale(acc, cd?.[i * N + j] ?? 0n, `Gemm node "${node.name}"`));
    }
  return { kind: 'sym', shape: [M, N], data };
}

function matmul(node: NodeProto, a: Val, b: Val, em: Emitter, s: bigint): Sym {
  if (a.kind === 'sym' && b.kind === 'sym')
    throw nodeError(node, 'a product of two non-constant tensors is not supported in circuits');
  const A = symOf(a, s);
  const B = symOf(b, s);
  const aConst = a.kind === 'const' ? asFixed(a.t, s).data : undefined;
  const bConst = b.kind === 'const' ? asFixed(b.t, s).data : undefined;
  const { shape, data } = matmulCells(node, A.shape, B.shape, (ai, bi) =>
    em.rescale(
      bConst
        ? dot(
            bi.map((x) => bConst[x]!),
            ai.map((x) => A.data[x]!),
          )
        : dot(
            ai.map((x) => aConst![x]!),
            bi.map((x) => B.data[x]!),
          ),
      0n,
      `MatMul node "${node.name}"`,
    ),
  );
  return { kind: 'sym', shape, data };
}

function addSub(node: NodeProto, a: Val, b: Val, sign: bigint, s: bigint): Sym {
  const x = symOf(a, s);
  const y = symOf(b, s);
  const shape = broadcastShape(x.shape, y.shape, node);
  const ix = broadcastIndex(x.shape, shape);
  const iy = broadcastIndex(y.shape, shape);
  const data = Array.from({ length: size(shape) }, (_, k) =>
    linCombine(x.data[ix[k]!]!, 1n, y.data[iy[k]!]!, sign),
  );
  return { kind: 'sym', shape, data };
}

function flatten(node: NodeProto, x: Sym): Sym {
  return { kind: 'sym', shape: flattenShape(node, x.shape), data: x.data };
}

function reshapeTo(node: NodeProto, x: Sym, spec: readonly number[]): Sym {
  return { kind: 'sym', shape: reshapeShape(node, x.shape, spec), data: x.data };
}

/** Lower one node with at least one non-constant input; returns its output values (or the first one). */
export function lowerNode(
  node: NodeProto,
  get: (i: number) => Val,
  opt: (i: number) => Val | undefined,
  em: Emitter,
  ctx: LowerContext,
): Val | Val[] {
  const s = ctx.s;
  const what = `${node.opType} node "${node.name}"`;
  // Non-constant integer / bool tensors (comparison results) only reach ops that expect them.
  if (hasIntInput(node, opt)) return lowerLogic(node, get, opt, em, ctx);
  switch (node.opType) {
    case 'Gemm': {
      const [a, b, c] = [get(0), get(1), opt(2)];
      return gemmIsGeneral(node, a, b, c) ? gemmGeneral(node, a, b, c, em, ctx) : gemm(node, a, b, c, em, s);
    }
    case 'MatMul': {
      const [a, b] = [get(0), get(1)];
      return a.kind === 'sym' && b.kind === 'sym' ? matmulSym(node, a, b, em) : matmul(node, a, b, em, s);
    }
    case 'Add':
    case 'Sub':
      return addSub(node, get(0), get(1), node.opType === 'Add' ? 1n : -1n, s);
    case 'Relu': {
      const x = symOf(get(0), s);
      return { kind: 'sym', shape: x.shape, data: x.data.map((l) => em.relu(l, what)) };
    }
    case 'Conv':
      return conv(node, get(0), get(1), opt(2), em, s);
    case 'ConvTranspose':
      return convTranspose(node, get(0), get(1), opt(2), em, s);
    case 'LeakyRelu':
      return leakyRelu(node, get(0), em, ctx);
    case 'Mul': {
      const [a, b] = [get(0), get(1)];
      return a.kind === 'sym' && b.kind === 'sym' ? mulSym(node, a, b, em) : mul(node, a, b, em);
    }
    case 'Div':
      return get(1).kind === 'sym' ? divSym(node, get(0), get(1), em, ctx) : div(node, get(0), get(1), em, s);
    case 'BatchNormalization':
      return batchNorm(node, get(0), em, ctx);
    case 'AveragePool':
      return pool(node, get(0), 'avg', em, s);
    case 'MaxPool':
      return pool(node, get(0), 'max', em, s);
    case 'Identity':
      return get(0);
    case 'Flatten':
      return flatten(node, symOf(get(0), s));
    case 'Reshape': {
      const spec = get(1);
      if (spec.kind !== 'const' || !spec.t.int)
        throw nodeError(node, 'the shape must be a constant integer tensor');
      return reshapeTo(node, symOf(get(0), s), spec.t.data.map(Number));
    }
    case 'And':
    case 'Cast':
    case 'Equal':
    case 'Greater':
    case 'GreaterOrEqual':
    case 'Less':
    case 'LessOrEqual':
    case 'Not':
    case 'Or':
    case 'Round':
    case 'Where':
    case 'Xor':
      return lowerLogic(node, get, opt, em, ctx);
    case 'Dropout':
    case 'Split':
      return rewireAll(node, opt, ctx);
    case 'Concat':
    case 'DepthToSpace':
    case 'GatherElements':
    case 'ScatterElements':
    case 'ScatterND':
    case 'SpaceToDepth':
    case 'Trilu':
    case 'Expand':
    case 'Gather':
    case 'Pad':
    case 'Slice':
    case 'Squeeze':
    case 'Tile':
    case 'Transpose':
    case 'Unsqueeze':
      return rewire(node, opt, ctx);
    case 'Resize':
    case 'Upsample':
      return resizeMode(node) === 'nearest' ? rewire(node, opt, ctx) : resizeLinear(node, opt, em, ctx);
    case 'Abs':
    case 'Clip':
    case 'HardSigmoid':
    case 'HardSwish':
    case 'Max':
    case 'Min':
    case 'Neg':
    case 'Pow':
    case 'PRelu':
    case 'ReduceMax':
    case 'ReduceMean':
    case 'ReduceMin':
    case 'ReduceSum':
    case 'Ceil':
    case 'Floor':
    case 'Mean':
    case 'ReduceL1':
    case 'ReduceSumSquare':
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'CumSum':
    case 'ReduceProd':
    case 'Sign':
    case 'Sum':
    case 'ThresholdedRelu':
      return lowerArithmetic(node, get, opt, em, ctx);
    case 'ArgMax':
    case 'Celu':
    case 'Elu':
    case 'Erf':
    case 'Exp':
    case 'Gelu':
    case 'InstanceNormalization':
    case 'LayerNormalization':
    case 'Log':
    case 'LogSoftmax':
    case 'Sigmoid':
    case 'Softmax':
    case 'Reciprocal':
    case 'ReduceL2':
    case 'ReduceLogSumExp':
    case 'Selu':
    case 'Softplus':
    case 'Softsign':
    case 'Sqrt':
    case 'Tanh':
      return lowerNonlinear(node, get, em, ctx);
    case 'GRU':
    case 'LSTM':
    case 'RNN':
      return lowerRecurrent(node, get, opt, em, ctx);
    default:
      throw nodeError(node, 'op is not supported in circuits');
  }
}
