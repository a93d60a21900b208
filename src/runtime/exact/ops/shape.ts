/** Shape ops that move no values: Identity, Constant, Flatten, Reshape, Transpose, Squeeze, Unsqueeze. */
import type { NodeProto } from '../../../core/onnx/types.ts';
import { attrInt, attrInts, nodeError } from '../attributes.ts';
import { f32ToRational, quantizeF32Array, quantizeRational } from '../fixed.ts';
import { constProto, gatherByIndex, intValues, normAxis, size, strides } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { CompileContext, Inputs, OpImpl } from './op.ts';

const constant: OpImpl = ({ node, scale }) => {
  const a = node.attribute[0];
  let t: XTensor;
  if (a?.t) t = constProto(a.t, scale);
  else if (a?.name === 'value_float' && a.f !== undefined)
    t = { shape: [], data: [quantizeRational(f32ToRational(a.f), scale)], int: false };
  else if (a?.name === 'value_floats' && a.floats)
    t = { shape: [a.floats.length], data: quantizeF32Array(a.floats, scale), int: false };
  else if (a?.name === 'value_int' && a.i !== undefined) t = { shape: [], data: [a.i], int: true };
  else if (a?.name === 'value_ints' && a.ints) t = { shape: [a.ints.length], data: [...a.ints], int: true };
  else throw nodeError(node, `attribute ${a?.name ?? '(none)'} is not supported`);
  return () => [t];
};

/** Reshape's target shape: 0 copies the input dimension (unless allowzero), -1 is inferred. */
export function reshapeShape(node: NodeProto, from: readonly number[], spec: readonly number[]): number[] {
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const shape = spec.map((d, i) => (d === 0 && !allowZero ? from[i]! : d));
  const neg = shape.indexOf(-1);
  if (neg >= 0) {
    const known = shape.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    shape[neg] = known === 0 ? 0 : size(from) / known;
  }
  if (size(shape) !== size(from) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw nodeError(node, `cannot reshape [${from.join(', ')}] to [${spec.join(', ')}]`);
  return shape;
}

/** Flatten's 2-D shape around `axis`. */
export function flattenShape(node: NodeProto, from: readonly number[]): [number, number] {
  const r = from.length;
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) throw nodeError(node, `axis is out of range for rank ${r}`);
  return [size(from.slice(0, axis)), size(from.slice(axis))];
}

function transpose(node: NodeProto, x: XTensor): XTensor {
  const rank = x.shape.length;
  const perm = attrInts(node, 'perm') ?? x.shape.map((_, i) => rank - 1 - i);
  const st = strides(x.shape);
  const shape = perm.map((p) => x.shape[p]!);
  const pst = perm.map((p) => st[p]!);
  return gatherByIndex(x, shape, (c) => {
    let src = 0;
    for (let d = 0; d < rank; d++) src += c[d]! * pst[d]!;
    return src;
  });
}

/** Squeeze/Unsqueeze axes: an input from opset 13, an attribute before. */
function axesOf({ node, opset }: CompileContext, inputs: Inputs): number[] | undefined {
  if (opset < 13) return attrInts(node, 'axes');
  return inputs.opt(1) ? intValues(inputs.get(1), node, 'axes') : undefined;
}

const squeeze: OpImpl = (ctx) => (inputs) => {
  const { node } = ctx;
  const x = inputs.get(0);
  const axes = axesOf(ctx, inputs);
  const drop = new Set(
    (axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(a, x.shape.length, node)),
  );
  return [{ shape: x.shape.filter((_, i) => !drop.has(i)), data: x.data, int: x.int }];
};

const unsqueeze: OpImpl = (ctx) => (inputs) => {
  const { node } = ctx;
  const x = inputs.get(0);
  const axes = axesOf(ctx, inputs);
  if (!axes) throw nodeError(node, 'axes are required');
  const rank = x.shape.length + axes.length;
  const add = new Set(axes.map((a) => normAxis(a, rank, node)));
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(add.has(i) ? 1 : x.shape[j++]!);
  return [{ shape, data: x.data, int: x.int }];
};

export const shapeOps: Record<string, OpImpl> = {
  Identity: () => (inputs) => [inputs.get(0)],
  Constant: constant,
  Flatten:
    ({ node }) =>
    (inputs) => {
      const x = inputs.get(0);
      return [{ shape: flattenShape(node, x.shape), data: x.data, int: x.int }];
    },
  Reshape:
    ({ node }) =>
    (inputs) => {
      const x = inputs.get(0);
      return [
        {
          shape: reshapeShape(node, x.shape, intValues(inputs.get(1), node, 'shape')),
          data: x.data,
          int: x.int,
        },
      ];
    },
  Transpose:
    ({ node }) =>
    (inputs) => [transpose(node, inputs.get(0))],
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
};
