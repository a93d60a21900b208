/**
 * ONNX TensorProto <-> Plumb Tensor (src/core/tensor.ts), and the `.pb` tensor file format of
 * the ONNX backend tests (one bare TensorProto per file).
 */
import { type ErrorCode, PlumbError } from '../errors.ts';
import { ProtoError } from '../protobuf/reader.ts';
import { allocTensor, type DType, dtypeFromOnnx, dtypeSize, onnxDataType, type Tensor } from '../tensor.ts';
import { encodeTensorProto, readTensorProto } from './model.ts';
import type { TensorProto } from './types.ts';

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** Names of ONNX data types Plumb does not carry, for error messages and manifests. */
const otherTypeNames: Record<number, string> = {
  0: 'undefined',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

/** A readable name for an ONNX elem_type code: the Plumb dtype, else the ONNX type's name. */
export function onnxTypeName(code: number): string {
  return dtypeFromOnnx(code) ?? otherTypeNames[code] ?? `elem_type ${code}`;
}

/** Inclusive value range of the dtypes stored in int32_data. */
const int32DataRange: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  float16: [0, 65535],
  int32: [-2147483648, 2147483647],
  bool: [-2147483648, 2147483647],
};

/** Product of `dims`, or a problem when a dimension is negative or the product is unsafe. */
function countElements(dims: readonly number[]): number | string {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) return `invalid dimension ${d} in dims [${dims.join(', ')}]`;
    n *= d;
  }
  return Number.isSafeInteger(n) ? n : `dims [${dims.join(', ')}] are too large`;
}

/**
 * Why a TensorProto's data cannot be read as a Tensor, or undefined when it can. Cheap: checks
 * dims, location, type and data sizes without reading values. With `anyType`, ONNX types Plumb
 * does not carry (bfloat16, complex, ...) pass after the dims and location checks.
 */
export function tensorProtoProblem(t: TensorProto, anyType = false): string | undefined {
  const n = countElements(t.dims);
  if (typeof n === 'string') return n;
  if (t.dataLocation === 1) return 'its data is stored in an external file, which is not supported';
  const dtype = dtypeFromOnnx(t.dataType);
  if (dtype === undefined)
    return anyType ? undefined : `data type ${onnxTypeName(t.dataType)} is not supported`;
  const shape = `dims [${t.dims.join(', ')}]`;
  if (dtype === 'string' && t.rawData?.length) return 'string tensors must use string_data, not raw_data';
  if (t.rawData !== undefined && dtype !== 'string') {
    const need = n * dtypeSize[dtype];
    if (t.rawData.length !== need)
      return `raw_data has ${t.rawData.length} bytes, ${shape} of ${dtype} need ${need}`;
    return undefined;
  }
  const [field, count] = typedSource(t, dtype);
  return count === n ? undefined : `${field} has ${count} values, ${shape} need ${n}`;
}

/**
 * Convert a TensorProto to a Tensor (copying; the result does not alias the proto). Reads
 * little-endian raw_data or the typed field for the dtype: float16 as bits from int32_data,
 * bool as 0/1, strings as UTF-8, int64/uint64 exactly. Throws PlumbError `code` naming the
 * tensor when `tensorProtoProblem` finds one or a value is out of range for the dtype.
 */
export function tensorFromProto(t: TensorProto, code: ErrorCode = 'INVALID_INPUT'): Tensor {
  const fail = (rule: string) => new PlumbError(code, `${t.name ? `tensor "${t.name}"` : 'tensor'}: ${rule}`);
  // Everything is checked before allocating (dims come from the file).
  const problem = tensorProtoProblem(t);
  if (problem) throw fail(problem);
  const dtype = dtypeFromOnnx(t.dataType)!;
  const n = countElements(t.dims) as number;

  if (dtype === 'string') {
    const out = allocTensor('string', t.dims);
    const strings = t.stringData ?? [];
    for (let i = 0; i < n; i++) out.data[i] = utf8.decode(strings[i]);
    return out;
  }
  const out = allocTensor(dtype, t.dims) as Exclude<Tensor, { dtype: 'string' }>;
  if (t.rawData !== undefined) {
    const bytes = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
    bytes.set(t.rawData);
    if (!littleEndian && dtypeSize[dtype] > 1) swapBytes(bytes, dtypeSize[dtype]);
    if (out.dtype === 'bool') for (let i = 0; i < n; i++) out.data[i] = out.data[i] ? 1 : 0;
    return out;
  }

  switch (out.dtype) {
    case 'float32':
      if (t.floatData) out.data.set(t.floatData);
      break;
    case 'float64':
      if (t.doubleData) out.data.set(t.doubleData);
      break;
    case 'int64':
      if (t.int64Data) out.data.set(t.int64Data);
      break;
    case 'uint32':
    case 'uint64': {
      const values = t.uint64Data ?? [];
      const max = out.dtype === 'uint32' ? 0xffffffffn : 0xffffffffffffffffn;
      values.forEach((v, i) => {
        if (v > max) throw fail(`uint64_data[${i}] = ${v} is out of range for ${dtype}`);
      });
      if (out.dtype === 'uint32') out.data.set(values.map(Number));
      else out.data.set(values);
      break;
    }
    default: {
      const values = t.int32Data ?? [];
      const [lo, hi] = int32DataRange[out.dtype]!;
      const data = out.data as Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array;
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        if (v < lo || v > hi) throw fail(`int32_data[${i}] = ${v} is out of range for ${dtype}`);
        data[i] = out.dtype === 'bool' ? (v ? 1 : 0) : v;
      }
    }
  }
  return out;
}

/** The typed field a dtype's values live in when there is no raw_data, and its length. */
function typedSource(t: TensorProto, dtype: DType): [string, number] {
  switch (dtype) {
    case 'float32':
      return ['float_data', t.floatData?.length ?? 0];
    case 'float64':
      return ['double_data', t.doubleData?.length ?? 0];
    case 'int64':
      return ['int64_data', t.int64Data?.length ?? 0];
    case 'uint32':
    case 'uint64':
      return ['uint64_data', t.uint64Data?.length ?? 0];
    case 'string':
      return ['string_data', t.stringData?.length ?? 0];
    default:
      return ['int32_data', t.int32Data?.length ?? 0];
  }
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** Convert a Tensor to a TensorProto: little-endian raw_data, or string_data for strings. */
export function tensorToProto(tensor: Tensor, name = ''): TensorProto {
  const proto: TensorProto = {
    name,
    dataType: onnxDataType[tensor.dtype],
    dims: [...tensor.shape],
    docString: '',
    dataLocation: 0,
    externalData: [],
  };
  if (tensor.dtype === 'string') {
    if (tensor.data.length) proto.stringData = tensor.data.map((s) => utf8Encoder.encode(s));
    return proto;
  }
  const d = tensor.data;
  const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  if (!littleEndian && dtypeSize[tensor.dtype] > 1) swapBytes(raw, dtypeSize[tensor.dtype]);
  if (tensor.dtype === 'bool') for (let i = 0; i < raw.length; i++) raw[i] = raw[i] ? 1 : 0;
  proto.rawData = raw;
  return proto;
}

/**
 * Decode a `.pb` file holding one TensorProto (ONNX backend-test inputs and outputs) to its
 * name and Tensor. Throws PlumbError INVALID_INPUT naming the problem.
 */
export function decodeNamedTensorProto(bytes: Uint8Array): { name: string; tensor: Tensor } {
  let proto: TensorProto;
  try {
    proto = readTensorProto(bytes);
  } catch (error) {
    if (error instanceof ProtoError)
      throw new PlumbError('INVALID_INPUT', `not a valid ONNX TensorProto: ${error.message}`, {
        cause: error,
      });
    throw error;
  }
  if (proto.dataType === 0)
    throw new PlumbError('INVALID_INPUT', 'not a valid ONNX TensorProto: it has no data_type');
  return { name: proto.name, tensor: tensorFromProto(proto, 'INVALID_INPUT') };
}

/** Decode a `.pb` file holding one TensorProto to a Tensor (see decodeNamedTensorProto). */
export function decodeTensorProto(bytes: Uint8Array): Tensor {
  return decodeNamedTensorProto(bytes).tensor;
}

/** Encode a Tensor as a `.pb` TensorProto file. */
export function encodeTensor(tensor: Tensor, name = ''): Uint8Array {
  return encodeTensorProto(tensorToProto(tensor, name));
}
