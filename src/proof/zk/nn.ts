/**
 * Lowering of the convolution-network ops, each matching the exact executor's integers:
 * - Conv (2-D NCHW, strides/pads/dilations/auto_pad, any group): a constant-weight dot product
 *   per output element at 2^2s, bias added at 2^s, rounded once by Rescale (as Gemm).
 * - LeakyRelu: x >= 0 ? x : rshiftRound(x * alpha, s), alpha quantized as the executor does.
 * - Mul / Div by a constant: rshiftRound(x * c, s) (or x * c for an int constant), and
 *   divRound(x << s, c) (or divRound(x, c) for an int constant) via the DivConst gadget.
 * - BatchNormalization: folded with the executor's own `foldBatchNormNode`, y = rshiftRound(x * a, s) + b.
 * - AveragePool: window sum, then divRound(sum, count) via DivConst; MaxPool: pairwise max by
 *   the sign bit of differences. Window geometry is the executor's `convGeometry` / `poolGeometry`.
 */
import type { NodeProto, TensorProto } from '../../core/onnx/types.ts';
import { attrFloat, nodeError } from '../../runtime/exact/attributes.ts';
import { f32ToRational, quantizeRational } from '../../runtime/exact/fixed.ts';
import { foldBatchNormNode } from '../../runtime/exact/ops/batchnorm.ts';
import { convGeometry, poolGeometry } from '../../runtime/exact/ops/window.ts';
import { asFixed, broadcastIndex, broadcastShape, size } from '../../runtime/exact/tensor.ts';
import type { Emitter } from './gadgets.ts';
import { dot, type Lin, linCombine, linConst, type Sym, symOf, type Val } from './lin.ts';

export type LowerContext = {
  scale: number;
  s: bigint;
  /** Default-domain opset of the model (ops whose inputs moved from attributes need it). */
  opset: number;
  initializers: ReadonlyMap<string, TensorProto>;
};

export function conv(node: NodeProto, xv: Val, w: Val, b: Val | undefined, em: Emitter, s: bigint): Sym {
  if (w.kind !== 'const' || b?.kind === 'sym')
    throw nodeError(node, 'the weight and bias must be constants in circuits');
  const x = symOf(xv, s);
  const { N, C, H, W, M, CG, KH, KW, OH, OW, sh, sw, dh, dw, ph, pw, group } = convGeometry(
    node,
    x.shape,
    w.t.shape,
  );
  const wd = asFixed(w.t, s).data;
  const bias = b ? asFixed(b.t, s).data : undefined;
  const mPerG = M / group;
  const what = `Conv node "${node.name}"`;
  const data: Lin[] = [];
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / mPerG) * CG;
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          const ws: bigint[] = [];
          const xs: Lin[] = [];
          for (let c = 0; c < CG; c++)
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * sw - pw + kx * dw;
                if (ix < 0 || ix >= W) continue;
                ws.push(wd[((m * CG + c) * KH + ky) * KW + kx]!);
                xs.push(x.data[((n * C + c0 + c) * H + iy) * W + ix]!);
              }
            }
          data.push(em.rescale(dot(ws, xs), bias?.[m] ?? 0n, what));
        }
    }
  return { kind: 'sym', shape: [N, M, OH, OW], data };
}

export function leakyRelu(node: NodeProto, xv: Val, em: Emitter, ctx: LowerContext): Sym {
  const alpha = quantizeRational(f32ToRational(attrFloat(node, 'alpha', 0.01)), ctx.scale);
  const x = symOf(xv, ctx.s);
  const what = `LeakyRelu node "${node.name}"`;
  return { kind: 'sym', shape: x.shape, data: x.data.map((l) => em.leakyRelu(l, alpha, what)) };
}

/** Elementwise op of a symbolic tensor and a constant one (broadcast as the executor). */
function withConst(
  node: NodeProto,
  x: Sym,
  c: { shape: number[]; data: bigint[] },
  fn: (l: Lin, k: bigint) => Lin,
): Sym {
  const shape = broadcastShape(x.shape, c.shape, node);
  const ix = broadcastIndex(x.shape, shape);
  const ic = broadcastIndex(c.shape, shape);
  const data = Array.from({ length: size(shape) }, (_, k) => fn(x.data[ix[k]!]!, c.data[ic[k]!]!));
  return { kind: 'sym', shape, data };
}

export function mul(node: NodeProto, a: Val, b: Val, em: Emitter): Sym {
  if (a.kind === 'sym' && b.kind === 'sym')
    throw nodeError(node, 'a product of two non-constant tensors is not supported in circuits');
  const [x, c] = a.kind === 'sym' ? [a, b] : [b as Sym, a];
  if (c.kind !== 'const') throw nodeError(node, 'expected a constant operand');
  const what = `Mul node "${node.name}"`;
  // Operand order does not matter: the executor's product p * q is symmetric.
  if (c.t.int) return withConst(node, x, c.t, (l, k) => linCombine(l, k, linConst(0n), 0n));
  return withConst(node, x, c.t, (l, k) => em.rescale(linCombine(l, k, linConst(0n), 0n), 0n, what));
}

export function div(node: NodeProto, a: Val, b: Val, em: Emitter, s: bigint): Sym {
  if (b.kind !== 'const') throw nodeError(node, 'only division by a constant is supported in circuits');
  const x = symOf(a, s);
  const what = `Div node "${node.name}"`;
  // Executor: divRound(p, q) for an int q, else divRound(p << s, q); divRound(a, d) =
  // floor((2a + d) / 2d) after making d positive.
  const shift = b.t.int ? 0n : s;
  return withConst(node, x, b.t, (l, q) => {
    if (q === 0n) throw nodeError(node, 'division by zero');
    const sg = q < 0n ? -1n : 1n;
    const d = q * sg;
    const num = linCombine(l, (2n * sg) << shift, linConst(d), 1n);
    return em.divFloor(num, 2n * d, what);
  });
}

export function batchNorm(node: NodeProto, xv: Val, em: Emitter, ctx: LowerContext): Sym {
  const folded = foldBatchNormNode(node, ctx.initializers, ctx.scale);
  const x = symOf(xv, ctx.s);
  const C = x.shape[1] ?? 1;
  if (C !== folded.length) throw nodeError(node, `expected ${folded.length} channels, got ${C}`);
  const inner = size(x.shape.slice(2));
  const what = `BatchNormalization node "${node.name}"`;
  const data = x.data.map((l, i) => {
    const f = folded[Math.floor(i / inner) % C]!;
    return em.rescale(linCombine(l, f.a, linConst(0n), 0n), f.b, what);
  });
  return { kind: 'sym', shape: x.shape, data };
}

export function pool(node: NodeProto, xv: Val, kind: 'max' | 'avg', em: Emitter, s: bigint): Sym {
  const x = symOf(xv, s);
  const { N, C, H, W, KH, KW, OH, OW, sh, sw, dh, dw, ph, pw, includePad } = poolGeometry(node, x.shape);
  const what = `${node.opType} node "${node.name}"`;
  const data: Lin[] = [];
  for (let nc = 0; nc < N * C; nc++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const win: Lin[] = [];
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * sh - ph + ky * dh;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ix = ox * sw - pw + kx * dw;
            if (ix < 0 || ix >= W) continue;
            win.push(x.data[(nc * H + iy) * W + ix]!);
          }
        }
        if (kind === 'max') {
          // Same result as the executor's left-to-right scan: the maximum of the window.
          let best: Lin | undefined;
          for (const v of win) best = best ? em.max(best, v, what) : v;
          data.push(best ?? linConst(0n));
        } else {
          const count = BigInt(includePad ? KH * KW : Math.max(win.length, 1));
          const sum = win.reduce((acc, v) => linCombine(acc, 1n, v, 1n), linConst(0n));
          data.push(em.divFloor(linCombine(sum, 2n, linConst(count), 1n), 2n * count, what));
        }
      }
  return { kind: 'sym', shape: [N, C, OH, OW], data };
}
