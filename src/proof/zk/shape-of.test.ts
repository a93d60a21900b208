/**
 * Shape, Size and ConstantOfShape: in the executor as onnxruntime computes them, and folded to
 * constants in circuits even when their input is not a constant (shapes are static), so shape
 * subgraphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as exporters write them) prove.
 */
import { describe } from 'node:test';
import { EPS, i64, itOpCases, node, type OpCase, zkWorkDir } from '../../../test/helpers/zk-witness.ts';

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
  const work = zkWorkDir('plumb-zk-shape-of-');
  itOpCases(cases, 40, work);
});
