/**
 * Tensors: the dtype -> TypedArray map, Plumb's JSON tensor form, and validation.
 *
 * JSON form (requests, receipts, files):
 *   { "dtype": "float32", "shape": [1, 3], "data": [0.5, 1, -2] }
 * `data` is flat (row-major) or nested to match `shape`. int64/uint64 values are accepted as
 * integers or decimal strings and always written as decimal strings, so they round-trip
 * without precision loss. Non-finite floats are written as "NaN", "Infinity", "-Infinity".
 */
import { PlumbError } from './errors.ts';

type DataOf = {
  float32: Float32Array;
  float64: Float64Array;
  /** IEEE 754 half-precision, stored as raw bits. */
  float16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  /** 0 or 1 per element. */
  bool: Uint8Array;
  string: string[];
};

export type DType = keyof DataOf;
export type TensorOf<T extends DType> = { dtype: T; shape: readonly number[]; data: DataOf[T] };
export type Tensor = { [K in DType]: TensorOf<K> }[DType];
export type TensorMap = Record<string, Tensor>;

export type TensorJson = { dtype: DType; shape: number[]; data: unknown[] };
export type TensorMapJson = Record<string, TensorJson>;

/** ONNX TensorProto.DataType codes; also the dtype tag of the canonical encoding. */
export const onnxDataType: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
};

const dtypeByOnnxCode = new Map<number, DType>(Object.entries(onnxDataType).map(([k, v]) => [v, k as DType]));

/** The Plumb dtype for an ONNX elem_type code, or undefined for types Plumb does not carry. */
export function dtypeFromOnnx(code: number): DType | undefined {
  return dtypeByOnnxCode.get(code);
}

export const dtypes = Object.keys(onnxDataType) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && value in onnxDataType;
}

/** The integer dtypes and bool: values compared exactly, and taken unscaled by the exact executor. */
export const intDtypes: ReadonlySet<DType> = new Set<DType>([
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
]);

/** Bytes per element in the canonical encoding (0 for string: variable). */
export const dtypeSize: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
  string: 0,
};

const arrayConstructors = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
} as const;

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A zero-filled tensor of the given dtype and shape. */
export function allocTensor<T extends DType>(dtype: T, shape: readonly number[]): TensorOf<T> {
  const n = elementCount(shape);
  const data =
    dtype === 'string'
      ? new Array<string>(n).fill('')
      : new arrayConstructors[dtype as Exclude<DType, 'string'>](n);
  return { dtype, shape: [...shape], data: data as DataOf[T] };
}

// ---------------------------------------------------------------- float16 bits

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round a number to the nearest half-precision value and return its bits. */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half;
  return sign | e;
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// ---------------------------------------------------------------- JSON -> Tensor

function invalid(path: string, rule: string): PlumbError {
  return new PlumbError('INVALID_INPUT', `${path}: ${rule}`);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : String(v);
}

function parseFloatValue(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity' || v === '+Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw invalid(path, `expected a number, got ${describe(v)}`);
}

const intRanges: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

const decimalInt = /^-?\d+$/;

function parseBigIntValue(v: unknown, path: string, signed: boolean): bigint {
  let b: bigint;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v))
      throw invalid(path, `expected an integer (use a decimal string beyond 2^53), got ${describe(v)}`);
    b = BigInt(v);
  } else if (typeof v === 'string' && decimalInt.test(v)) {
    b = BigInt(v);
  } else {
    throw invalid(path, `expected an integer or a decimal string, got ${describe(v)}`);
  }
  const [lo, hi] = signed ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
  if (b < lo || b > hi) throw invalid(path, `${v} is out of range for ${signed ? 'int64' : 'uint64'}`);
  return b;
}

/** Flatten nested arrays row-major, checking they match `shape`. */
function flatten(data: unknown[], shape: readonly number[], path: string): unknown[] {
  if (data.length === 0 || !Array.isArray(data[0])) return data; // flat: the caller checks the count
  if (shape.length === 0) throw invalid(path, `expected 1 value for a scalar, got ${data.length}`);
  const out: unknown[] = [];
  const walk = (node: unknown, depth: number, at: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw invalid(at, `nested deeper than shape [${shape.join(', ')}]`);
      out.push(node);
      return;
    }
    if (!Array.isArray(node))
      throw invalid(at, `expected an array of length ${shape[depth]} (shape [${shape.join(', ')}])`);
    if (node.length !== shape[depth])
      throw invalid(at, `has length ${node.length}, shape [${shape.join(', ')}] says ${shape[depth]}`);
    for (const [i, child] of node.entries()) walk(child, depth + 1, `${at}[${i}]`);
  };
  walk(data, 0, path);
  return out;
}

/** Validate one tensor in Plumb's JSON form and convert it. `path` names it in errors. */
export function tensorFromJson(json: unknown, path = 'tensor'): Tensor {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw invalid(path, 'expected an object {"dtype", "shape", "data"}');
  const { dtype, shape, data } = json as Record<string, unknown>;
  if (!isDType(dtype))
    throw invalid(`${path}.dtype`, `expected one of ${dtypes.join(', ')}, got ${describe(dtype)}`);
  if (!Array.isArray(shape)) throw invalid(`${path}.shape`, 'expected an array of non-negative integers');
  shape.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || (d as number) < 0)
      throw invalid(`${path}.shape[${i}]`, `expected a non-negative integer, got ${describe(d)}`);
  });
  const dims = shape as number[];
  if (!Array.isArray(data)) throw invalid(`${path}.data`, 'expected an array of values');
  const flat = flatten(data, dims, `${path}.data`);
  const n = elementCount(dims);
  if (flat.length !== n)
    throw invalid(`${path}.data`, `has ${flat.length} values, shape [${dims.join(', ')}] needs ${n}`);
  const tensor = allocTensor(dtype, dims);
  const at = (i: number) => `${path}.data[${i}]`;
  switch (tensor.dtype) {
    case 'float32':
    case 'float64':
      for (let i = 0; i < n; i++) tensor.data[i] = parseFloatValue(flat[i], at(i));
      break;
    case 'float16':
      for (let i = 0; i < n; i++) tensor.data[i] = toFloat16Bits(parseFloatValue(flat[i], at(i)));
      break;
    case 'int64':
    case 'uint64': {
      const signed = tensor.dtype === 'int64';
      const out = tensor.data;
      for (let i = 0; i < n; i++) out[i] = parseBigIntValue(flat[i], at(i), signed);
      break;
    }
    case 'bool':
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (v === true || v === 1) tensor.data[i] = 1;
        else if (v === false || v === 0) tensor.data[i] = 0;
        else throw invalid(at(i), `expected true or false, got ${describe(v)}`);
      }
      break;
    case 'string':
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'string') throw invalid(at(i), `expected a string, got ${describe(v)}`);
        tensor.data[i] = v;
      }
      break;
    default: {
      const [lo, hi] = intRanges[tensor.dtype]!;
      const out = tensor.data;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v))
          throw invalid(at(i), `expected an integer, got ${describe(v)}`);
        if (v < lo || v > hi) throw invalid(at(i), `${v} is out of range for ${tensor.dtype}`);
        out[i] = v;
      }
    }
  }
  return tensor as Tensor;
}

/** Validate a `{ name: tensor }` map in JSON form. */
export function tensorMapFromJson(json: unknown, path = 'inputs'): TensorMap {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw invalid(path, 'expected an object mapping input names to {"dtype", "shape", "data"}');
  const out: TensorMap = {};
  for (const [name, value] of Object.entries(json)) out[name] = tensorFromJson(value, `${path}.${name}`);
  return out;
}

function floatToJson(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

export function tensorToJson(t: Tensor): TensorJson {
  let data: unknown[];
  switch (t.dtype) {
    case 'float32':
    case 'float64':
      data = Array.from(t.data, floatToJson);
      break;
    case 'float16':
      data = Array.from(t.data, (b) => floatToJson(fromFloat16Bits(b)));
      break;
    case 'int64':
    case 'uint64':
      data = Array.from(t.data as ArrayLike<bigint>, (v) => v.toString());
      break;
    case 'bool':
      data = Array.from(t.data, (v) => v !== 0);
      break;
    case 'string':
      data = [...t.data];
      break;
    default:
      data = Array.from(t.data as ArrayLike<number>);
  }
  return { dtype: t.dtype, shape: [...t.shape], data };
}

export function tensorMapToJson(map: TensorMap): TensorMapJson {
  const out: TensorMapJson = {};
  for (const name of Object.keys(map)) out[name] = tensorToJson(map[name]!);
  return out;
}

/** Elements as JS numbers (int64 via Number(); for comparisons and display). */
export function tensorValues(t: Tensor): number[] {
  switch (t.dtype) {
    case 'float16':
      return Array.from(t.data, fromFloat16Bits);
    case 'string':
      throw new PlumbError('INVALID_ARGUMENT', 'string tensors have no numeric values');
    case 'int64':
    case 'uint64':
      return Array.from(t.data as ArrayLike<bigint>, Number);
    default:
      return Array.from(t.data as ArrayLike<number>);
  }
}
