/** Pooling ops: MaxPool, AveragePool (2-D, NCHW). */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { divRound } from '../fixed.ts';
import { asFixed } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { OpImpl } from './op.ts';
import { poolGeometry } from './window.ts';

function pool(node: NodeProto, x: XTensor, kind: 'max' | 'avg'): XTensor {
  const { N, C, H, W, KH, KW, OH, OW, sh, sw, dh, dw, ph, pw, includePad } = poolGeometry(node, x.shape);
  const out = new Array<bigint>(N * C * OH * OW);
  let k = 0;
  for (let nc = 0; nc < N * C; nc++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let best: bigint | undefined;
        let sum = 0n;
        let count = 0;
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * sh - ph + ky * dh;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ix = ox * sw - pw + kx * dw;
            if (ix < 0 || ix >= W) continue;
            const v = x.data[(nc * H + iy) * W + ix]!;
            if (best === undefined || v > best) best = v;
            sum += v;
            count++;
          }
        }
        if (kind === 'max') out[k++] = best ?? 0n;
        else out[k++] = divRound(sum, BigInt(includePad ? KH * KW : Math.max(count, 1)));
      }
  return { shape: [N, C, OH, OW], data: out, int: x.int };
}

export const poolOps: Record<string, OpImpl> = {
  MaxPool:
    ({ node }) =>
    (inputs) => [pool(node, inputs.get(0), 'max')],
  AveragePool:
    ({ node, s }) =>
    (inputs) => [pool(node, asFixed(inputs.get(0), s), 'avg')],
};
