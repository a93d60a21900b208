/**
 * Rewiring ops in circuits (shape-ops.ts): for built models with random inputs, the circuit's
 * witness outputs EQUAL the exact executor's integers and the executor is within one
 * quantization step of onnxruntime (values are only moved); invalid uses are refused naming the
 * node. The corpus models these ops make provable (1l_pad, 1l_average, 1l_concat, 1l_slice,
 * 1l_upsample, linear_regression, sklearn_mlp) are proven end to end, equal to the executor, by
 * test/zk-corpus.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildModel, type NodeSpec } from '../../../test/fixtures/onnx-builder.ts';
import { f32, i64, itOpCases, node, type OpCase, zkWorkDir } from '../../../test/helpers/zk-witness.ts';
import { isPlumbError } from '../../core/errors.ts';
import type { Tensor } from '../../core/tensor.ts';
import { compileCircuit } from './circuit.ts';

/** Values only move: the executor differs from onnxruntime by the input quantization only. */
const MOVED = 2 ** -13;
const EPS = MOVED;

const cases: OpCase[] = [
  {
    name: 'Pad constant (value input) -> Slice (negative steps) -> Transpose',
    shapes: [[1, 2, 3, 4]],
    nodes: [
      node('Pad', ['x', 'p', 'v'], undefined, ['a']),
      node('Slice', ['a', 'st', 'en', 'ax', 'sp'], undefined, ['b']),
      node('Transpose', ['b'], { perm: { ints: [3, 1, 0, 2] } }),
    ],
    initializers: {
      p: i64([8], [0, 1, 1, 0, 0, 0, 2, 1]),
      v: f32([], [-1.75]),
      st: i64([2], [-1, 4]),
      en: i64([2], [-100, 0]),
      ax: i64([2], [3, 2]),
      sp: i64([2], [-2, -1]),
    },
    tol: MOVED,
  },
  ...(['reflect', 'edge'] as const).map((mode) => ({
    name: `Pad ${mode} (opset 11)`,
    shapes: [[1, 1, 3, 3]],
    opset: 11,
    nodes: [node('Pad', ['x', 'p'], { mode: { string: mode } })],
    initializers: { p: i64([8], [0, 0, 2, 1, 0, 0, 1, 2]) },
    tol: MOVED,
  })),
  {
    name: 'Pad opset 10 (attributes) -> Gather (2-D negative indices, axis 1)',
    shapes: [[2, 3, 2]],
    opset: 10,
    nodes: [
      node('Pad', ['x'], { pads: { ints: [0, 1, 0, 0, 1, 0] }, value: { float: 0.5 } }, ['a']),
      node('Gather', ['a', 'ix'], { axis: { int: 1 } }),
    ],
    initializers: { ix: i64([2, 2], [-1, 0, 2, 1]) },
    tol: MOVED,
  },
  {
    name: 'Concat of two inputs and a constant (axis -1)',
    shapes: [
      [2, 2],
      [2, 3],
    ],
    nodes: [node('Concat', ['x', 'k', 'x2'], { axis: { int: -1 } })],
    initializers: { k: f32([2, 1], [0.25, -4]) },
    tol: MOVED,
  },
  {
    name: 'Squeeze/Unsqueeze (opset 11 attributes) -> Expand -> Tile',
    shapes: [[1, 3, 1]],
    opset: 11,
    nodes: [
      node('Squeeze', ['x'], { axes: { ints: [0, 2] } }, ['a']),
      node('Unsqueeze', ['a'], { axes: { ints: [-1] } }, ['b']),
      node('Expand', ['b', 'sh'], undefined, ['c']),
      node('Tile', ['c', 'r']),
    ],
    initializers: { sh: i64([3], [2, 3, 2]), r: i64([3], [1, 2, 1]) },
    tol: MOVED,
  },
  {
    name: 'Squeeze/Unsqueeze (opset 13 inputs) -> Cast float -> double -> float',
    shapes: [[2, 1, 3]],
    opset: 13,
    nodes: [
      node('Squeeze', ['x', 'a1'], undefined, ['a']),
      node('Unsqueeze', ['a', 'a0'], undefined, ['b']),
      node('Cast', ['b'], { to: { int: 11 } }, ['c']),
      node('Cast', ['c'], { to: { int: 1 } }),
    ],
    initializers: { a1: i64([1], [1]), a0: i64([2], [0, 3]) },
    tol: MOVED,
  },
  {
    name: 'Resize nearest (half_pixel, sizes)',
    shapes: [[1, 1, 2, 3]],
    nodes: [node('Resize', ['x', '', '', 'sz'], { mode: { string: 'nearest' } })],
    initializers: { sz: i64([4], [1, 1, 5, 4]) },
    tol: MOVED,
  },
  {
    name: 'Dropout (inference, ratio input) -> Transpose',
    shapes: [[2, 3]],
    nodes: [node('Dropout', ['x', 'r'], undefined, ['d']), node('Transpose', ['d'])],
    initializers: { r: f32([], [0.3]) },
    tol: MOVED,
  },
  {
    name: 'Split (opset 18 num_outputs, uneven) into three, reordered by Concat',
    shapes: [[2, 5]],
    opset: 18,
    nodes: [
      node('Split', ['x'], { axis: { int: 1 }, num_outputs: { int: 3 } }, ['a', 'b', 'c']),
      node('Concat', ['c', 'a', 'b'], { axis: { int: 1 } }),
    ],
    tol: MOVED,
  },
  {
    name: 'DepthToSpace (CRD) -> SpaceToDepth -> GatherElements -> Trilu',
    shapes: [[1, 4, 2, 2]],
    nodes: [
      node('DepthToSpace', ['x'], { blocksize: { int: 2 }, mode: { string: 'CRD' } }, ['d']),
      node('SpaceToDepth', ['d'], { blocksize: { int: 2 } }, ['s']),
      node('GatherElements', ['s', 'ix'], { axis: { int: 1 } }, ['g']),
      node('Trilu', ['g', 'k']),
    ],
    initializers: { ix: i64([1, 2, 2, 2], [3, 0, -1, 2, 1, 1, 0, 3]), k: i64([], [1]) },
    tol: MOVED,
  },
  {
    // 4 taps: weights quantized (EPS each) times |x| <= 3, the input's EPS, one rounding.
    name: 'Resize linear (half_pixel, NCHW) and Upsample linear (2-D)',
    shapes: [[1, 1, 3, 2]],
    nodes: [
      node('Resize', ['x', '', 'sc'], { mode: { string: 'linear' } }, ['r']),
      node('Reshape', ['r', 'sh'], undefined, ['r2']),
      node('Resize', ['r2', '', 'sc2'], {
        mode: { string: 'linear' },
        coordinate_transformation_mode: { string: 'align_corners' },
      }),
    ],
    initializers: { sc: f32([4], [1, 1, 2, 1.5]), sh: i64([2], [6, 3]), sc2: f32([2], [0.5, 2]) },
    tol: 2 * (4 * 3 * EPS + 2 * EPS),
  },
  {
    name: 'ScatterND (non-constant updates) -> ScatterElements (constant updates)',
    shapes: [
      [3, 4],
      [1, 4],
    ],
    nodes: [
      node('ScatterND', ['x', 'ir', 'x2'], undefined, ['a']),
      node('ScatterElements', ['a', 'ie', 'ue'], { axis: { int: 1 } }),
    ],
    initializers: { ir: i64([1, 1], [-2]), ie: i64([3, 1], [2, -1, 0]), ue: f32([3, 1], [9, 8, 7]) },
    tol: MOVED,
  },
  {
    name: 'Upsample nearest (opset 9)',
    shapes: [[1, 2, 2, 2]],
    opset: 9,
    nodes: [node('Upsample', ['x', 'sc'], { mode: { string: 'nearest' } })],
    initializers: { sc: f32([4], [1, 1, 2, 3]) },
    tol: MOVED,
  },
];

describe('zk rewiring ops equal the exact executor', { timeout: 600_000 }, () => {
  const work = zkWorkDir('plumb-zk-shape-');
  itOpCases(cases, 40, work);

  it('refuses non-constant indices, pads and shapes, naming the node', () => {
    const refuse = (nodes: NodeSpec[], initializers: Record<string, Tensor>, re: RegExp) => {
      const bytes = buildModel({
        inputs: [
          { name: 'x', dtype: 'float32', shape: [2, 2] },
          { name: 'x2', dtype: 'float32', shape: [2] },
        ],
        outputs: [{ name: 'y', dtype: 'float32', shape: null }],
        nodes,
        initializers,
      });
      assert.throws(
        () => compileCircuit(bytes),
        (e: unknown) => isPlumbError(e) && e.code === 'INVALID_MODEL' && re.test(e.message),
      );
    };
    const toInt = (name: string) => node('Cast', [name], { to: { int: 7 } }, [`${name}i`]);
    refuse(
      [toInt('x2'), node('Pad', ['x', 'x2i'])],
      {},
      /Pad node "pad": input 1 \("x2i"\) must be a constant in circuits/,
    );
    refuse(
      [node('Pad', ['x', 'p', 'x2'])],
      { p: i64([4], [0, 1, 0, 1]) },
      /Pad node "pad": input 2 \("x2"\) must be a constant in circuits/,
    );
    refuse(
      [node('Gather', ['k', 'x'])],
      { k: f32([3], [1, 2, 3]) },
      /Gather node "gather": input 1 \("x"\) must be a constant/,
    );
    refuse(
      [node('Resize', ['x', '', 'sc'], { mode: { string: 'cubic' } })],
      { sc: f32([2], [2, 2]) },
      /Resize node "resize": mode cubic is not supported/,
    );
    refuse([node('Expand', ['x', 'x2'])], {}, /Expand node "expand": input 1 \("x2"\) must be a constant/);
  });
});
