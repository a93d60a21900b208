/**
 * Shape, Size and ConstantOfShape: in the executor as onnxruntime computes them, and folded to
 * constants in circuits even when their input is not a constant (shapes are static), so shape
 * subgraphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as exporters write them) prove.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  assertNearOrt,
  assertWitnessExact,
  buildCase,
  i64,
  node,
  type OpCase,
} from '../../../test/helpers/zk-witness.ts';
import { releaseZk } from './setup.ts';

const EPS = 2 ** -13;
const work = mkdtempSync(join(tmpdir(), 'plumb-zk-shape-of-'));

const cases: OpCase[] = [
  {
    name: 'x + ConstantOfShape(Shape(x), 0.75)',
    shapes: [[2, 3]],
    nodes: [
      node('Shape', ['x'], undefined, ['s']),
      {
        op: 'ConstantOfShape',
        name: 'cos',
        inputs: ['s'],
        outputs: ['c'],
        attrs: { value: { tensor: { dtype: 'float32', shape: [1], data: Float32Array.from([0.75]) } } },
      },
      node('Add', ['x', 'c']),
    ],
    tol: 2 * EPS,
  },
  {
    // The exporter pattern: batch = Shape(x)[0]; Reshape(x, Concat(batch, -1)).
    name: 'Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) with Shape start/end and Size',
    shapes: [[2, 3, 2]],
    opset: 15,
    nodes: [
      node('Shape', ['x'], { start: { int: 0 }, end: { int: -1 } }, ['s']),
      node('Gather', ['s', 'zero'], { axis: { int: 0 } }, ['b']),
      node('Unsqueeze', ['b', 'axes'], undefined, ['b1']),
      node('Concat', ['b1', 'minus1'], { axis: { int: 0 } }, ['spec']),
      node('Reshape', ['x', 'spec'], undefined, ['r']),
      node('Size', ['x'], undefined, ['n']),
      node('Cast', ['n'], { to: { int: 1 } }, ['nf']),
      node('Mul', ['r', 'nf']),
    ],
    initializers: { zero: i64([], [0]), axes: i64([1], [0]), minus1: i64([1], [-1]) },
    tol: 12 * 4 * EPS,
  },
];

describe('Shape, Size, ConstantOfShape in the executor and in circuits', { timeout: 60_000 }, () => {
  after(async () => {
    await releaseZk();
    rmSync(work, { recursive: true, force: true });
  });
  for (const [i, c] of cases.entries())
    it(c.name, async (t) => {
      const { bytes, inputs } = buildCase(c, 40 + i);
      const err = await assertNearOrt(bytes, inputs, c.tol);
      const { constraints } = await assertWitnessExact(bytes, inputs, join(work, `c${i}`));
      t.diagnostic(`${c.name}: max |err| vs onnxruntime ${err.toExponential(2)}, ${constraints} constraints`);
    });
});
