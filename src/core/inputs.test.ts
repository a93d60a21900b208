import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPlumbError } from './errors.ts';
import { checkInputs, parseInputs } from './inputs.ts';
import type { TensorInfo } from './manifest.ts';
import { tensorFromJson } from './tensor.ts';

const declared: TensorInfo[] = [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }];

const fails = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => isPlumbError(e, 'INVALID_INPUT') && pattern.test(e.shortMessage));

test('ezkl input.json takes the model order and resolves symbolic dims', () => {
  const t = parseInputs({ input_data: [[1, 2, 3, 4, 5, 6]] }, declared);
  assert.deepEqual(t['x']!.shape, [2, 3]);
  const hinted = parseInputs({ input_data: [[1, 2, 3]], input_shapes: [[1, 3]] }, declared);
  assert.deepEqual(hinted['x']!.shape, [1, 3]);
  fails(() => parseInputs({ input_data: [[1, 2]] }, declared), /cannot tell the shape/);
  fails(() => parseInputs({ input_data: [[1], [2]] }, declared), /has 2 arrays, the model takes 1/);
});

test('checkInputs names the missing, unknown, mistyped or misshapen input', () => {
  const ok = tensorFromJson({ dtype: 'float32', shape: [4, 3], data: new Array(12).fill(0) });
  checkInputs(declared, { x: ok });
  fails(() => checkInputs(declared, {}), /missing input "x" \(float32 \[batch, 3\]\)/);
  fails(() => checkInputs(declared, { x: ok, y: ok }), /unknown input "y"/);
  const int = tensorFromJson({ dtype: 'int32', shape: [1, 3], data: [1, 2, 3] });
  fails(() => checkInputs(declared, { x: int }), /dtype int32, the model wants float32/);
  const wide = tensorFromJson({ dtype: 'float32', shape: [1, 4], data: [1, 2, 3, 4] });
  fails(() => checkInputs(declared, { x: wide }), /differs from the model's \[batch, 3\] at dimension 1/);
  const flat = tensorFromJson({ dtype: 'float32', shape: [3], data: [1, 2, 3] });
  fails(() => checkInputs(declared, { x: flat }), /rank 1/);
});

test('a symbolic dimension must agree across inputs', () => {
  const two: TensorInfo[] = [
    { name: 'a', dtype: 'float32', shape: ['n'] },
    { name: 'b', dtype: 'float32', shape: ['n'] },
  ];
  const a = tensorFromJson({ dtype: 'float32', shape: [2], data: [1, 2] });
  const b = tensorFromJson({ dtype: 'float32', shape: [3], data: [1, 2, 3] });
  fails(() => checkInputs(two, { a, b }), /dimension "n" is 3 here but 2/);
});
