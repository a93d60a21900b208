/**
 * ConvTranspose (N-D, NC + spatial, group, strides, dilations, pads, output_padding, bias), as
 * Conv: products accumulate at 2^2s and are rounded ONCE, then the bias is added. Its geometry is
 * one list of taps (input element, weight element) per output element, `convTransposeTaps`,
 * shared with the circuit compiler so both sum the same terms. auto_pad SAME_* and output_shape
 * are refused (their padding conventions differ between ONNX versions and runtimes).
 */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrInt, attrInts, attrString, nodeError } from '../attributes.ts';
import { rshiftRound } from '../fixed.ts';
import { asFixed, size } from '../tensor.ts';
import type { OpImpl } from './op.ts';

export type ConvTransposeTaps = {
  shape: number[];
  /** Output channel of each output element (for the bias). */
  channel: Int32Array;
  /** Per output element: flat [x index, w index, x index, w index, ...]. */
  taps: number[][];
};

export function convTransposeTaps(
  node: NodeProto,
  xShape: readonly number[],
  wShape: readonly number[],
): ConvTransposeTaps {
  const r = xShape.length - 2;
  if (r < 1 || wShape.length !== xShape.length)
    throw nodeError(node, 'X and W must have the same rank (>= 3)');
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID')
    throw nodeError(node, `auto_pad ${autoPad} is not supported`);
  if (attrInts(node, 'output_shape'))
    throw nodeError(node, 'the output_shape attribute is not supported (use pads)');
  const [N, C] = xShape as [number, number];
  const group = attrInt(node, 'group', 1);
  const MG = wShape[1]!;
  if (wShape[0] !== C || C % group !== 0)
    throw nodeError(node, `W's first dimension must be the ${C} input channels`);
  const M = MG * group;
  const CG = C / group;
  const spatial = xShape.slice(2);
  const kernel = attrInts(node, 'kernel_shape') ?? wShape.slice(2);
  if (kernel.some((k, i) => k !== wShape[i + 2])) throw nodeError(node, 'kernel_shape does not match W');
  const st = attrInts(node, 'strides') ?? new Array<number>(r).fill(1);
  const dl = attrInts(node, 'dilations') ?? new Array<number>(r).fill(1);
  const pads =
    autoPad === 'VALID'
      ? new Array<number>(2 * r).fill(0)
      : (attrInts(node, 'pads') ?? new Array<number>(2 * r).fill(0));
  const op = attrInts(node, 'output_padding') ?? new Array<number>(r).fill(0);
  const out = spatial.map(
    (len, i) => st[i]! * (len - 1) + op[i]! + (kernel[i]! - 1) * dl[i]! + 1 - pads[i]! - pads[i + r]!,
  );
  if (out.some((o) => o <= 0)) throw nodeError(node, 'the output would be empty');
  const shape = [N, M, ...out];
  const nOut = size(shape);
  const taps: number[][] = Array.from({ length: nOut }, () => []);
  const channel = new Int32Array(nOut);
  const inner = size(out);
  for (let k = 0; k < nOut; k++) channel[k] = Math.floor(k / inner) % M;
  const kSize = size(kernel);
  const inSize = size(spatial);
  const pos = new Array<number>(r);
  const kp = new Array<number>(r);
  for (let n = 0; n < N; n++)
    for (let ci = 0; ci < C; ci++) {
      const g = Math.floor(ci / CG);
      for (let p = 0; p < inSize; p++) {
        let rest = p;
        for (let d = r - 1; d >= 0; d--) {
          pos[d] = rest % spatial[d]!;
          rest = Math.floor(rest / spatial[d]!);
        }
        for (let q = 0; q < kSize; q++) {
          let rq = q;
          for (let d = r - 1; d >= 0; d--) {
            kp[d] = rq % kernel[d]!;
            rq = Math.floor(rq / kernel[d]!);
          }
          // Output position o = p * stride + k * dilation - pad_begin, per spatial axis.
          let o = 0;
          let ok = true;
          for (let d = 0; d < r; d++) {
            const od = pos[d]! * st[d]! + kp[d]! * dl[d]! - pads[d]!;
            if (od < 0 || od >= out[d]!) {
              ok = false;
              break;
            }
            o = o * out[d]! + od;
          }
          if (!ok) continue;
          for (let m = 0; m < MG; m++) {
            const mo = g * MG + m;
            const xi = (n * C + ci) * inSize + p;
            const wi = (ci * MG + m) * kSize + q;
            taps[(n * M + mo) * inner + o]!.push(xi, wi);
          }
        }
      }
    }
  return { shape, channel, taps };
}

export const convTransposeOps: Record<string, OpImpl> = {
  ConvTranspose:
    ({ node, s }) =>
    (inputs) => {
      const x = asFixed(inputs.get(0), s);
      const w = asFixed(inputs.get(1), s);
      const b = inputs.opt(2) ? asFixed(inputs.get(2), s) : undefined;
      const { shape, channel, taps } = convTransposeTaps(node, x.shape, w.shape);
      const data = taps.map((t, k) => {
        let acc = 0n;
        for (let i = 0; i < t.length; i += 2) acc += x.data[t[i]!]! * w.data[t[i + 1]!]!;
        return rshiftRound(acc, s) + (b?.data[channel[k]!] ?? 0n);
      });
      return [{ shape, data, int: false }];
    },
};
