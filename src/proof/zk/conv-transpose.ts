/**
 * ConvTranspose in circuits: the executor's own taps (runtime/exact/ops/conv-transpose.ts), a
 * constant-weight dot product per output element at 2^2s, the bias added at 2^s, rounded once by
 * Rescale (as Conv). The weights and bias must be constants.
 */
import type { NodeProto } from '../../core/onnx/types.ts';
import { nodeError } from '../../runtime/exact/attributes.ts';
import { convTransposeTaps } from '../../runtime/exact/ops/conv-transpose.ts';
import { asFixed } from '../../runtime/exact/tensor.ts';
import type { Emitter } from './gadgets.ts';
import { dot, type Lin, type Sym, symOf, type Val } from './lin.ts';

export function convTranspose(
  node: NodeProto,
  xv: Val,
  w: Val,
  b: Val | undefined,
  em: Emitter,
  s: bigint,
): Sym {
  if (w.kind !== 'const' || b?.kind === 'sym')
    throw nodeError(node, 'the weight and bias must be constants in circuits');
  const x = symOf(xv, s);
  const wd = asFixed(w.t, s).data;
  const bias = b ? asFixed(b.t, s).data : undefined;
  const { shape, channel, taps } = convTransposeTaps(node, x.shape, w.t.shape);
  const what = `ConvTranspose node "${node.name}"`;
  const data: Lin[] = taps.map((t, k) => {
    const ws: bigint[] = [];
    const xs: Lin[] = [];
    for (let i = 0; i < t.length; i += 2) {
      xs.push(x.data[t[i]!]!);
      ws.push(wd[t[i + 1]!]!);
    }
    return em.rescale(dot(ws, xs), bias?.[channel[k]!] ?? 0n, what);
  });
  return { kind: 'sym', shape, data };
}
