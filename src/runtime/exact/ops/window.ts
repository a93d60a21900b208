/** Sliding-window geometry (strides, dilations, pads, auto_pad, ceil_mode) shared by Conv and pools. */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrInts, attrString, nodeError } from '../attributes.ts';

export type Window = {
  kernel: number[];
  strides: number[];
  dilations: number[];
  begin: number[];
  out: number[];
};

export function windowGeometry(node: NodeProto, spatial: number[], kernel: number[], ceil: boolean): Window {
  const r = spatial.length;
  const st = attrInts(node, 'strides') ?? new Array<number>(r).fill(1);
  const dl = attrInts(node, 'dilations') ?? new Array<number>(r).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * r).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const begin: number[] = [];
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const len = spatial[i]!;
    const ext = (kernel[i]! - 1) * dl[i]! + 1;
    let pb = pads[i] ?? 0;
    let pe = pads[i + r] ?? 0;
    if (autoPad === 'VALID') pb = pe = 0;
    else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = Math.ceil(len / st[i]!);
      const total = Math.max(0, (o - 1) * st[i]! + ext - len);
      pb = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      pe = total - pb;
    } else if (autoPad !== 'NOTSET') throw nodeError(node, `auto_pad ${autoPad} is not supported`);
    const span = len + pb + pe - ext;
    let o = (ceil ? Math.ceil(span / st[i]!) : Math.floor(span / st[i]!)) + 1;
    if (ceil && (o - 1) * st[i]! >= len + pb) o--;
    if (o <= 0) throw nodeError(node, 'the window is larger than the padded input');
    begin.push(pb);
    out.push(o);
  }
  return { kernel, strides: st, dilations: dl, begin, out };
}
