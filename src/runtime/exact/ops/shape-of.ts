/**
 * Ops that read only a tensor's shape (Shape, Size) and ConstantOfShape. Shapes are static in
 * Plumb's fixed-point models, so a circuit folds these to constants even when the tensor is not
 * (graph.ts uses `shapeOnlyValue`).
 */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrInt, nodeError } from '../attributes.ts';
import { constProto, intValues, size } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { OpImpl } from './op.ts';

/** Ops whose output depends only on their first input's shape. */
export const shapeOnlyOps: readonly string[] = ['Shape', 'Size'];

/** The (int64) output of a Shape or Size node on a tensor of shape `shape`. */
export function shapeOnlyValue(node: NodeProto, shape: readonly number[]): XTensor {
  if (node.opType === 'Size') return { shape: [], data: [BigInt(size(shape))], int: true };
  if (node.opType !== 'Shape') throw nodeError(node, 'not a shape-only op');
  // opset 15: optional start/end, negative counts from the back, both clamped to [0, rank].
  const r = shape.length;
  const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
  const start = clamp(attrInt(node, 'start', 0));
  const end = clamp(attrInt(node, 'end', r));
  const dims = shape.slice(start, Math.max(start, end)).map(BigInt);
  return { shape: [dims.length], data: dims, int: true };
}

const shapeOnly: OpImpl =
  ({ node }) =>
  (inputs) => [shapeOnlyValue(node, inputs.get(0).shape)];

const constantOfShape: OpImpl = ({ node, scale }) => {
  const a = node.attribute.find((x) => x.name === 'value');
  // Default: a float 0, which is 0 at any scale.
  const fill: XTensor = a?.t ? constProto(a.t, scale) : { shape: [1], data: [0n], int: false };
  if (fill.data.length !== 1) throw nodeError(node, 'value must hold exactly one element');
  return (inputs) => {
    const dims = intValues(inputs.get(0), node, 'shape');
    if (dims.some((d) => !Number.isInteger(d) || d < 0))
      throw nodeError(node, `bad shape [${dims.join(', ')}]`);
    return [{ shape: dims, data: new Array<bigint>(size(dims)).fill(fill.data[0]!), int: fill.int }];
  };
};

export const shapeOfOps: Record<string, OpImpl> = {
  Shape: shapeOnly,
  Size: shapeOnly,
  ConstantOfShape: constantOfShape,
};
