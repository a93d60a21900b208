/**
 * ConvTranspose (runtime/exact/ops/conv-transpose.ts, zk/conv-transpose.ts): the executor is
 * within its rounding bound of onnxruntime, the circuit's witness outputs EQUAL the executor's
 * integers, unsupported padding conventions are refused naming the node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildModel } from '../../../test/fixtures/onnx-builder.ts';
import { EPS, f32, itOpCases, node, type OpCase, rand, zkWorkDir } from '../../../test/helpers/zk-witness.ts';
import { isPlumbError } from '../../core/errors.ts';
import { compileCircuit } from './circuit.ts';

const cases: OpCase[] = [
  {
    // Up to 9 taps with |w| <= 0.5, |x| <= 3: 9 (0.5 + 3) EPS, one rounding, the bias: 2 EPS.
    name: '2-D, group 2, strides, pads, dilations, output_padding, bias',
    shapes: [[1, 2, 3, 3]],
    nodes: [
      node('ConvTranspose', ['x', 'w', 'b'], {
        group: { int: 2 },
        strides: { ints: [2, 1] },
        pads: { ints: [1, 0, 0, 1] },
        dilations: { ints: [1, 2] },
        output_padding: { ints: [1, 0] },
      }),
    ],
    initializers: { w: f32([2, 2, 3, 2], rand(5, 24, 0.5)), b: f32([4], [0.25, -0.5, 0.125, 1]) },
    tol: 9 * 3.5 * EPS + 2 * EPS,
  },
  {
    name: '1-D, VALID, no bias',
    shapes: [[1, 3, 4]],
    nodes: [node('ConvTranspose', ['x', 'w'], { auto_pad: { string: 'VALID' }, strides: { ints: [2] } })],
    initializers: { w: f32([3, 2, 3], rand(6, 18, 0.5)) },
    tol: 9 * 3.5 * EPS + 2 * EPS,
  },
];

describe('ConvTranspose: executor near onnxruntime, circuit equal to the executor', {
  timeout: 600_000,
}, () => {
  const work = zkWorkDir('plumb-zk-convt-');
  itOpCases(cases, 120, work);

  it('refuses output_shape, SAME padding and non-constant weights, naming the node', () => {
    const refuse = (attrs: Parameters<typeof node>[2], weightInput: boolean, re: RegExp) => {
      const bytes = buildModel({
        inputs: [
          { name: 'x', dtype: 'float32', shape: [1, 1, 2, 2] },
          ...(weightInput ? [{ name: 'w', dtype: 'float32' as const, shape: [1, 1, 2, 2] }] : []),
        ],
        outputs: [{ name: 'y', dtype: 'float32', shape: null }],
        nodes: [node('ConvTranspose', ['x', 'w'], attrs)],
        initializers: weightInput ? {} : { w: f32([1, 1, 2, 2], [1, 2, 3, 4]) },
      });
      assert.throws(
        () => compileCircuit(bytes),
        (e: unknown) => isPlumbError(e) && re.test(e.message),
      );
    };
    refuse({ output_shape: { ints: [4, 4] } }, false, /ConvTranspose node "convtranspose": the output_shape/);
    refuse(
      { auto_pad: { string: 'SAME_UPPER' } },
      false,
      /ConvTranspose node "convtranspose": auto_pad SAME_UPPER/,
    );
    refuse(undefined, true, /ConvTranspose node "convtranspose": the weight and bias must be constants/);
  });
});
