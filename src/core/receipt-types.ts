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
import { type TypedDataDomain, typedDataDigest } from './eip712.ts';
import type { Hex } from './hash.ts';

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
 * The 32-byte EIP-712 digest of a receipt. Throws PlumbError INVALID_ARGUMENT naming the
 * field (`message.inputHash: ...`) when a value does not fit its type.
 */
export function receiptDigest(domain: TypedDataDomain, fields: ReceiptDigestFields): Uint8Array {
  const { modelCid, inputHash, outputHash, mode, node, timestamp, nonce } = fields;
  const message = { modelCid, inputHash, outputHash, mode, node, timestamp, nonce };
  return typedDataDigest({ domain, types: receiptTypes, primaryType: 'Receipt', message });
}
