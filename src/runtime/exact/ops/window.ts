/** Sliding-window geometry (strides, dilations, pads, auto_pad, ceil_mode) shared by Conv and pools. */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrInt, attrInts, attrString, nodeError } from '../attributes.ts';

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

/** A 2-D NCHW sliding window, unpacked: input N, C, H, W; kernel KH, KW; output OH, OW. */
export type Window2D = {
  N: number;
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  OH: number;
  OW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** Begin pads (rows, columns). */
  ph: number;
  pw: number;
};

function unpack2D(nchw: number[], kernel: number[], g: Window): Window2D {
  const [N, C, H, W] = nchw as [number, number, number, number];
  const [KH, KW] = kernel as [number, number];
  const [OH, OW] = g.out as [number, number];
  const [sh, sw] = g.strides as [number, number];
  const [dh, dw] = g.dilations as [number, number];
  const [ph, pw] = g.begin as [number, number];
  return { N, C, H, W, KH, KW, OH, OW, sh, sw, dh, dw, ph, pw };
}

/**
 * MaxPool / AveragePool geometry for an NCHW input of `shape` (attributes kernel_shape,
 * strides, dilations, pads, auto_pad, ceil_mode, count_include_pad); rejects the Indices output.
 */
export function poolGeometry(node: NodeProto, shape: number[]): Window2D & { includePad: boolean } {
  if (shape.length !== 4) throw nodeError(node, 'only 2-D pooling (NCHW) is supported');
  if (node.output.filter((o) => o).length > 1) throw nodeError(node, 'the Indices output is not supported');
  const kernel = attrInts(node, 'kernel_shape');
  if (kernel?.length !== 2) throw nodeError(node, 'kernel_shape must have 2 values');
  const g = windowGeometry(node, shape.slice(2), kernel, attrInt(node, 'ceil_mode', 0) === 1);
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  return { ...unpack2D(shape, kernel, g), includePad };
}

/**
 * Conv geometry for an NCHW input of `xShape` and an (M, C/group, KH, KW) weight of `wShape`
 * (attributes group, strides, dilations, pads, auto_pad).
 */
export function convGeometry(
  node: NodeProto,
  xShape: number[],
  wShape: number[],
): Window2D & { M: number; CG: number; group: number } {
  if (xShape.length !== 4 || wShape.length !== 4)
    throw nodeError(node, 'only 2-D convolution (NCHW) is supported');
  const [M, CG, KH, KW] = wShape as [number, number, number, number];
  const group = attrInt(node, 'group', 1);
  if (CG * group !== xShape[1] || M % group !== 0)
    throw nodeError(node, 'channels do not match the weight and group');
  const g = windowGeometry(node, xShape.slice(2), [KH, KW], false);
  return { ...unpack2D(xShape, [KH, KW], g), M, CG, group };
}
