import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtoError, ProtoReader, ProtoWriter, Wire } from './reader.ts';

function readerFor(bytes: number[] | Uint8Array): ProtoReader {
  return new ProtoReader(Uint8Array.from(bytes));
}

/** Write one varint field 1 and read it back with `read`. */
function roundTrip<T>(value: number | bigint, read: (r: ProtoReader) => T): T {
  const w = new ProtoWriter();
  w.int(1, value);
  const r = new ProtoReader(w.finish());
  assert.equal(r.next(), 1);
  assert.equal(r.wire, Wire.varint);
  const out = read(r);
  assert.equal(r.more(), false);
  return out;
}

function throwsProto(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtoError && pattern.test(e.message));
}

describe('protobuf varints', () => {
  test('round-trip numbers and bigints', () => {
    for (const v of [0, 1, 127, 128, 300, 2 ** 28, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35 + 7, 2 ** 53 - 1])
      assert.equal(
        roundTrip(v, (r) => r.int64Number()),
        v,
      );
    for (const v of [-1, -2, -(2 ** 31), -(2 ** 53) + 1])
      assert.equal(
        roundTrip(v, (r) => r.int64Number()),
        v,
      );
    for (const v of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 9007199254740993n])
      assert.equal(
        roundTrip(v, (r) => r.int64()),
        v,
      );
    assert.equal(
      roundTrip(2n ** 64n - 1n, (r) => r.uint64()),
      2n ** 64n - 1n,
    );
    assert.equal(
      roundTrip(-5, (r) => r.int32()),
      -5,
    );
  });

  test('known encodings', () => {
    const w = new ProtoWriter();
    w.int(1, 150);
    assert.deepEqual([...w.finish()], [0x08, 0x96, 0x01]);
    const neg = new ProtoWriter();
    neg.int(1, -1);
    assert.deepEqual([...neg.finish()], [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  test('int64Number rejects values beyond 2^53', () => {
    throwsProto(() => roundTrip(2n ** 60n, (r) => r.int64Number()), /out of safe range/);
  });

  test('a varint longer than 10 bytes is rejected', () => {
    const r = readerFor([0x08, ...new Array(10).fill(0xff), 0x01]);
    r.next();
    throwsProto(() => r.int64(), /longer than 10 bytes/);
  });

  test('a truncated varint is rejected with its byte', () => {
    const r = readerFor([0x08, 0xff, 0xff]);
    r.next();
    throwsProto(() => r.int64(), /truncated at byte 3 inside a varint/);
  });
});

describe('protobuf fields', () => {
  test('strings, bytes, floats, doubles and nested messages round-trip', () => {
    const w = new ProtoWriter();
    w.string(1, 'héllo');
    w.bytes(2, Uint8Array.of(1, 2, 3));
    w.float(3, 1.5);
    w.double(4, Math.PI);
    w.message(5, () => {
      w.string(1, 'x'.repeat(300));
      w.int(2, 7);
    });
    const r = new ProtoReader(w.finish());
    r.next();
    assert.equal(r.string(), 'héllo');
    r.next();
    assert.deepEqual(r.bytes(), Uint8Array.of(1, 2, 3));
    r.next();
    assert.equal(r.float(), 1.5);
    r.next();
    assert.equal(r.double(), Math.PI);
    assert.equal(r.next(), 5);
    const saved = r.enter('Inner');
    r.next();
    assert.equal(r.string(), 'x'.repeat(300));
    r.next();
    assert.equal(r.int32(), 7);
    assert.equal(r.more(), false);
    r.leave(saved);
    assert.equal(r.more(), false);
  });

  test('bytes are views into the input, not copies', () => {
    const input = Uint8Array.of(0x0a, 3, 9, 8, 7);
    const r = new ProtoReader(input);
    r.next();
    const b = r.bytes();
    assert.equal(b.buffer, input.buffer);
    assert.equal(b.byteOffset, 2);
  });

  test('repeated scalars read packed and unpacked alike', () => {
    const packed = new ProtoWriter();
    packed.packedInts(1, [1, -2, 300]);
    packed.packedFloats(2, [0.5, -1]);
    packed.packedDoubles(3, [0.25]);
    const unpacked = new ProtoWriter();
    for (const v of [1, -2, 300]) unpacked.int(1, v);
    for (const v of [0.5, -1]) unpacked.float(2, v);
    unpacked.double(3, 0.25);
    for (const bytes of [packed.finish(), unpacked.finish()]) {
      const r = new ProtoReader(bytes);
      const ints: number[] = [];
      const floats: number[] = [];
      const doubles: number[] = [];
      while (r.more()) {
        const f = r.next();
        if (f === 1) r.int32s(ints);
        else if (f === 2) floats.push(...r.floats());
        else doubles.push(...r.doubles());
      }
      assert.deepEqual(ints, [1, -2, 300]);
      assert.deepEqual(floats, [0.5, -1]);
      assert.deepEqual(doubles, [0.25]);
    }
  });

  test('skip returns the whole unknown field', () => {
    const w = new ProtoWriter();
    w.int(99, 5);
    w.string(100, 'abc');
    w.float(101, 1);
    w.double(102, 1);
    const bytes = w.finish();
    const r = new ProtoReader(bytes);
    const parts: Uint8Array[] = [];
    while (r.more()) {
      r.next();
      parts.push(r.skip());
    }
    assert.deepEqual(Buffer.concat(parts), Buffer.from(bytes));
  });

  test('malformed input is rejected', () => {
    const cases: [number[], RegExp][] = [
      [[0x0a, 0x05, 1, 2], /truncated at byte 4: field 1 declares 5 bytes/],
      [[0x0b], /group encoding/],
      [[0x0c], /group encoding/],
      [[0x0e], /invalid wire type 6/],
      [[0x0f], /invalid wire type 7/],
      [[0x00], /field number 0/],
      [[0x0d, 1, 2], /truncated at byte 3: field 1 needs 4 bytes/],
      [[0x09, 1, 2, 3], /needs 8 bytes/],
    ];
    for (const [bytes, pattern] of cases)
      throwsProto(() => {
        const r = readerFor(bytes);
        while (r.more()) {
          r.next();
          r.skip();
        }
      }, pattern);
  });

  test('a wire type that does not match the field is rejected', () => {
    const r = readerFor([0x08, 0x01]);
    r.next();
    throwsProto(() => r.string(), /field 1 has wire type 0, expected 2/);
  });

  test('a length running past its enclosing message is rejected', () => {
    // outer field 1 holds 2 bytes: an inner field 1 claiming 5 bytes
    const r = readerFor([0x0a, 0x02, 0x0a, 0x05, 1, 2, 3, 4, 5]);
    r.next();
    const saved = r.enter('Outer');
    r.next();
    throwsProto(() => r.bytes(), /truncated at byte 4: field 1 declares 5 bytes from byte 4 \(in Outer/);
    r.leave(saved);
  });

  test('nesting is bounded', () => {
    const bytes: number[] = [];
    for (let i = 0; i < 5; i++) bytes.unshift(0x0a, bytes.length);
    const r = readerFor(bytes);
    assert.throws(() => {
      for (;;) {
        r.next();
        r.enter('M', 3);
      }
    }, /nested deeper than 3 levels/);
  });
});
