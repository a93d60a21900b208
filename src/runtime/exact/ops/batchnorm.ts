/** BatchNormalization (inference), folded at compile time to y = x*a + b per channel. */
import { tensorFromProto } from '../../../core/onnx/tensor-proto.ts';
import type { NodeProto, TensorProto } from '../../../core/onnx/types.ts';
import { attrFloat, nodeError } from '../attributes.ts';
import { f32BitsToRational, f32ToRational, foldBatchNorm, type Rational, rshiftRound } from '../fixed.ts';
import { asFixed, size } from '../tensor.ts';
import type { OpImpl } from './op.ts';

/**
 * Reads a BatchNormalization node's float32 initializers (scale, B, mean, var) and epsilon and
 * folds them per channel with `foldBatchNorm` at scale 2^scale; rejects training-mode outputs.
 */
export function foldBatchNormNode(
  node: NodeProto,
  initializers: ReadonlyMap<string, TensorProto>,
  scale: number,
): { a: bigint; b: bigint }[] {
  if (node.output.filter((o) => o).length > 1)
    throw nodeError(node, 'training mode outputs are not supported');
  const params = [1, 2, 3, 4].map((i) => {
    const t = initializers.get(node.input[i] ?? '');
    if (!t) throw nodeError(node, `input ${i} must be an initializer`);
    const f = tensorFromProto(t, 'INVALID_MODEL');
    if (f.dtype !== 'float32') throw nodeError(node, 'parameters must be float32');
    const bits = new Uint32Array(f.data.buffer, f.data.byteOffset, f.data.length);
    return Array.from(bits, f32BitsToRational);
  }) as [Rational[], Rational[], Rational[], Rational[]];
  const eps = f32ToRational(attrFloat(node, 'epsilon', 1e-5));
  return params[0].map((sc, c) => foldBatchNorm(sc, params[1][c]!, params[2][c]!, params[3][c]!, eps, scale));
}

const batchNormalization: OpImpl = ({ node, scale, s, initializers }) => {
  const folded = foldBatchNormNode(node, initializers, scale);
  return (inputs) => {
    const x = asFixed(inputs.get(0), s);
    const C = x.shape[1] ?? 1;
    if (C !== folded.length) throw nodeError(node, `expected ${folded.length} channels, got ${C}`);
    const inner = size(x.shape.slice(2));
    const data = x.data.map((v, i) => {
      const f = folded[Math.floor(i / inner) % C]!;
      return rshiftRound(v * f.a, s) + f.b;
    });
    return [{ shape: x.shape, data, int: false }];
  };
};

export const batchNormOps: Record<string, OpImpl> = { BatchNormalization: batchNormalization };
