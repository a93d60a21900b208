import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPlumbError } from './errors.ts';
import { fromFloat16Bits, tensorFromJson, tensorToJson, toFloat16Bits } from './tensor.ts';

const rejects = (json: unknown, pattern: RegExp) =>
  assert.throws(
    () => tensorFromJson(json, 'x'),
    (e: unknown) => isPlumbError(e, 'INVALID_INPUT') && pattern.test(e.shortMessage),
  );

test('int64 round-trips beyond 2^53 without precision loss', () => {
  const big = '9007199254740993'; // 2^53 + 1
  const t = tensorFromJson({ dtype: 'int64', shape: [3], data: [big, -5, '-9223372036854775808'] });
  assert.equal(t.dtype, 'int64');
  assert.deepEqual(tensorToJson(t).data, [big, '-5', '-9223372036854775808']);
});

test('nested data is flattened row-major and checked against the shape', () => {
  const t = tensorFromJson({
    dtype: 'float32',
    shape: [2, 2],
    data: [
      [1, 2],
      [3, 4],
    ],
  });
  assert.deepEqual(Array.from(t.data as Float32Array), [1, 2, 3, 4]);
  rejects({ dtype: 'float32', shape: [2, 2], data: [[1, 2], [3]] }, /x\.data\[1\]: has length 1/);
});

test('non-finite floats travel as strings', () => {
  const t = tensorFromJson({ dtype: 'float64', shape: [3], data: ['NaN', 'Infinity', '-Infinity'] });
  assert.deepEqual(tensorToJson(t).data, ['NaN', 'Infinity', '-Infinity']);
});

test('bad values are refused with the field named', () => {
  rejects({ dtype: 'float32', shape: [2], data: [1, 'abc'] }, /x\.data\[1\]: expected a number, got "abc"/);
  rejects({ dtype: 'int8', shape: [1], data: [300] }, /out of range for int8/);
  rejects({ dtype: 'int32', shape: [1], data: [1.5] }, /expected an integer/);
  rejects({ dtype: 'int64', shape: [1], data: [2 ** 60] }, /decimal string/);
  rejects({ dtype: 'complex64', shape: [1], data: [1] }, /x\.dtype: expected one of/);
  rejects({ dtype: 'float32', shape: [-1], data: [] }, /x\.shape\[0\]/);
  rejects({ dtype: 'float32', shape: [3], data: [1, 2] }, /has 2 values, shape \[3\] needs 3/);
  rejects({ dtype: 'bool', shape: [1], data: ['yes'] }, /expected true or false/);
  rejects([1, 2], /expected an object/);
});

test('float16 conversion rounds to nearest even and keeps specials', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 2 ** -24])
    assert.equal(fromFloat16Bits(toFloat16Bits(v)), v);
  assert.equal(toFloat16Bits(1 + 2 ** -11), toFloat16Bits(1)); // tie -> even
  assert.equal(fromFloat16Bits(toFloat16Bits(1e6)), Number.POSITIVE_INFINITY);
  assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(Number.NaN))));
});
