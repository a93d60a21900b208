/**
 * IPFS content identifiers (CIDs), computed exactly as `ipfs add --cid-version=1` does with
 * kubo's defaults:
 *
 * - the file is cut into fixed 262144-byte chunks (the last one shorter);
 * - every chunk is a raw leaf: a block holding the chunk's bytes, CID codec raw (0x55);
 * - a file of at most one chunk (the empty file included) is just that raw leaf;
 * - otherwise leaves are grouped 174 at a time under dag-pb (0x70) nodes, and those nodes again
 *   174 at a time, level by level, until one root is left (the "balanced" layout: all leaves at
 *   the same depth, the last node of each level possibly partly filled);
 * - each dag-pb node is a PBNode whose Links come first in the bytes (Hash = binary child CID,
 *   Name = "" which is written, Tsize = the child's block size plus all its descendants' blocks)
 *   followed by Data = a UnixFS message {Type = File, filesize, one blocksize per child};
 * - every hash is sha2-256, and the CID string is multibase base32 lower-case ('b' prefix).
 *
 * The builder hashes while bytes stream in and keeps only the open node of each tree level
 * (at most 174 child entries per level), so memory does not grow with the file.
 */
import { createHash, type Hash } from 'node:crypto';
import { PlumbError } from './errors.ts';
import { base32Decode, base32Encode, base58Decode, base58Encode } from './multibase.ts';
import { ProtoWriter } from './protobuf/writer.ts';

/** Chunk size of kubo's default fixed-size chunker. */
export const CHUNK_SIZE = 262144;
/** Most links per dag-pb node in kubo's balanced layout. */
export const MAX_LINKS_PER_NODE = 174;
/** Multicodec code of raw bytes blocks. */
export const CODEC_RAW = 0x55;
/** Multicodec code of dag-pb (protobuf) blocks. */
export const CODEC_DAG_PB = 0x70;
/** Multihash code of sha2-256. */
export const MULTIHASH_SHA2_256 = 0x12;

export type CidVersion = 0 | 1;

export type ParsedCid = {
  version: CidVersion;
  /** Multicodec of the content (0x55 raw, 0x70 dag-pb; CIDv0 is always dag-pb). */
  codec: number;
  /** The whole multihash: varint code, varint digest length, digest. */
  multihash: Uint8Array;
  /** Multihash function code (0x12 = sha2-256). */
  hashCode: number;
  /** The digest inside the multihash. */
  digest: Uint8Array;
  /** The binary CID (for CIDv0 this is the bare multihash). */
  bytes: Uint8Array;
};

export type CidDigest = {
  /** CIDv1 string, base32 lower-case with the 'b' multibase prefix. */
  cid: string;
  /** Number of bytes hashed. */
  size: number;
};

export type CidBuilder = {
  /** Feeds more bytes of the file; pieces may have any size. Returns the builder. */
  update(bytes: Uint8Array): CidBuilder;
  /** Total bytes fed so far. */
  readonly size: number;
  /** Finishes the DAG and returns the root CID. The builder cannot be used after this. */
  digest(): CidDigest;
};

// ---------------------------------------------------------------------------------------------
// Building CIDs

const sha256MultihashPrefix = [MULTIHASH_SHA2_256, 32] as const;

/** Binary CIDv1 of a sha2-256 digest: version, codec, multihash. Always 36 bytes. */
function cidV1Bytes(codec: number, sha256Digest: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 32);
  out[0] = 1;
  out[1] = codec; // 0x55 and 0x70 are single-byte varints
  out[2] = sha256MultihashPrefix[0];
  out[3] = sha256MultihashPrefix[1];
  out.set(sha256Digest, 4);
  return out;
}

/** String form of a binary CID: base32 'b' for CIDv1, bare base58btc for CIDv0. */
export function cidToString(bytes: Uint8Array): string {
  if (bytes.length === 34 && bytes[0] === MULTIHASH_SHA2_256 && bytes[1] === 32) return base58Encode(bytes);
  return `b${base32Encode(bytes)}`;
}

/** One entry of a dag-pb node: a child block and what it contributes. */
type Child = {
  /** Binary CID of the child block. */
  cid: Uint8Array;
  /** Size of the child block plus all blocks below it (the link's Tsize). */
  tsize: number;
  /** File bytes under the child (the UnixFS blocksize). */
  fileSize: number;
};

/** Encodes and hashes one dag-pb + UnixFS File node over `children`. */
function makeNode(children: readonly Child[]): Child {
  let fileSize = 0;
  let descendants = 0;
  for (const c of children) {
    fileSize += c.fileSize;
    descendants += c.tsize;
  }
  // UnixFS Data: Type (1) = File (2), filesize (3), blocksizes (4, repeated, unpacked).
  const unixfs = new ProtoWriter();
  unixfs.int(1, 2);
  unixfs.int(3, fileSize);
  for (const c of children) unixfs.int(4, c.fileSize);
  // PBNode: Links (2) first, then Data (1) - the canonical dag-pb byte order.
  // PBLink: Hash (1), Name (2, written even though empty), Tsize (3).
  const node = new ProtoWriter();
  for (const c of children) {
    node.message(2, () => {
      node.bytes(1, c.cid);
      node.string(2, '');
      node.int(3, c.tsize);
    });
  }
  node.bytes(1, unixfs.finish());
  const bytes = node.finish();
  const digest = createHash('sha256').update(bytes).digest();
  return { cid: cidV1Bytes(CODEC_DAG_PB, digest), tsize: bytes.length + descendants, fileSize };
}

/** Pieces shorter than this are gathered in a staging buffer before hashing (fewer native calls). */
const smallPiece = 8192;

class Builder implements CidBuilder {
  #hash: Hash = createHash('sha256');
  /** Bytes of the current chunk hashed or staged so far. */
  #chunkFill = 0;
  #size = 0;
  #leaves = 0;
  #stage = new Uint8Array(65536);
  #staged = 0;
  /** levels[0] holds leaves not yet under a node, levels[1] nodes over leaves, and so on. */
  #levels: Child[][] = [[]];
  #done = false;

  get size(): number {
    return this.#size;
  }

  update(bytes: Uint8Array): CidBuilder {
    if (this.#done) throw new Error('CID builder already finished');
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(CHUNK_SIZE - this.#chunkFill, bytes.length - offset);
      this.#feed(bytes.subarray(offset, offset + take));
      offset += take;
      this.#chunkFill += take;
      if (this.#chunkFill === CHUNK_SIZE) this.#finishLeaf();
    }
    this.#size += bytes.length;
    return this;
  }

  digest(): CidDigest {
    if (this.#done) throw new Error('CID builder already finished');
    this.#done = true;
    // The last, partial chunk; or the one empty chunk of an empty file.
    if (this.#chunkFill > 0 || this.#leaves === 0) this.#finishLeaf();
    const levels = this.#levels;
    for (let i = 0; ; i++) {
      const level = levels[i] ?? [];
      const above = levels.slice(i + 1).some((l) => l.length > 0);
      if (!above && level.length === 1) {
        return { cid: cidToString(level[0]!.cid), size: this.#size };
      }
      if (level.length > 0) {
        levels[i] = [];
        this.#push(i + 1, makeNode(level));
      }
    }
  }

  #feed(piece: Uint8Array): void {
    if (piece.length >= smallPiece) {
      this.#flushStage();
      this.#hash.update(piece);
      return;
    }
    if (this.#staged + piece.length > this.#stage.length) this.#flushStage();
    this.#stage.set(piece, this.#staged);
    this.#staged += piece.length;
  }

  #flushStage(): void {
    if (this.#staged === 0) return;
    this.#hash.update(this.#stage.subarray(0, this.#staged));
    this.#staged = 0;
  }

  #finishLeaf(): void {
    this.#flushStage();
    const digest = this.#hash.digest();
    const size = this.#chunkFill;
    this.#hash = createHash('sha256');
    this.#chunkFill = 0;
    this.#leaves++;
    this.#push(0, { cid: cidV1Bytes(CODEC_RAW, digest), tsize: size, fileSize: size });
  }

  /** Adds a child at `level`; a full level becomes one node one level up. */
  #push(level: number, child: Child): void {
    const list = this.#levels[level] ?? [];
    this.#levels[level] = list;
    list.push(child);
    if (list.length === MAX_LINKS_PER_NODE) {
      this.#levels[level] = [];
      this.#push(level + 1, makeNode(list));
    }
  }
}

/** A streaming CID hasher: `createCidBuilder().update(a).update(b).digest().cid`. */
export function createCidBuilder(): CidBuilder {
  return new Builder();
}

/** The CIDv1 `ipfs add --cid-version=1` gives these bytes. */
export function cidOf(bytes: Uint8Array): string {
  return new Builder().update(bytes).digest().cid;
}

// ---------------------------------------------------------------------------------------------
// Parsing CIDs

const maxCidLength = 200;

function invalid(text: unknown, reason: string): PlumbError {
  const shown =
    typeof text === 'string' ? JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text) : '';
  return new PlumbError('INVALID_ARGUMENT', `invalid CID${shown ? ` ${shown}` : ''}: ${reason}`, {
    metaMessages: ['A CID is a CIDv1 in base32 (starting with "b", e.g. "bafkrei...") or a CIDv0 ("Qm...").'],
  });
}

/** Reads a minimal unsigned varint at `pos`; returns [value, next position] or a reason. */
function readVarint(bytes: Uint8Array, pos: number, what: string): [number, number] | string {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < bytes.length && i < pos + 8; i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > pos) return `${what} is not a minimal varint`;
      return [value, i + 1];
    }
  }
  return `${what} is truncated or too large`;
}

function parseMultihash(bytes: Uint8Array, pos: number): { code: number; digest: Uint8Array } | string {
  const code = readVarint(bytes, pos, 'the multihash code');
  if (typeof code === 'string') return code;
  const len = readVarint(bytes, code[1], 'the multihash length');
  if (typeof len === 'string') return len;
  const [length, start] = len;
  if (start + length !== bytes.length) {
    return `the multihash says its digest is ${length} bytes but ${bytes.length - start} follow`;
  }
  if (code[0] === MULTIHASH_SHA2_256 && length !== 32) return `a sha2-256 digest is 32 bytes, not ${length}`;
  return { code: code[0], digest: bytes.subarray(start) };
}

/** Parses and validates a CID string; throws PlumbError INVALID_ARGUMENT saying what is wrong. */
export function parseCid(text: string): ParsedCid {
  if (typeof text !== 'string') throw invalid(text, `expected a string, got ${typeof text}`);
  if (text.length === 0) throw invalid(text, 'it is empty');
  if (text.length > maxCidLength) throw invalid(text, `it is longer than ${maxCidLength} characters`);

  if (text.startsWith('Qm')) {
    if (text.length !== 46) throw invalid(text, `a CIDv0 is 46 characters, not ${text.length}`);
    const bytes = base58Decode(text);
    if (typeof bytes === 'string') throw invalid(text, bytes);
    if (bytes.length !== 34 || bytes[0] !== MULTIHASH_SHA2_256 || bytes[1] !== 32) {
      throw invalid(text, 'a CIDv0 must be a 34-byte sha2-256 multihash');
    }
    return {
      version: 0,
      codec: CODEC_DAG_PB,
      multihash: bytes,
      hashCode: MULTIHASH_SHA2_256,
      digest: bytes.subarray(2),
      bytes,
    };
  }

  if (text[0] !== 'b') {
    throw invalid(
      text,
      `unsupported multibase prefix ${JSON.stringify(text[0])} (expected "b" for base32 lower case)`,
    );
  }
  const bytes = base32Decode(text.slice(1));
  if (typeof bytes === 'string') throw invalid(text, bytes);
  const version = readVarint(bytes, 0, 'the version');
  if (typeof version === 'string') throw invalid(text, version);
  if (version[0] !== 1) throw invalid(text, `the version is ${version[0]}, expected 1`);
  const codec = readVarint(bytes, version[1], 'the codec');
  if (typeof codec === 'string') throw invalid(text, codec);
  const mh = parseMultihash(bytes, codec[1]);
  if (typeof mh === 'string') throw invalid(text, mh);
  return {
    version: 1,
    codec: codec[0],
    multihash: bytes.subarray(codec[1]),
    hashCode: mh.code,
    digest: mh.digest,
    bytes,
  };
}

/** True when `value` is a well-formed CID string (see `parseCid`). */
export function isCid(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    parseCid(value);
    return true;
  } catch {
    return false;
  }
}

/** The binary form of a CID string (what gets signed); CIDv0 gives its bare multihash. */
export function cidToBytes(text: string): Uint8Array {
  return parseCid(text).bytes;
}
