/**
 * The protobuf wire-format writer (the reader is in ./protobuf.ts, which re-exports this).
 */

/** Wire types used by this codec (groups, 3 and 4, are rejected). */
export const Wire = { varint: 0, i64: 1, len: 2, i32: 5 } as const;

/** 2^32. */
export const TWO32 = 4294967296;

const utf8Encoder = new TextEncoder();

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Growable protobuf writer. Field helpers take the field number first. */
export class ProtoWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A raw varint; negative numbers are written as 64-bit two's complement (10 bytes). */
  varint(value: number | bigint): void {
    if (typeof value === 'number' && value >= 0 && value < TWO32 && Number.isInteger(value)) {
      this.ensure(5);
      let v = value;
      while (v >= 0x80) {
        this.buf[this.pos++] = (v & 0x7f) | 0x80;
        v = Math.floor(v / 128);
      }
      this.buf[this.pos++] = v;
      return;
    }
    if (typeof value === 'number' && !Number.isSafeInteger(value))
      throw new RangeError(`cannot write ${value} as a protobuf varint`);
    let v = BigInt.asUintN(64, BigInt(value));
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** A field tag. */
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A varint field (int32, int64, uint64, enum, bool). */
  int(field: number, value: number | bigint): void {
    this.tag(field, Wire.varint);
    this.varint(value);
  }

  /** A float (fixed32) field. */
  float(field: number, value: number): void {
    this.tag(field, Wire.i32);
    this.ensure(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
  }

  /** A double (fixed64) field. */
  double(field: number, value: number): void {
    this.tag(field, Wire.i64);
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** A bytes field. */
  bytes(field: number, value: Uint8Array): void {
    this.tag(field, Wire.len);
    this.varint(value.length);
    this.raw(value);
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): void {
    this.bytes(field, utf8Encoder.encode(value));
  }

  /** Bytes copied verbatim (e.g. unknown fields kept from decoding). */
  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** An embedded message whose body `write` produces (written in place, then shifted). */
  message(field: number, write: () => void): void {
    const start = this.pos;
    write();
    const len = this.pos - start;
    const header = varintSize(field * 8 + Wire.len) + varintSize(len);
    this.ensure(header);
    this.buf.copyWithin(start + header, start, this.pos);
    this.pos = start;
    this.tag(field, Wire.len);
    this.varint(len);
    this.pos = start + header + len;
  }

  /** A packed repeated varint field (omitted when empty). */
  packedInts(field: number, values: ArrayLike<number> | ArrayLike<bigint>): void {
    if (values.length === 0) return;
    this.message(field, () => {
      for (let i = 0; i < values.length; i++) this.varint(values[i]!);
    });
  }

  /** A packed repeated float field (omitted when empty). */
  packedFloats(field: number, values: ArrayLike<number>): void {
    if (values.length === 0) return;
    this.tag(field, Wire.len);
    this.varint(values.length * 4);
    this.ensure(values.length * 4);
    for (let i = 0; i < values.length; i++, this.pos += 4) this.view.setFloat32(this.pos, values[i]!, true);
  }

  /** A packed repeated double field (omitted when empty). */
  packedDoubles(field: number, values: ArrayLike<number>): void {
    if (values.length === 0) return;
    this.tag(field, Wire.len);
    this.varint(values.length * 8);
    this.ensure(values.length * 8);
    for (let i = 0; i < values.length; i++, this.pos += 8) this.view.setFloat64(this.pos, values[i]!, true);
  }

  /** The bytes written so far (a copy, sized exactly). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
