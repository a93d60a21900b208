/**
 * Comparisons, logic, Where and bool Casts in circuits (logic.ts): witness outputs EQUAL the
 * exact executor's integers, the executor is within a quantization step of onnxruntime (values
 * are selected, not computed; a comparison can only differ within EPS of a tie, which random
 * inputs do not hit), integer inputs work (ezkl 1l_where), and bool tensors are refused by ops
 * that do not expect them.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildModel } from '../../../test/fixtures/onnx-builder.ts';
import { ezklModels, loadEzklCase } from '../../../test/helpers/ezkl.ts';
import {
  assertWitnessExact,
  EPS,
  f32,
  i64,
  itOpCases,
  node,
  type OpCase,
  zkWorkDir,
} from '../../../test/helpers/zk-witness.ts';
import { isPlumbError } from '../../core/errors.ts';
import { compileCircuit } from './circuit.ts';

const cases: OpCase[] = [
  {
    name: 'Less -> Not -> Where with constant branches (as ezkl 1l_where, float input)',
    shapes: [[2, 4]],
    nodes: [
      node('Less', ['x', 'z'], undefined, ['lt']),
      node('Not', ['lt'], undefined, ['ge']),
      node('Where', ['ge', 'three', 'five']),
    ],
    initializers: { z: f32([], [0]), three: f32([], [3]), five: f32([1, 4], [5, -5, 0.5, 0]) },
    tol: 0,
  },
  {
    name: 'Greater / LessOrEqual / GreaterOrEqual of two inputs -> And, Or, Xor -> Where of two inputs',
    shapes: [[2, 3], [3]],
    nodes: [
      node('Greater', ['x', 'x2'], undefined, ['gt']),
      node('LessOrEqual', ['x', 'h'], undefined, ['le']),
      node('GreaterOrEqual', ['x2', 'z'], undefined, ['ge']),
      node('And', ['gt', 'le'], undefined, ['a']),
      node('Or', ['a', 'ge'], undefined, ['o']),
      node('Xor', ['o', 'gt'], undefined, ['c']),
      node('Where', ['c', 'x', 'x2']),
    ],
    initializers: { z: f32([], [0]), h: f32([], [1]) },
    tol: EPS,
  },
  {
    name: 'Equal (is-zero) of Relu to 0 -> Where; bool Cast to float; float Cast to bool',
    shapes: [[3, 3]],
    nodes: [
      node('Relu', ['x'], undefined, ['r']),
      node('Equal', ['r', 'z'], undefined, ['eq']),
      node('Cast', ['eq'], { to: { int: 1 } }, ['ef']),
      node('Cast', ['r'], { to: { int: 9 } }, ['rb']),
      node('Cast', ['rb'], { to: { int: 1 } }, ['rf']),
      node('Where', ['eq', 'x', 'ef'], undefined, ['w']),
      node('Add', ['w', 'rf']),
    ],
    initializers: { z: f32([], [0]) },
    tol: EPS,
  },
  {
    name: 'bool tensors through Transpose, Reshape, Concat and Gather, then Where',
    shapes: [[2, 3]],
    nodes: [
      node('Less', ['x', 'h'], undefined, ['lt']),
      node('Transpose', ['lt'], undefined, ['t']),
      node('Reshape', ['t', 'sh'], undefined, ['r']),
      node('Concat', ['r', 'r'], { axis: { int: 0 } }, ['c']),
      node('Gather', ['c', 'ix'], undefined, ['g']),
      node('Where', ['g', 'k', 'x']),
    ],
    initializers: { h: f32([], [0.5]), sh: i64([2], [2, 3]), ix: i64([2], [3, 0]), k: f32([], [7]) },
    tol: EPS,
  },
  {
    name: 'integer path: Less -> Cast int32 -> MatMul (int32 constant) -> Cast float; ArgMax -> Gather by it',
    shapes: [[2, 4]],
    nodes: [
      node('Less', ['x', 'z'], undefined, ['lt']),
      node('Cast', ['lt'], { to: { int: 6 } }, ['li']),
      node('MatMul', ['li', 'w'], undefined, ['m']),
      node('Cast', ['m'], { to: { int: 7 } }, ['m64']),
      node('Cast', ['m64'], { to: { int: 1 } }, ['mf']),
      node('ArgMax', ['x'], { axis: { int: 1 }, keepdims: { int: 0 } }, ['am']),
      node('Gather', ['table', 'am'], undefined, ['g']),
      node('Concat', ['mf', 'g'], { axis: { int: 1 } }),
    ],
    initializers: {
      z: f32([], [0]),
      w: { dtype: 'int32', shape: [4, 3], data: Int32Array.from([1, -2, 3, 0, 5, 1, -1, 1, 2, 7, 0, -3]) },
      table: f32([4, 2], [0.5, -1, 2, 3.25, -0.75, 0, 1.5, -2]),
    },
    tol: EPS,
  },
  {
    name: 'integer arithmetic: ArgMax -> Add, Mul (of two integer tensors), Sub, Neg -> Cast float',
    shapes: [[3, 4]],
    nodes: [
      node('ArgMax', ['x'], { axis: { int: 1 } }, ['am']),
      node('Add', ['am', 'one'], undefined, ['a']),
      node('Mul', ['a', 'am'], undefined, ['m']),
      node('Sub', ['m', 'five'], undefined, ['d']),
      node('Neg', ['d'], undefined, ['n']),
      node('Cast', ['n'], { to: { int: 1 } }),
    ],
    initializers: { one: i64([], [1]), five: i64([1, 1], [5]) },
    tol: 0,
  },
  {
    // Exact values (integers, ties): no error beyond the input quantization away from ties.
    name: 'Round half to even (ties from Floor + 0.5, and random values), Cast float -> int32 -> float',
    shapes: [[2, 5]],
    nodes: [
      node('Floor', ['x'], undefined, ['f']),
      node('Add', ['f', 'half'], undefined, ['t']),
      node('Round', ['t'], undefined, ['rt']),
      node('Round', ['x'], undefined, ['rx']),
      node('Cast', ['x'], { to: { int: 6 } }, ['ci']),
      node('Cast', ['ci'], { to: { int: 1 } }, ['cf']),
      node('Concat', ['rt', 'rx', 'cf'], { axis: { int: 0 } }),
    ],
    initializers: { half: f32([], [0.5]) },
    tol: 0,
  },
  {
    name: 'bool tensors through Split, Trilu and GatherElements, then Where',
    shapes: [[2, 4]],
    opset: 18,
    nodes: [
      node('Less', ['x', 'z'], undefined, ['lt']),
      node('Split', ['lt'], { axis: { int: 1 }, num_outputs: { int: 2 } }, ['p', 'q']),
      node('Concat', ['q', 'p'], { axis: { int: 1 } }, ['c']),
      node('Trilu', ['c'], undefined, ['t']),
      node('GatherElements', ['t', 'ix'], { axis: { int: 1 } }, ['g']),
      node('Where', ['g', 'x', 'k']),
    ],
    initializers: { z: f32([], [0]), ix: i64([2, 4], [3, 2, 1, 0, 0, 0, 1, -1]), k: f32([], [-9]) },
    tol: EPS,
  },
];

describe('zk comparison and logic ops equal the exact executor', { timeout: 600_000 }, () => {
  const work = zkWorkDir('plumb-zk-logic-');
  itOpCases(cases, 90, work);

  it('ezkl 1l_where (int64 input -> Cast -> Less -> Not -> Where): witness outputs equal the executor', {
    skip: ezklModels().length > 0 ? false : 'no corpus',
  }, async (t) => {
    const c = loadEzklCase('1l_where');
    assert.equal(c.inputs['input']!.dtype, 'int64');
    const { constraints } = await assertWitnessExact(c.bytes, c.inputs, join(work, '1l_where'));
    t.diagnostic(`1l_where: ${constraints} constraints`);
  });

  it('ezkl decision_tree (integer MatMul, Equal, ArgMax, Gather by computed indices): witness outputs equal the executor', {
    skip: ezklModels().length > 0 ? false : 'no corpus',
  }, async (t) => {
    const c = loadEzklCase('decision_tree');
    const { constraints } = await assertWitnessExact(c.bytes, c.inputs, join(work, 'decision_tree'));
    t.diagnostic(`decision_tree: ${constraints} constraints`);
  });

  it('refuses bool tensors where values at 2^s are expected, naming the node', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: null }],
      nodes: [
        node('Less', ['x', 'z'], undefined, ['lt']),
        node('Cast', ['lt'], { to: { int: 7 } }, ['i']),
        node('Relu', ['i']),
      ],
      initializers: { z: f32([], [0]) },
    });
    assert.throws(
      () => compileCircuit(bytes),
      (e: unknown) =>
        isPlumbError(e) &&
        /Relu node "relu": a non-constant integer or bool tensor input is not supported/.test(e.message),
    );
  });
});
