import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CHUNK_SIZE, cidOf } from '../core/cid.ts';
import { isPlumbError } from '../core/errors.ts';
import { BlobStore } from './blob-store.ts';

function pseudoRandom(length: number, seed = 7): Uint8Array {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16, 0));
  return new Uint8Array(cipher.update(Buffer.alloc(length)));
}

async function* inPieces(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    // a fresh copy each time, like a network stream would give
    yield bytes.slice(offset, offset + n);
    offset += n;
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return new Uint8Array(Buffer.concat(parts));
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

const hello = new TextEncoder().encode('hello world\n');
const helloCid = 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4';

describe('BlobStore', () => {
  let dir: string;
  let store: BlobStore;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plumb-blob-store-'));
    store = new BlobStore({ dir });
    await store.start();
  });

  afterEach(async () => {
    await store.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('constructor does no I/O; calls before start() fail', async () => {
    const other = path.join(dir, 'not-yet');
    const s = new BlobStore({ dir: other });
    assert.equal(fs.existsSync(other), false);
    await assert.rejects(s.has(helloCid), (e: unknown) => isPlumbError(e, 'UNAVAILABLE'));
    await s.start();
    assert.equal(fs.existsSync(path.join(other, 'blobs')), true);
    assert.equal(fs.existsSync(path.join(other, 'tmp')), true);
    await s.stop();
  });

  test('put/get round trip, small', async () => {
    const result = await store.put(hello);
    assert.deepEqual(result, { cid: helloCid, size: 12 });
    assert.equal(await store.has(helloCid), true);
    assert.equal(await store.size(helloCid), 12);
    assert.deepEqual(await store.get(helloCid), hello);
    assert.deepEqual(await readAll(await store.stream(helloCid)), hello);
    assert.ok(store.path(helloCid).startsWith(path.join(dir, 'blobs')));
    assert.equal(fs.statSync(store.path(helloCid)).mode & 0o777, 0o444);
    assert.deepEqual(filesUnder(path.join(dir, 'tmp')), []);
  });

  test('empty blob', async () => {
    const { cid, size } = await store.put(new Uint8Array(0));
    assert.equal(cid, cidOf(new Uint8Array(0)));
    assert.equal(size, 0);
    assert.equal((await store.get(cid)).length, 0);
    assert.equal((await readAll(await store.stream(cid))).length, 0);
  });

  test('put/get round trip, multi-chunk, from an async iterable of odd pieces', async () => {
    const bytes = pseudoRandom(3 * CHUNK_SIZE + 12345);
    const progress: number[] = [];
    const result = await store.put(inPieces(bytes, [1, 4095, 70001, 3, 1_300_000, 5_000_000, 17]), {
      onProgress: (n) => progress.push(n),
      maxBytes: bytes.length,
    });
    assert.deepEqual(result, { cid: cidOf(bytes), size: bytes.length });
    assert.equal(progress.at(-1), bytes.length);
    assert.deepEqual(await store.get(result.cid), bytes);
    const streamed: number[] = [];
    const out = await readAll(await store.stream(result.cid, { onProgress: (n) => streamed.push(n) }));
    assert.deepEqual(out, bytes);
    assert.equal(streamed.at(-1), bytes.length);
  });

  test('put of a large Uint8Array equals cidOf', async () => {
    const bytes = pseudoRandom(9 * 1024 * 1024 + 3);
    const result = await store.put(bytes);
    assert.equal(result.cid, cidOf(bytes));
    assert.deepEqual(await store.get(result.cid), bytes);
  });

  test('putting the same bytes twice is idempotent', async () => {
    const a = await store.put(hello);
    const b = await store.put(inPieces(hello, [5]));
    assert.deepEqual(a, b);
    const list = [];
    for await (const cid of store.list()) list.push(cid);
    assert.deepEqual(list, [helloCid]);
    assert.deepEqual(filesUnder(path.join(dir, 'tmp')), []);
  });

  test('maxBytes exceeded -> PAYLOAD_TOO_LARGE, nothing left behind', async () => {
    const bytes = pseudoRandom(1000);
    await assert.rejects(
      store.put(inPieces(bytes, [300]), { maxBytes: 999 }),
      (e: unknown) => isPlumbError(e, 'PAYLOAD_TOO_LARGE') && /999 bytes/.test(e.shortMessage),
    );
    await assert.rejects(store.put(bytes, { maxBytes: 10 }), (e: unknown) =>
      isPlumbError(e, 'PAYLOAD_TOO_LARGE'),
    );
    assert.deepEqual(filesUnder(path.join(dir, 'tmp')), []);
    assert.deepEqual(filesUnder(path.join(dir, 'blobs')), []);
    // exactly at the limit is fine
    assert.equal((await store.put(bytes, { maxBytes: 1000 })).size, 1000);
  });

  test('a failing source or an abort leaves no temp file', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(100);
      throw new Error('connection reset');
    }
    await assert.rejects(store.put(failing()), /connection reset/);
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(100);
      controller.abort();
      yield new Uint8Array(100);
    }
    await assert.rejects(store.put(slow(), { signal: controller.signal }), { name: 'AbortError' });
    assert.deepEqual(filesUnder(path.join(dir, 'tmp')), []);
    assert.deepEqual(filesUnder(path.join(dir, 'blobs')), []);
  });

  test('stop() aborts an upload in flight and removes its temp file', async () => {
    let release: () => void = () => {};
    const blocked = new Promise<void>((r) => {
      release = r;
    });
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(100);
      await blocked;
      yield new Uint8Array(100);
    }
    const put = store.put(stalled());
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(filesUnder(path.join(dir, 'tmp')).length, 1);
    const stopped = store.stop();
    release();
    await assert.rejects(put, (e: unknown) => isPlumbError(e, 'UNAVAILABLE'));
    await stopped;
    assert.deepEqual(filesUnder(path.join(dir, 'tmp')), []);
    await store.start();
  });

  test('corrupt file on disk -> get throws INTEGRITY, stream errors', async () => {
    const bytes = pseudoRandom(CHUNK_SIZE * 2 + 10);
    const { cid } = await store.put(bytes);
    const file = store.path(cid);
    fs.chmodSync(file, 0o644);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, new Uint8Array([bytes[1000]! ^ 0xff]), 0, 1, 1000);
    fs.closeSync(fd);
    await assert.rejects(
      store.get(cid),
      (e: unknown) =>
        isPlumbError(e, 'INTEGRITY') &&
        e.shortMessage.startsWith(`blob ${cid} is corrupt on disk: its bytes hash to bafy`),
    );
    await assert.rejects(readAll(await store.stream(cid)), (e: unknown) => isPlumbError(e, 'INTEGRITY'));
  });

  test('missing blob -> BLOB_NOT_FOUND', async () => {
    assert.equal(await store.has(helloCid), false);
    const notFound = (e: unknown) => isPlumbError(e, 'BLOB_NOT_FOUND') && e.shortMessage.includes(helloCid);
    await assert.rejects(store.size(helloCid), notFound);
    await assert.rejects(store.get(helloCid), notFound);
    await assert.rejects(store.stream(helloCid), notFound);
    assert.equal(await store.delete(helloCid), false);
  });

  test('malformed CIDs -> INVALID_ARGUMENT, never a path', async () => {
    const invalid = (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT');
    for (const bad of ['../etc/passwd', 'b../../etc/passwd', '', helloCid.toUpperCase(), `${helloCid}/..`]) {
      await assert.rejects(store.get(bad), invalid, bad);
      await assert.rejects(store.has(bad), invalid, bad);
      await assert.rejects(store.stream(bad), invalid, bad);
      await assert.rejects(store.delete(bad), invalid, bad);
      assert.throws(() => store.path(bad), invalid, bad);
    }
    // a valid CIDv0 is still not a key of this store
    await assert.rejects(store.get('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o'), invalid);
  });

  test('delete and list', async () => {
    const a = await store.put(hello);
    const b = await store.put(pseudoRandom(CHUNK_SIZE + 1));
    const listed: string[] = [];
    for await (const cid of store.list()) listed.push(cid);
    assert.deepEqual(listed.sort(), [a.cid, b.cid].sort());
    assert.equal(await store.delete(a.cid), true);
    assert.equal(await store.has(a.cid), false);
    assert.equal(await store.has(b.cid), true);
  });

  test('start() cleans stale temp files left by a crash', async () => {
    await store.put(hello);
    await store.stop();
    fs.writeFileSync(path.join(dir, 'tmp', 'abc.tmp'), 'half written');
    fs.writeFileSync(path.join(dir, 'tmp', 'other'), 'x');
    // A process id that is not running (the pid space stops well below this).
    fs.writeFileSync(path.join(dir, 'tmp', '4194305-dead.tmp'), 'left by a crash');
    // Another live process's upload in progress (this process stands in for it) is left alone.
    const live = `${process.pid}-inflight.tmp`;
    fs.writeFileSync(path.join(dir, 'tmp', live), 'being written');
    const restarted = new BlobStore({ dir });
    await restarted.start();
    assert.deepEqual(filesUnder(path.join(dir, 'tmp')), [live]);
    fs.rmSync(path.join(dir, 'tmp', live));
    assert.deepEqual(await restarted.get(helloCid), hello);
    await restarted.stop();
    await store.start();
  });
});
