import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, test } from 'node:test';
import { importBytes, type WritableStorage } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import {
  CHUNK_SIZE,
  CODEC_DAG_PB,
  CODEC_RAW,
  cidOf,
  cidToBytes,
  cidToString,
  createCidBuilder,
  isCid,
  MULTIHASH_SHA2_256,
  parseCid,
} from './cid.ts';
import { isPlumbError } from './errors.ts';

/** Deterministic pseudo-random bytes (AES-128-CTR keystream over zeros). */
function pseudoRandom(length: number, seed = 1): Uint8Array {
  const key = Buffer.alloc(16, seed);
  const iv = Buffer.alloc(16, 0);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return new Uint8Array(cipher.update(Buffer.alloc(length)));
}

/** What kubo's `ipfs add --cid-version=1` produces, per the reference JS importer. */
async function oracleCid(bytes: Uint8Array): Promise<string> {
  // The CIDs are all we need from it; the blocks themselves are dropped.
  const blockstore: WritableStorage = { put: async (key) => key };
  const result = await importBytes(bytes, blockstore, {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: 262144 }),
    layout: balanced({ maxChildrenPerNode: 174 }),
  });
  return result.cid.toString();
}

/** Feeds `bytes` to a builder in pieces of varying, odd sizes (including tiny ones). */
function cidInPieces(bytes: Uint8Array): { cid: string; size: number } {
  const builder = createCidBuilder();
  const sizes = [1, 7, 4093, 65537, 3, 300001, 262144, 8191, 8192, 999];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    builder.update(bytes.subarray(offset, offset + n));
    offset += n;
  }
  return builder.digest();
}

function expectInvalid(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseCid(text),
    (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT') && pattern.test(e.shortMessage),
  );
  assert.equal(isCid(text), false);
}

describe('cidOf', () => {
  test('known vector: "hello world\\n"', () => {
    const bytes = new TextEncoder().encode('hello world\n');
    assert.equal(cidOf(bytes), 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4');
  });

  test('empty file is the raw CID of no bytes', () => {
    assert.equal(cidOf(new Uint8Array(0)), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
    assert.deepEqual(createCidBuilder().digest(), {
      cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
      size: 0,
    });
  });

  test('hardcoded multi-chunk vectors (stand without the oracle)', () => {
    // 3 chunks: one dag-pb node over three raw leaves.
    assert.equal(cidOf(pseudoRandom(3 * CHUNK_SIZE - 7)), THREE_CHUNKS_CID);
    // 175 chunks: two levels of dag-pb nodes (174 leaves + 1 leaf under the root).
    assert.equal(cidOf(pseudoRandom(175 * CHUNK_SIZE + 5)), MANY_CHUNKS_CID);
  });

  const sizes: Array<[string, number]> = [
    ['empty', 0],
    ['1 byte', 1],
    ['exactly one chunk', CHUNK_SIZE],
    ['one chunk + 1 byte', CHUNK_SIZE + 1],
    ['3 chunks, last partial', 3 * CHUNK_SIZE - 7],
    ['exactly 174 chunks (one full node)', 174 * CHUNK_SIZE],
    ['175 chunks + 5 bytes (two levels)', 175 * CHUNK_SIZE + 5],
  ];
  for (const [name, size] of sizes) {
    test(`matches ipfs-unixfs-importer (kubo defaults): ${name}`, async () => {
      const bytes = pseudoRandom(size);
      const expected = await oracleCid(bytes);
      assert.equal(cidOf(bytes), expected);
      assert.deepEqual(cidInPieces(bytes), { cid: expected, size });
    });
  }

  test('builder reports size and refuses use after digest', () => {
    const b = createCidBuilder();
    b.update(new Uint8Array(10)).update(new Uint8Array(5));
    assert.equal(b.size, 15);
    b.digest();
    assert.throws(() => b.update(new Uint8Array(1)));
    assert.throws(() => b.digest());
  });

  test('a multi-chunk root is dag-pb, a single chunk is raw', () => {
    assert.equal(parseCid(THREE_CHUNKS_CID).codec, CODEC_DAG_PB);
    assert.equal(parseCid(cidOf(pseudoRandom(CHUNK_SIZE))).codec, CODEC_RAW);
  });
});

describe('parseCid', () => {
  test('parses a CIDv1 raw sha2-256', () => {
    const cid = 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4';
    const p = parseCid(cid);
    assert.equal(p.version, 1);
    assert.equal(p.codec, CODEC_RAW);
    assert.equal(p.hashCode, MULTIHASH_SHA2_256);
    assert.equal(p.digest.length, 32);
    assert.equal(p.multihash.length, 34);
    assert.equal(
      Buffer.from(p.digest).toString('hex'),
      'a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447',
    );
    const bytes = cidToBytes(cid);
    assert.equal(bytes.length, 36);
    assert.deepEqual([...bytes.subarray(0, 4)], [1, 0x55, 0x12, 32]);
    assert.equal(cidToString(bytes), cid);
    assert.equal(isCid(cid), true);
  });

  test('parses a CIDv0', () => {
    const cid = 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o';
    const p = parseCid(cid);
    assert.equal(p.version, 0);
    assert.equal(p.codec, CODEC_DAG_PB);
    assert.equal(p.hashCode, MULTIHASH_SHA2_256);
    assert.equal(cidToBytes(cid).length, 34);
    assert.equal(cidToString(p.bytes), cid);
    assert.equal(isCid(cid), true);
  });

  test('rejects malformed CIDs with a reason', () => {
    const good = 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4';
    expectInvalid('', /empty/);
    expectInvalid('../etc/passwd', /multibase prefix/);
    expectInvalid('b../etc/passwd', /not base32/);
    expectInvalid(good.toUpperCase(), /multibase prefix "B"/);
    expectInvalid(`b${good.slice(1).toUpperCase()}`, /not base32/);
    expectInvalid(good.slice(0, -1), /multihash|ending/);
    expectInvalid(`${good}a`, /multihash|ending/);
    expectInvalid(cidToString(cidToBytes(good).subarray(0, 33)), /digest is 32 bytes but 29 follow/);
    expectInvalid('zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA', /multibase prefix "z"/);
    expectInvalid('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5', /46 characters/);
    expectInvalid('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff50', /not base58btc/);
    expectInvalid(`b${'a'.repeat(300)}`, /longer than/);
    // version 2: re-encode the good CID with its first byte changed
    const v2 = new Uint8Array(cidToBytes(good));
    v2[0] = 2;
    expectInvalid(cidToString(v2), /version is 2/);
    assert.equal(isCid(42), false);
    assert.equal(isCid(undefined), false);
  });
});

const THREE_CHUNKS_CID = 'bafybeigeljw2nn2j4ogb6xnttmfvbhcbepvdf34dzigmrol5xhdlcdd4ve';
const MANY_CHUNKS_CID = 'bafybeid7t5wixcdzueg3cvty3e7tbqizeg3v42npjjtsolnemgq5fcbkg4';
