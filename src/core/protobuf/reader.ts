/**
 * A minimal, strict protobuf wire-format reader and writer (no schema, no dependencies).
 *
 * The reader works on one buffer with a moving end limit, so nested messages cost no
 * allocation and length-delimited fields come back as views (`subarray`), never copies.
 * Anything malformed - truncation, a length past the end of its message, a group or
 * reserved wire type, a varint longer than 10 bytes - throws a `ProtoError` naming the byte.
 * The writer lives in ./protobuf-writer.ts and is re-exported here.
 */

import { TWO32, Wire } from './writer.ts';

export { ProtoWriter, TWO32, Wire } from './writer.ts';

/** Malformed protobuf data; `offset` is the byte at which decoding failed. */
export class ProtoError extends Error {
  override name = 'ProtoError';
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8Decoder = new TextDecoder();

/** Decode UTF-8, with a fast path for short ASCII strings (names, op types). */
function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8Decoder.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8Decoder.decode(buf.subarray(start, end));
}

/** Sequential reader over one protobuf message (and, via `enter`/`leave`, its sub-messages). */
export class ProtoReader {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  /** Next byte to read. */
  pos = 0;
  /** End of the message being read. */
  end: number;
  /** Field number and wire type of the last tag read by `next`. */
  field = 0;
  wire = 0;
  /** Byte where the last tag started (for keeping unknown fields verbatim). */
  tagStart = 0;
  /** Name of the message being read, for error messages. */
  context = 'message';
  /** Nesting depth of `enter` calls. */
  depth = 0;
  private lo = 0;
  private hi = 0;

  /** `buf` may be a Buffer; views handed out are plain Uint8Arrays over the same memory. */
  constructor(buf: Uint8Array) {
    this.buf = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.end = buf.length;
  }

  /** True while the current message has unread bytes. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** An error at the current position. */
  fail(message: string, offset = this.pos): ProtoError {
    return new ProtoError(`${message} (in ${this.context}, at byte ${offset})`, offset);
  }

  /** Read a tag; returns the field number (also kept in `field`, wire type in `wire`). */
  next(): number {
    this.tagStart = this.pos;
    this.readVarint();
    if (this.hi !== 0) throw this.fail('field tag out of range', this.tagStart);
    const wire = this.lo & 7;
    const field = Math.floor(this.lo / 8);
    if (field === 0) throw this.fail('field number 0 is invalid', this.tagStart);
    if (wire === 3 || wire === 4)
      throw this.fail(`field ${field} uses group encoding (unsupported)`, this.tagStart);
    if (wire > 5) throw this.fail(`field ${field} has invalid wire type ${wire}`, this.tagStart);
    this.field = field;
    this.wire = wire;
    return field;
  }

  private expect(wire: number): void {
    if (this.wire !== wire)
      throw this.fail(`field ${this.field} has wire type ${this.wire}, expected ${wire}`, this.tagStart);
  }

  private readVarint(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw this.fail(`truncated at byte ${end} inside a varint`, pos);
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    if (pos >= end) throw this.fail(`truncated at byte ${end} inside a varint`, pos);
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    for (let shift = 3; b >= 0x80; shift += 7) {
      if (shift > 31) throw this.fail('varint longer than 10 bytes', this.pos);
      if (pos >= end) throw this.fail(`truncated at byte ${end} inside a varint`, pos);
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** An int32 / enum varint (negative values are sign-extended to 10 bytes on the wire). */
  int32(): number {
    this.expect(Wire.varint);
    this.readVarint();
    return this.lo | 0;
  }

  /** An int64 varint as a number; throws when it is not a safe integer. */
  int64Number(): number {
    const start = this.pos;
    const v = this.int64Unchecked();
    if (!Number.isSafeInteger(v)) throw this.fail(`field ${this.field}: integer out of safe range`, start);
    return v;
  }

  private int64Unchecked(): number {
    this.expect(Wire.varint);
    this.readVarint();
    return this.hi >= 0x80000000 ? (this.hi - TWO32) * TWO32 + this.lo : this.hi * TWO32 + this.lo;
  }

  /** An int64 varint, exact. */
  int64(): bigint {
    this.expect(Wire.varint);
    this.readVarint();
    if (this.hi === 0) return BigInt(this.lo);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  /** A uint64 varint, exact. */
  uint64(): bigint {
    this.expect(Wire.varint);
    this.readVarint();
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  private need(n: number): number {
    const at = this.pos;
    if (n > this.end - at)
      throw this.fail(
        `truncated at byte ${this.end}: field ${this.field} needs ${n} bytes from byte ${at}`,
        at,
      );
    this.pos = at + n;
    return at;
  }

  /** A fixed32 float field. */
  float(): number {
    this.expect(Wire.i32);
    return this.view.getFloat32(this.need(4), true);
  }

  /** A fixed64 double field. */
  double(): number {
    this.expect(Wire.i64);
    return this.view.getFloat64(this.need(8), true);
  }

  /** The length of a length-delimited field; leaves `pos` at its first byte and checks it fits. */
  private length(): number {
    this.expect(Wire.len);
    const at = this.pos;
    this.readVarint();
    const n = this.lo;
    if (this.hi !== 0 || n > this.end - this.pos)
      throw this.fail(
        `truncated at byte ${this.end}: field ${this.field} declares ${this.hi ? 'over 4 GiB' : n} bytes from byte ${this.pos}`,
        at,
      );
    return n;
  }

  /** A bytes field as a view into the input (no copy). */
  bytes(): Uint8Array {
    const n = this.length();
    const at = this.pos;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }

  /** A string field (UTF-8; invalid sequences become U+FFFD). */
  string(): string {
    const n = this.length();
    const at = this.pos;
    this.pos += n;
    return decodeUtf8(this.buf, at, at + n);
  }

  /** Start reading an embedded message; returns the token to pass to `leave`. */
  enter(context: string, maxDepth = 100): [number, string] {
    const n = this.length();
    if (this.depth >= maxDepth) throw this.fail(`messages nested deeper than ${maxDepth} levels`);
    const saved: [number, string] = [this.end, this.context];
    this.end = this.pos + n;
    this.context = context;
    this.depth++;
    return saved;
  }

  /** Finish an embedded message started with `enter`. */
  leave(saved: [number, string]): void {
    this.end = saved[0];
    this.context = saved[1];
    this.depth--;
  }

  /** Skip the current field's value; returns the whole field (tag included) as a view. */
  skip(): Uint8Array {
    switch (this.wire) {
      case Wire.varint:
        this.readVarint();
        break;
      case Wire.i64:
        this.need(8);
        break;
      case Wire.i32:
        this.need(4);
        break;
      default: {
        const n = this.length(); // (not `this.pos += this.length()`: that reads pos first)
        this.pos += n;
      }
    }
    return this.buf.subarray(this.tagStart, this.pos);
  }

  /** Append a repeated varint field (packed or not) to `out` via `read`. */
  private repeated<T>(out: T[], readOne: () => T, wire: number): void {
    if (this.wire !== Wire.len) {
      out.push(readOne());
      return;
    }
    const n = this.length();
    const stop = this.pos + n;
    const saved = this.end;
    this.end = stop;
    this.wire = wire;
    try {
      while (this.pos < stop) out.push(readOne());
    } finally {
      this.end = saved;
      this.wire = Wire.len;
    }
  }

  /** Repeated int32 (packed or not). */
  int32s(out: number[]): void {
    this.repeated(out, () => this.int32(), Wire.varint);
  }

  /** Repeated int64 as numbers (packed or not); each must be a safe integer. */
  int64Numbers(out: number[]): void {
    this.repeated(out, () => this.int64Number(), Wire.varint);
  }

  /** Repeated int64 (packed or not). */
  int64s(out: bigint[]): void {
    this.repeated(out, () => this.int64(), Wire.varint);
  }

  /** Repeated uint64 (packed or not). */
  uint64s(out: bigint[]): void {
    this.repeated(out, () => this.uint64(), Wire.varint);
  }

  /** Repeated float: one element, or a packed run copied into a Float32Array. */
  floats(): Float32Array {
    if (this.wire !== Wire.len) return Float32Array.of(this.float());
    return this.packedFixed(4, Float32Array, (v, i) => v.getFloat32(i, true));
  }

  /** Repeated double: one element, or a packed run copied into a Float64Array. */
  doubles(): Float64Array {
    if (this.wire !== Wire.len) return Float64Array.of(this.double());
    return this.packedFixed(8, Float64Array, (v, i) => v.getFloat64(i, true));
  }

  private packedFixed<A extends Float32Array | Float64Array>(
    size: number,
    Ctor: { new (buffer: ArrayBuffer): A; new (length: number): A },
    get: (view: DataView, at: number) => number,
  ): A {
    const n = this.length();
    if (n % size !== 0)
      throw this.fail(`field ${this.field}: packed length ${n} is not a multiple of ${size}`);
    const at = this.pos;
    this.pos += n;
    if (littleEndian) return new Ctor(this.buf.slice(at, at + n).buffer);
    const out = new Ctor(n / size);
    for (let i = 0; i < out.length; i++) out[i] = get(this.view, at + i * size);
    return out;
  }
}
