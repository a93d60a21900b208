/**
 * The EIP-712 type of a Plumb receipt: what a node signs, and what a contract hashes to
 * check the signature with `ecrecover`. The Solidity side is
 *
 *   bytes32 constant RECEIPT_TYPEHASH = keccak256(
 *     "Receipt(bytes modelCid,bytes32 inputHash,bytes32 outputHash,string mode,address node,uint64 timestamp,bytes32 nonce)"
 *   );
 *   keccak256(abi.encode(RECEIPT_TYPEHASH, keccak256(modelCid), inputHash, outputHash,
 *     keccak256(bytes(mode)), node, timestamp, nonce))
 *
 * Changing a member (name, type or order) changes every digest: bump the domain version.
 */
import { domainSeparator, type TypedDataDomain, typedDataDigest, typeHash } from './eip712.ts';
import { PlumbError } from './errors.ts';
import { fromHex, type Hex, keccak256 } from './hash.ts';

export const receiptTypes = {
  Receipt: [
    /** The model's CID in binary form (not its base32 text). */
    { name: 'modelCid', type: 'bytes' },
    { name: 'inputHash', type: 'bytes32' },
    { name: 'outputHash', type: 'bytes32' },
    { name: 'mode', type: 'string' },
    /** The signing node's address. */
    { name: 'node', type: 'address' },
    /** Unix time in milliseconds. */
    { name: 'timestamp', type: 'uint64' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

export const defaultReceiptDomain = { name: 'Plumb', version: '1' } as const satisfies TypedDataDomain;

/** The values of a receipt's signed members, in the encoder's accepted forms. */
export type ReceiptDigestFields = {
  /** Binary CID, as 0x-hex or bytes. */
  modelCid: Hex | Uint8Array;
  inputHash: Hex | Uint8Array;
  outputHash: Hex | Uint8Array;
  mode: string;
  node: Hex;
  /** Unix milliseconds. */
  timestamp: number | bigint;
  nonce: Hex | Uint8Array;
};

/**
 * The 32-byte EIP-712 digest of a receipt, through the general encoder. Throws PlumbError
 * INVALID_ARGUMENT naming the field (`message.inputHash: ...`) when a value does not fit.
 */
export function receiptDigestGeneric(domain: TypedDataDomain, fields: ReceiptDigestFields): Uint8Array {
  const { modelCid, inputHash, outputHash, mode, node, timestamp, nonce } = fields;
  const message = { modelCid, inputHash, outputHash, mode, node, timestamp, nonce };
  return typedDataDigest({ domain, types: receiptTypes, primaryType: 'Receipt', message });
}

// The hot path: every inference signs one receipt, so its digest is laid out directly
// (typeHash, keccak(modelCid), inputHash, outputHash, keccak(mode), node, timestamp, nonce),
// with the domain separator and mode hashes computed once. Tests hold it equal to the
// general encoder above.
const receiptTypeHash = fromHex(typeHash(receiptTypes, 'Receipt'));
const separators = new WeakMap<TypedDataDomain, Uint8Array>();
const modeHashes = new Map<string, Uint8Array>();

function bytesOf(value: Hex | Uint8Array, field: string, length?: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = typeof value === 'string' ? fromHex(value) : value;
  } catch {
    throw new PlumbError('INVALID_ARGUMENT', `message.${field}: expected 0x-prefixed hex`);
  }
  if (length !== undefined && bytes.length !== length)
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `message.${field}: expected a ${length}-byte value, got ${bytes.length} bytes`,
    );
  return bytes;
}

/**
 * The 32-byte EIP-712 digest of a receipt. Throws PlumbError INVALID_ARGUMENT naming the
 * field when a value does not fit its type.
 */
export function receiptDigest(domain: TypedDataDomain, fields: ReceiptDigestFields): Uint8Array {
  let separator = separators.get(domain);
  if (!separator) {
    separator = fromHex(domainSeparator(domain));
    separators.set(domain, separator);
  }
  let modeHash = modeHashes.get(fields.mode);
  if (!modeHash) {
    modeHash = keccak256(new TextEncoder().encode(fields.mode));
    if (modeHashes.size < 16) modeHashes.set(fields.mode, modeHash);
  }
  const timestamp = BigInt(fields.timestamp);
  if (timestamp < 0n || timestamp >= 2n ** 64n)
    throw new PlumbError('INVALID_ARGUMENT', 'message.timestamp: out of range for uint64');
  const struct = new Uint8Array(32 * 8);
  struct.set(receiptTypeHash, 0);
  struct.set(keccak256(bytesOf(fields.modelCid, 'modelCid')), 32);
  struct.set(bytesOf(fields.inputHash, 'inputHash', 32), 64);
  struct.set(bytesOf(fields.outputHash, 'outputHash', 32), 96);
  struct.set(modeHash, 128);
  struct.set(bytesOf(fields.node, 'node', 20), 160 + 12);
  new DataView(struct.buffer).setBigUint64(192 + 24, timestamp);
  struct.set(bytesOf(fields.nonce, 'nonce', 32), 224);
  const payload = new Uint8Array(2 + 32 + 32);
  payload[0] = 0x19;
  payload[1] = 0x01;
  payload.set(separator, 2);
  payload.set(keccak256(struct), 34);
  return keccak256(payload);
}
