/**
 * Canonical byte encoding of tensors, and the hashes receipts bind.
 *
 * Hashing and signing never use JSON text. One tensor encodes as
 *
 *   u8   dtype tag (the ONNX TensorProto.DataType code)
 *   u32  rank
 *   u64  dim, rank times
 *   data elements row-major, little-endian; bool as one byte 0/1;
 *        string as u32 byte length + UTF-8 bytes. Floats are canonical: -0 is
 *        written as +0 and every NaN as the quiet NaN (0x7fc00000, 0x7ff8...0,
 *        0x7e00), the values JSON can carry, so a receipt's JSON hashes the same
 *        as the tensors it was made from.
 *
 * and a named map of tensors (a request's inputs, a result's outputs) as
 *
 *   u32  count
 *   per tensor, names sorted by their UTF-8 bytes:
 *     u32 name length, name UTF-8, u64 encoded tensor length, encoded tensor
 *
 * All integers little-endian. The hash of a map is SHA-256 of its encoding.
 */
import { createHash } from 'node:crypto';
import { PlumbError } from './errors.ts';
import { type Hex, toHex } from './hash.ts';
import { allocTensor, dtypeFromOnnx, onnxDataType, type Tensor, type TensorMap } from './tensor.ts';

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/** The data section of a tensor's encoding, as one or more byte chunks. */
function dataChunks(t: Tensor): Uint8Array[] {
  if (t.dtype === 'string') {
    const parts: Uint8Array[] = [];
    for (const s of t.data) {
      const bytes = Buffer.from(s, 'utf8');
      parts.push(u32(bytes.length), bytes);
    }
    return parts;
  }
  const data = canonicalFloats(t);
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (littleEndian || data.BYTES_PER_ELEMENT === 1) return [view];
  // Big-endian host: swap each element's bytes into a copy.
  const out = new Uint8Array(view);
  const w = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < out.length; i += w) out.subarray(i, i + w).reverse();
  return [out];
}

type NumericData = Exclude<Tensor, { dtype: 'string' }>['data'];

const isHalfNaN = (b: number) => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0;

/** The tensor's data with -0 as +0 and NaNs as the quiet NaN (a copy only when needed). */
function canonicalFloats(t: Exclude<Tensor, { dtype: 'string' }>): NumericData {
  if (t.dtype === 'float32' || t.dtype === 'float64') {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v === 0 ? Object.is(v, -0) : Number.isNaN(v))
        return d.map((x) => (x === 0 ? 0 : Number.isNaN(x) ? Number.NaN : x));
    }
  } else if (t.dtype === 'float16') {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      const b = d[i]!;
      if (b === 0x8000 || isHalfNaN(b)) return d.map((x) => (x === 0x8000 ? 0 : isHalfNaN(x) ? 0x7e00 : x));
    }
  }
  return t.data;
}

function headerOf(t: Tensor): Uint8Array {
  const h = new Uint8Array(5 + 8 * t.shape.length);
  const dv = new DataView(h.buffer);
  dv.setUint8(0, onnxDataType[t.dtype]);
  dv.setUint32(1, t.shape.length, true);
  for (const [i, d] of t.shape.entries()) dv.setBigUint64(5 + 8 * i, BigInt(d), true);
  return h;
}

function tensorChunks(t: Tensor): Uint8Array[] {
  return [headerOf(t), ...dataChunks(t)];
}

/** The canonical encoding of one tensor. */
export function encodeTensor(t: Tensor): Uint8Array {
  return Buffer.concat(tensorChunks(t));
}

function sortedNames(map: TensorMap): string[] {
  return Object.keys(map).sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** The canonical encoding of a tensor map, as a sequence of byte chunks (no copy of tensor data). */
function* mapChunks(map: TensorMap): Generator<Uint8Array> {
  const names = sortedNames(map);
  yield u32(names.length);
  for (const name of names) {
    const chunks = tensorChunks(map[name]!);
    const nameBytes = Buffer.from(name, 'utf8');
    yield u32(nameBytes.length);
    yield nameBytes;
    yield u64(chunks.reduce((n, c) => n + c.length, 0));
    yield* chunks;
  }
}

/** SHA-256 of the canonical encoding of a tensor map, 0x-hex. */
export function hashTensors(map: TensorMap): Hex {
  const hash = createHash('sha256');
  for (const chunk of mapChunks(map)) hash.update(chunk);
  return toHex(hash.digest());
}

/** The canonical encoding of a tensor map (what `hashTensors` hashes). */
export function encodeTensors(map: TensorMap): Uint8Array {
  return Buffer.concat([...mapChunks(map)]);
}

/**
 * Decode a tensor-map encoding (bytes from outside: a contract's request, a peer), strictly: any
 * truncation, trailing byte, unknown dtype, unsorted or repeated name, or size mismatch throws
 * INVALID_INPUT naming what is wrong. `encodeTensors(decodeTensors(b))` equals `b` for canonical
 * input; `canonical` is false when it does not (e.g. -0 or a non-canonical NaN).
 */
export function decodeTensors(bytes: Uint8Array): { tensors: TensorMap; canonical: boolean } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const bad = (why: string): never => {
    throw new PlumbError('INVALID_INPUT', `malformed tensor encoding at byte ${at}: ${why}`);
  };
  const take = (n: number, what: string) => {
    if (n > bytes.length - at) bad(`${what} needs ${n} bytes, ${bytes.length - at} left`);
    const start = at;
    at += n;
    return start;
  };
  const u64At = (what: string) => {
    const v = dv.getBigUint64(take(8, what), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${what} ${v} is too large`);
    return Number(v);
  };
  const count = dv.getUint32(take(4, 'the tensor count'), true);
  const tensors: TensorMap = {};
  let previous: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const nameLength = dv.getUint32(take(4, 'a name length'), true);
    const nameBytes = bytes.subarray(take(nameLength, 'a name'), at);
    if (previous && Buffer.compare(previous, nameBytes) >= 0) bad('tensor names must be sorted and distinct');
    previous = nameBytes;
    const name = new TextDecoder('utf-8', { fatal: true }).decode(nameBytes);
    const end = u64At(`tensor "${name}" length`) + at;
    if (end > bytes.length) bad(`tensor "${name}" runs past the end`);
    const dtype = dtypeFromOnnx(dv.getUint8(take(1, 'a dtype')));
    if (!dtype) bad(`tensor "${name}" has an unknown dtype`);
    const rank = dv.getUint32(take(4, 'a rank'), true);
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) shape.push(u64At(`tensor "${name}" dimension`));
    const t = allocTensor(dtype!, shape) as Tensor;
    if (t.dtype === 'string') {
      for (let k = 0; k < t.data.length; k++) {
        const n = dv.getUint32(take(4, 'a string length'), true);
        t.data[k] = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(take(n, 'a string'), at));
      }
    } else {
      const size = t.data.byteLength;
      if (end - at !== size) bad(`tensor "${name}" has ${end - at} data bytes, its shape needs ${size}`);
      const src = bytes.subarray(take(size, 'tensor data'), at);
      const out = new Uint8Array(t.data.buffer, t.data.byteOffset, size);
      out.set(src);
      if (!littleEndian) {
        const w = t.data.BYTES_PER_ELEMENT;
        for (let k = 0; k < size; k += w) out.subarray(k, k + w).reverse();
      }
    }
    if (at !== end) bad(`tensor "${name}" length does not match its contents`);
    tensors[name] = t;
  }
  if (at !== bytes.length) bad(`${bytes.length - at} trailing bytes`);
  return { tensors, canonical: Buffer.compare(encodeTensors(tensors), bytes) === 0 };
}
