/**
 * Comparisons and selection: Less, LessOrEqual, Greater, GreaterOrEqual, Equal (bool results,
 * carried as unscaled 0/1 integers), Not, And, Or, Xor, and Where. Comparisons of scaled values
 * compare the integers at 2^s (the executor's values, not the float inputs).
 */
import { nodeError } from '../attributes.ts';
import { asFixed, binary, broadcastIndex, broadcastShape, size } from '../tensor.ts';
import type { XTensor } from '../types.ts';
import type { OpImpl } from './op.ts';

const b = (v: boolean) => (v ? 1n : 0n);

function compare(fn: (p: bigint, q: bigint) => boolean): OpImpl {
  return ({ node, s }) =>
    (inputs) => {
      const x = inputs.get(0);
      const y = inputs.get(1);
      const int = x.int && y.int;
      const [p, q] = int ? [x, y] : [asFixed(x, s), asFixed(y, s)];
      return [binary(p, q, node, true, (u, v) => b(fn(u, v)))];
    };
}

function logical(fn: (p: boolean, q: boolean) => boolean): OpImpl {
  return ({ node }) =>
    (inputs) => [binary(inputs.get(0), inputs.get(1), node, true, (u, v) => b(fn(u !== 0n, v !== 0n)))];
}

const where: OpImpl =
  ({ node, s }) =>
  (inputs) => {
    const c = inputs.get(0);
    const x = inputs.get(1);
    const y = inputs.get(2);
    if (!c.int) throw nodeError(node, 'the condition must be a bool tensor');
    const int = x.int && y.int;
    const [p, q] = int ? [x, y] : [asFixed(x, s), asFixed(y, s)];
    const shape = broadcastShape(broadcastShape(c.shape, p.shape, node), q.shape, node);
    const [ic, ip, iq] = [c, p, q].map((t) => broadcastIndex(t.shape, shape)) as [
      Int32Array,
      Int32Array,
      Int32Array,
    ];
    const data = Array.from({ length: size(shape) }, (_, k) =>
      c.data[ic[k]!]! !== 0n ? p.data[ip[k]!]! : q.data[iq[k]!]!,
    );
    return [{ shape, data, int } satisfies XTensor];
  };

export const logicOps: Record<string, OpImpl> = {
  Less: compare((p, q) => p < q),
  LessOrEqual: compare((p, q) => p <= q),
  Greater: compare((p, q) => p > q),
  GreaterOrEqual: compare((p, q) => p >= q),
  Equal: compare((p, q) => p === q),
  Not: () => (inputs) => {
    const x = inputs.get(0);
    return [{ shape: x.shape, data: x.data.map((v) => b(v === 0n)), int: true }];
  },
  And: logical((p, q) => p && q),
  Or: logical((p, q) => p || q),
  Xor: logical((p, q) => p !== q),
  Where: where,
};
