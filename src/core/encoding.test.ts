import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { decodeTensors, encodeTensor, encodeTensors, hashTensors } from './encoding.ts';
import { tensorFromJson } from './tensor.ts';

test('a tensor encodes as dtype tag, rank, u64 dims, little-endian data', () => {
  const t = tensorFromJson({ dtype: 'int16', shape: [2], data: [1, -2] });
  assert.equal(Buffer.from(encodeTensor(t)).toString('hex'), `05${'01000000'}${'0200000000000000'}0100feff`);
  const s = tensorFromJson({ dtype: 'string', shape: [1], data: ['hé'] });
  assert.equal(Buffer.from(encodeTensor(s)).toString('hex'), `08010000000100000000000000${'03000000'}68c3a9`);
});

test('map hash is SHA-256 of the encoding and ignores key order', () => {
  const a = tensorFromJson({ dtype: 'float32', shape: [1], data: [1] });
  const b = tensorFromJson({ dtype: 'bool', shape: [2], data: [true, false] });
  const h1 = hashTensors({ a, b });
  assert.equal(h1, hashTensors({ b, a }));
  assert.equal(h1, `0x${createHash('sha256').update(encodeTensors({ a, b })).digest('hex')}`);
});

test('any change of name, dtype, shape or value changes the hash', () => {
  const base = hashTensors({ x: tensorFromJson({ dtype: 'float32', shape: [2], data: [1, 2] }) });
  const variants = [
    { y: tensorFromJson({ dtype: 'float32', shape: [2], data: [1, 2] }) },
    { x: tensorFromJson({ dtype: 'float64', shape: [2], data: [1, 2] }) },
    { x: tensorFromJson({ dtype: 'float32', shape: [1, 2], data: [1, 2] }) },
    { x: tensorFromJson({ dtype: 'float32', shape: [2], data: [1, 2.0000002] }) },
  ];
  for (const v of variants) assert.notEqual(hashTensors(v), base);
});

test('-0 and NaN payloads hash as JSON carries them, so receipts made from them verify', () => {
  const raw = new Float32Array([-0, Number.NaN, 1]);
  new Uint32Array(raw.buffer)[1] = 0xffc00000; // the NaN onnxruntime's Sqrt returns for negatives
  const fromRuntime = { y: { dtype: 'float32', shape: [3], data: raw } } as const;
  const fromJson = { y: tensorFromJson({ dtype: 'float32', shape: [3], data: [0, 'NaN', 1] }) };
  assert.equal(hashTensors(fromRuntime), hashTensors(fromJson));
  const half = { h: { dtype: 'float16', shape: [2], data: Uint16Array.from([0x8000, 0xfe01]) } } as const;
  assert.equal(
    hashTensors(half),
    hashTensors({ h: tensorFromJson({ dtype: 'float16', shape: [2], data: [0, 'NaN'] }) }),
  );
  assert.ok(Object.is(raw[0], -0)); // the caller's tensor is untouched: canonicalising copies
});

test('decodeTensors inverts encodeTensors and refuses malformed bytes, naming the fault', () => {
  const map = {
    a: tensorFromJson({ dtype: 'float32', shape: [2, 2], data: [1, -2.5, 0, 3e-39] }),
    b: tensorFromJson({ dtype: 'int64', shape: [1], data: ['-7'] }),
    s: tensorFromJson({ dtype: 'string', shape: [2], data: ['x', 'hé'] }),
  };
  const bytes = encodeTensors(map);
  const { tensors, canonical } = decodeTensors(bytes);
  assert.ok(canonical);
  assert.deepEqual(Buffer.from(encodeTensors(tensors)), Buffer.from(bytes));
  assert.deepEqual(tensors['a']!.shape, [2, 2]);
  assert.equal(tensors['b']!.data[0], -7n);
  const refuse = (b: Uint8Array, pattern: RegExp) =>
    assert.throws(
      () => decodeTensors(b),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INVALID_INPUT');
        assert.match(e.message, pattern);
        return true;
      },
    );
  refuse(bytes.subarray(0, bytes.length - 1), /runs past the end/);
  refuse(Buffer.concat([bytes, Buffer.from([0])]), /trailing/);
  const unsorted = Buffer.from(bytes);
  unsorted[8] = 'z'.charCodeAt(0); // first name "a" -> "z": now after "b"
  refuse(unsorted, /sorted/);
  const badType = Buffer.from(encodeTensors({ a: map.a }));
  badType[4 + 4 + 1 + 8] = 99; // the dtype byte
  refuse(badType, /unknown dtype/);
  const negZero = encodeTensors({ a: tensorFromJson({ dtype: 'float32', shape: [1], data: [1] }) });
  const raw = Buffer.from(negZero);
  raw.writeUInt32LE(0x80000000, raw.length - 4); // -0: decodes, but is not canonical
  assert.equal(decodeTensors(raw).canonical, false);
});
