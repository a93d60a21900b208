/**
 * Dot-product ops: Gemm, MatMul, Conv (2-D, NCHW). Products accumulate at 2^2s and are rounded
 * once with `rshiftRound`.
 */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrFloat, attrInt, nodeError } from '../attributes.ts';
import { f32ToRational, quantizeRational, type Rational, rshiftRound } from '../fixed.ts';
import { asFixed, broadcastIndex, broadcastShape, size } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { OpImpl } from './op.ts';
import { convGeometry } from './window.ts';

function isOne(r: Rational): boolean {
  return !r.neg && r.exp <= 0 && r.mant === 1n << BigInt(-r.exp);
}

function gemm(node: NodeProto, a: XTensor, b: XTensor, c: XTensor | undefined, s: bigint): XTensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) throw nodeError(node, 'A and B must be 2-D');
  const transA = attrInt(node, 'transA', 0) === 1;
  const transB = attrInt(node, 'transB', 0) === 1;
  const [M, K] = (transA ? [a.shape[1], a.shape[0]] : a.shape) as [number, number];
  const [K2, N] = (transB ? [b.shape[1], b.shape[0]] : b.shape) as [number, number];
  if (K !== K2) throw nodeError(node, `inner dimensions differ (${K} and ${K2})`);
  const ad = asFixed(a, s).data;
  const bd = asFixed(b, s).data;
  const alpha = f32ToRational(attrFloat(node, 'alpha', 1));
  const beta = f32ToRational(attrFloat(node, 'beta', 1));
  const alphaOne = isOne(alpha);
  const alphaQ = quantizeRational(alpha, Number(s));
  const shape = [M, N];
  // C broadcast to [M, N], scaled by beta (beta * C rounded once, unless beta = 1).
  let cd: bigint[] | undefined;
  if (c) {
    const cf = asFixed(c, s);
    const idx = broadcastIndex(cf.shape, broadcastShape(cf.shape, shape, node));
    const betaOne = isOne(beta);
    const betaQ = quantizeRational(beta, Number(s));
    cd = Array.from(idx, (i) => (betaOne ? cf.data[i]! : rshiftRound(cf.data[i]! * betaQ, s)));
  }
  const out = new Array<bigint>(M * N);
  const aRow = transA ? M : 1;
  const aCol = transA ? 1 : K;
  const bRow = transB ? 1 : N;
  const bCol = transB ? K : 1;
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let acc = 0n;
      let ai = i * aCol;
      let bj = j * bCol;
      for (let k = 0; k < K; k++) {
        acc += ad[ai]! * bd[bj]!;
        ai += aRow;
        bj += bRow;
      }
      // acc is at 2^2s; alpha != 1 multiplies to 2^3s; one rounding either way.
      const y = alphaOne ? rshiftRound(acc, s) : rshiftRound(acc * alphaQ, 2n * s);
      out[i * N + j] = cd ? y + cd[i * N + j]! : y;
    }
  return { shape, data: out, int: false };
}

/**
 * MatMul's shapes, numpy-style: 1-D operands promoted to matrices, batch dimensions
 * broadcast; `ia`/`ib` map each batch index to the operands' batch offsets.
 */
export function matmulPlan(node: NodeProto, aIn: readonly number[], bIn: readonly number[]) {
  const aShape = aIn.length === 1 ? [1, aIn[0]!] : [...aIn];
  const bShape = bIn.length === 1 ? [bIn[0]!, 1] : [...bIn];
  const M = aShape[aShape.length - 2]!;
  const K = aShape[aShape.length - 1]!;
  const K2 = bShape[bShape.length - 2]!;
  const N = bShape[bShape.length - 1]!;
  if (K !== K2) throw nodeError(node, `inner dimensions differ (${K} and ${K2})`);
  const batch = broadcastShape(aShape.slice(0, -2), bShape.slice(0, -2), node);
  const ia = broadcastIndex(aShape.slice(0, -2), batch);
  const ib = broadcastIndex(bShape.slice(0, -2), batch);
  return { M, K, N, batch, ia, ib };
}

function matmul(node: NodeProto, a: XTensor, b: XTensor, s: bigint): XTensor {
  const int = a.int && b.int;
  const A = int ? a : asFixed(a, s);
  const B = int ? b : asFixed(b, s);
  const { M, K, N, batch, ia, ib } = matmulPlan(node, A.shape, B.shape);
  const nb = size(batch);
  const out = new Array<bigint>(nb * M * N);
  for (let t = 0; t < nb; t++) {
    const ao = ia[t]! * M * K;
    const bo = ib[t]! * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0n;
        for (let k = 0; k < K; k++) acc += A.data[ao + i * K + k]! * B.data[bo + k * N + j]!;
        out[(t * M + i) * N + j] = int ? acc : rshiftRound(acc, s);
      }
  }
  const shape = [...batch];
  if (a.shape.length !== 1) shape.push(M);
  if (b.shape.length !== 1) shape.push(N);
  return { shape, data: out, int };
}

function conv(node: NodeProto, x: XTensor, w: XTensor, b: XTensor | undefined, s: bigint): XTensor {
  const { N, C, H, W, M, CG, KH, KW, OH, OW, sh, sw, dh, dw, ph, pw, group } = convGeometry(
    node,
    x.shape,
    w.shape,
  );
  const xd = asFixed(x, s).data;
  const wd = asFixed(w, s).data;
  const bias = b ? asFixed(b, s).data : undefined;
  const out = new Array<bigint>(N * M * OH * OW);
  const mPerG = M / group;
  let k = 0;
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / mPerG) * CG;
      const bm = bias ? bias[m]! << s : 0n;
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let acc = bm;
          for (let c = 0; c < CG; c++) {
            const xBase = (n * C + c0 + c) * H;
            const wBase = (m * CG + c) * KH;
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * sh - ph + ky * dh;
              if (iy < 0 || iy >= H) continue;
              const xRow = (xBase + iy) * W;
              const wRow = (wBase + ky) * KW;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * sw - pw + kx * dw;
                if (ix < 0 || ix >= W) continue;
                acc += xd[xRow + ix]! * wd[wRow + kx]!;
              }
            }
          }
          out[k++] = rshiftRound(acc, s);
        }
    }
  return { shape: [N, M, OH, OW], data: out, int: false };
}

export const linearOps: Record<string, OpImpl> = {
  Gemm:
    ({ node, s }) =>
    (inputs) => [gemm(node, inputs.get(0), inputs.get(1), inputs.opt(2), s)],
  MatMul:
    ({ node, s }) =>
    (inputs) => [matmul(node, inputs.get(0), inputs.get(1), s)],
  Conv:
    ({ node, s }) =>
    (inputs) => [conv(node, inputs.get(0), inputs.get(1), inputs.opt(2), s)],
};
