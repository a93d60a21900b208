/** Elementwise ops: Add, Sub, Mul, Div, Relu, LeakyRelu (Sigmoid, Tanh: nonlinear.ts). */
import { attrFloat } from '../attributes.ts';
import { divRound, f32ToRational, quantizeRational, rshiftRound } from '../fixed.ts';
import { asFixed, binary } from '../tensor.ts';
import type { OpImpl } from './op.ts';

function addSub(sign: bigint): OpImpl {
  return ({ node, s }) =>
    (inputs) => {
      const a = inputs.get(0);
      const b = inputs.get(1);
      const int = a.int && b.int;
      const [x, y] = int ? [a, b] : [asFixed(a, s), asFixed(b, s)];
      return [binary(x, y, node, int, (p, q) => p + sign * q)];
    };
}

const mul: OpImpl =
  ({ node, s }) =>
  (inputs) => {
    const a = inputs.get(0);
    const b = inputs.get(1);
    if (a.int || b.int) return [binary(a, b, node, a.int && b.int, (p, q) => p * q)];
    return [binary(a, b, node, false, (p, q) => rshiftRound(p * q, s))];
  };

const div: OpImpl =
  ({ node, s }) =>
  (inputs) => {
    const a = inputs.get(0);
    const b = inputs.get(1);
    if (a.int && b.int) return [binary(a, b, node, true, (p, q) => p / q)]; // ONNX integer Div truncates
    if (b.int) return [binary(a, b, node, false, (p, q) => divRound(p, q))];
    return [binary(asFixed(a, s), b, node, false, (p, q) => divRound(p << s, q))];
  };

const relu: OpImpl = () => (inputs) => {
  const x = inputs.get(0);
  return [{ shape: x.shape, data: x.data.map((v) => (v < 0n ? 0n : v)), int: x.int }];
};

const leakyRelu: OpImpl = ({ node, scale, s }) => {
  const alpha = quantizeRational(f32ToRational(attrFloat(node, 'alpha', 0.01)), scale);
  return (inputs) => {
    const x = asFixed(inputs.get(0), s);
    return [
      { shape: x.shape, data: x.data.map((v) => (v < 0n ? rshiftRound(v * alpha, s) : v)), int: false },
    ];
  };
};

export const elementwiseOps: Record<string, OpImpl> = {
  Add: addSub(1n),
  Sub: addSub(-1n),
  Mul: mul,
  Div: div,
  Relu: relu,
  LeakyRelu: leakyRelu,
};
