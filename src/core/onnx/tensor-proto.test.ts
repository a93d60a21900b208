import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isPlumbError } from '../errors.ts';
import { tensorFromJson, tensorToJson, toFloat16Bits } from '../tensor.ts';
import { encodeTensorProto } from './model.ts';
import {
  decodeNamedTensorProto,
  decodeTensorProto,
  encodeTensor,
  tensorFromProto,
  tensorToProto,
} from './tensor-proto.ts';
import type { TensorProto } from './types.ts';

const backend = fileURLToPath(new URL('../../../../shared/corpus/onnx-backend', import.meta.url));
const utf8 = new TextEncoder();

function proto(fields: Partial<TensorProto>): TensorProto {
  return { name: 't', dataType: 1, dims: [], docString: '', dataLocation: 0, externalData: [], ...fields };
}

function pb(path: string): Uint8Array {
  return readFileSync(`${backend}/${path}`);
}

function rejects(fn: () => unknown, code: 'INVALID_INPUT' | 'INVALID_MODEL', pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => isPlumbError(e, code) && pattern.test(e.shortMessage));
}

describe('corpus .pb files', () => {
  test('float32 raw_data', () => {
    const { name, tensor } = decodeNamedTensorProto(
      pb('simple/test_single_relu_model/test_data_set_0/input_0.pb'),
    );
    assert.equal(name, 'x');
    assert.equal(tensor.dtype, 'float32');
    assert.deepEqual(tensor.shape, [1, 2]);
    assert.deepEqual(tensor.data, Float32Array.of(1.764052391052246, 0.40015721321105957));
  });

  test('int64 vector and scalar', () => {
    assert.deepStrictEqual(
      decodeTensorProto(pb('simple/test_expand_shape_model4/test_data_set_0/input_1.pb')),
      {
        dtype: 'int64',
        shape: [4],
        data: BigInt64Array.of(3n, 3n, 1n, 3n),
      },
    );
    assert.deepStrictEqual(decodeTensorProto(pb('simple/test_sequence_model8/test_data_set_0/output_0.pb')), {
      dtype: 'int64',
      shape: [],
      data: BigInt64Array.of(3n),
    });
  });

  test('string_data', () => {
    const dir = 'simple/test_strnorm_model_monday_insensintive_upper_twodim/test_data_set_0';
    const tensor = decodeTensorProto(pb(`${dir}/input_0.pb`));
    assert.deepStrictEqual(tensorToJson(tensor), {
      dtype: 'string',
      shape: [1, 6],
      data: ['Monday', 'tuesday', 'wednesday', 'Monday', 'tuesday', 'wednesday'],
    });
  });

  test('float64 raw_data', () => {
    const tensor = decodeTensorProto(pb('simple/test_sequence_model7/test_data_set_0/input_0.pb'));
    assert.equal(tensor.dtype, 'float64');
    assert.deepEqual(tensor.shape, [2, 3, 4]);
  });

  test('every corpus .pb file decodes and re-encodes to the same tensor', () => {
    const files = globSync(`${backend}/*/*/test_data_set_*/*.pb`);
    assert.ok(files.length > 100);
    for (const file of files) {
      const { name, tensor } = decodeNamedTensorProto(readFileSync(file));
      assert.deepStrictEqual(decodeNamedTensorProto(encodeTensor(tensor, name)), { name, tensor }, file);
    }
  });
});

describe('tensorFromProto / tensorToProto', () => {
  test('round-trip every dtype through raw_data', () => {
    const cases = [
      { dtype: 'float32', shape: [2], data: [1.5, 'NaN'] },
      { dtype: 'float64', shape: [2], data: [Math.PI, '-Infinity'] },
      { dtype: 'float16', shape: [3], data: [0.5, -2, 65504] },
      { dtype: 'int8', shape: [2], data: [-128, 127] },
      { dtype: 'uint8', shape: [2], data: [0, 255] },
      { dtype: 'int16', shape: [2], data: [-32768, 32767] },
      { dtype: 'uint16', shape: [1], data: [65535] },
      { dtype: 'int32', shape: [2], data: [-2147483648, 2147483647] },
      { dtype: 'uint32', shape: [1], data: [4294967295] },
      { dtype: 'int64', shape: [2], data: ['-9223372036854775808', '9223372036854775807'] },
      { dtype: 'uint64', shape: [1], data: ['18446744073709551615'] },
      { dtype: 'bool', shape: [2, 1], data: [true, false] },
      { dtype: 'string', shape: [3], data: ['a', '', 'ünï ✓'] },
      { dtype: 'float32', shape: [0, 3], data: [] },
    ];
    for (const json of cases) {
      const tensor = tensorFromJson(json);
      assert.deepStrictEqual(tensorFromProto(tensorToProto(tensor, 'n')), tensor, json.dtype);
      assert.deepStrictEqual(decodeTensorProto(encodeTensor(tensor)), tensor, json.dtype);
    }
  });

  test('reads the typed fields', () => {
    const typed: [Partial<TensorProto>, unknown][] = [
      [{ dataType: 1, dims: [2], floatData: Float32Array.of(1, -1) }, [1, -1]],
      [{ dataType: 11, dims: [1], doubleData: Float64Array.of(0.1) }, [0.1]],
      [{ dataType: 10, dims: [2], int32Data: [toFloat16Bits(1), toFloat16Bits(-0.5)] }, [1, -0.5]],
      [{ dataType: 3, dims: [2], int32Data: [-5, 5] }, [-5, 5]],
      [{ dataType: 9, dims: [3], int32Data: [1, 0, 1] }, [true, false, true]],
      [{ dataType: 7, dims: [1], int64Data: [-(2n ** 63n)] }, ['-9223372036854775808']],
      [{ dataType: 12, dims: [1], uint64Data: [4294967295n] }, [4294967295]],
      [{ dataType: 13, dims: [1], uint64Data: [2n ** 64n - 1n] }, ['18446744073709551615']],
      [{ dataType: 8, dims: [2], stringData: [utf8.encode('p'), utf8.encode('q')] }, ['p', 'q']],
      [{ dataType: 6, dims: [0] }, []],
    ];
    for (const [fields, data] of typed) {
      const json = tensorToJson(tensorFromProto(proto(fields)));
      assert.deepStrictEqual(json.data, data, JSON.stringify(json));
      assert.deepStrictEqual(json.shape, fields.dims);
    }
  });

  test('bool raw_data: any non-zero byte is true', () => {
    const t = tensorFromProto(proto({ dataType: 9, dims: [3], rawData: Uint8Array.of(0, 1, 7) }));
    assert.deepStrictEqual(t, { dtype: 'bool', shape: [3], data: Uint8Array.of(0, 1, 1) });
    const bytes = encodeTensorProto(proto({ dataType: 9, dims: [2], rawData: Uint8Array.of(1, 0) }));
    assert.deepStrictEqual(tensorToJson(decodeTensorProto(bytes)).data, [true, false]);
  });

  test('the result does not alias the proto', () => {
    const rawData = new Uint8Array(Float32Array.of(1, 2).buffer);
    const t = tensorFromProto(proto({ dims: [2], rawData }));
    rawData.fill(0);
    assert.deepEqual(t.data, Float32Array.of(1, 2));
  });

  test('rejects data that does not fit, naming the tensor', () => {
    const code = 'INVALID_INPUT';
    rejects(
      () => tensorFromProto(proto({ dims: [3], floatData: Float32Array.of(1) })),
      code,
      /^tensor "t": float_data has 1 values, dims \[3\] need 3/,
    );
    rejects(
      () => tensorFromProto(proto({ dims: [2], rawData: new Uint8Array(7) })),
      code,
      /raw_data has 7 bytes, dims \[2\] of float32 need 8/,
    );
    rejects(() => tensorFromProto(proto({ dims: [2] })), code, /float_data has 0 values/);
    rejects(
      () => tensorFromProto(proto({ dataType: 16, dims: [1] })),
      code,
      /data type bfloat16 is not supported/,
    );
    rejects(() => tensorFromProto(proto({ dataType: 99 })), code, /data type elem_type 99 is not supported/);
    rejects(() => tensorFromProto(proto({ dims: [-1] })), code, /invalid dimension -1/);
    rejects(() => tensorFromProto(proto({ dims: [2 ** 30, 2 ** 30] })), code, /are too large/);
    rejects(
      () => tensorFromProto(proto({ dims: [2 ** 20, 2 ** 20] })),
      code,
      /float_data has 0 values, .* need 1099511627776/,
    );
    rejects(
      () => tensorFromProto(proto({ dataType: 7, dims: [2 ** 40], rawData: new Uint8Array(8) })),
      code,
      /raw_data has 8 bytes/,
    );
    rejects(() => tensorFromProto(proto({ dims: [1], dataLocation: 1 })), code, /external file/);
    rejects(
      () => tensorFromProto(proto({ dataType: 3, dims: [1], int32Data: [200] })),
      code,
      /int32_data\[0\] = 200 is out of range for int8/,
    );
    rejects(
      () => tensorFromProto(proto({ dataType: 12, dims: [1], uint64Data: [2n ** 32n] })),
      code,
      /out of range for uint32/,
    );
    rejects(
      () => tensorFromProto(proto({ dataType: 8, dims: [1], rawData: Uint8Array.of(1) })),
      code,
      /must use string_data/,
    );
    rejects(() => tensorFromProto(proto({ dims: [1] }), 'INVALID_MODEL'), 'INVALID_MODEL', /float_data/);
  });
});

describe('decodeTensorProto', () => {
  test('malformed files throw INVALID_INPUT', () => {
    const good = pb('simple/test_single_relu_model/test_data_set_0/input_0.pb');
    rejects(
      () => decodeTensorProto(good.subarray(0, good.length - 3)),
      'INVALID_INPUT',
      /^not a valid ONNX TensorProto: truncated at byte/,
    );
    rejects(() => decodeTensorProto(new Uint8Array()), 'INVALID_INPUT', /it has no data_type/);
    rejects(() => decodeTensorProto(Uint8Array.of(0x0f)), 'INVALID_INPUT', /invalid wire type 7/);
    rejects(
      () => decodeTensorProto(Uint8Array.of(0x0a, 0x01)),
      'INVALID_INPUT',
      /wire type 2, expected 0|truncated/,
    );
  });

  test('random bytes never throw anything but INVALID_INPUT', () => {
    let seed = 42;
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed;
    };
    for (let i = 0; i < 1000; i++) {
      const bytes = Uint8Array.from({ length: 1 + (next() % 200) }, () => next() >>> 24);
      try {
        decodeTensorProto(bytes);
      } catch (e) {
        assert.ok(isPlumbError(e, 'INVALID_INPUT'), String(e));
      }
    }
  });
});
