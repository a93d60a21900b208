/**
 * Ethereum-style secp256k1 keys, addresses and signatures.
 *
 * Signatures are 65 bytes r ‖ s ‖ v with v = 27 or 28 and s in the lower half of the group
 * order, which is what `ecrecover` (and OpenZeppelin's ECDSA.recover) accept. Signing uses
 * tiny-secp256k1 (libsecp256k1 compiled to WASM, about 4x faster than pure JS) since the node
 * signs one receipt per inference, and for recovery (every verification). @noble/curves, which
 * signs identically (both RFC 6979), cross-checks it in the tests.
 */
import * as tiny from 'tiny-secp256k1';
import { PlumbError } from './errors.ts';
import { fromHex, type Hex, isHex, keccak256, toHex } from './hash.ts';

/** Order of the secp256k1 group. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N >> 1n;

function invalid(message: string): PlumbError {
  return new PlumbError('INVALID_ARGUMENT', message);
}

/** True for 32 bytes encoding a scalar in [1, n-1]. */
export function isPrivateKey(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === 32 && tiny.isPrivate(value);
}

function assertPrivateKey(pk: Uint8Array): void {
  if (!isPrivateKey(pk)) throw invalid('private key must be 32 bytes encoding a scalar in [1, n-1]');
}

function assertDigest(digest: Uint8Array): void {
  if (!(digest instanceof Uint8Array) || digest.length !== 32) throw invalid('digest must be 32 bytes');
}

/** EIP-55 mixed-case checksum form of a 20-byte hex address (any case in). */
export function checksumAddress(address: string): Hex {
  if (!isHex(address, 20)) throw invalid(`not a 20-byte hex address: ${String(address).slice(0, 44)}`);
  const lower = address.slice(2).toLowerCase();
  const hash = keccak256(Buffer.from(lower, 'ascii'));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const c = lower[i]!;
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    out += nibble >= 8 ? c.toUpperCase() : c;
  }
  return out as Hex;
}

/**
 * True for 0x + 40 hex digits. All-lowercase and all-uppercase forms are accepted as they
 * carry no checksum; a mixed-case address must have a correct EIP-55 checksum unless
 * `strict` is false.
 */
export function isAddress(value: unknown, options: { strict?: boolean } = {}): value is Hex {
  if (!isHex(value, 20)) return false;
  if (options.strict === false) return true;
  const digits = value.slice(2);
  if (digits === digits.toLowerCase() || digits === digits.toUpperCase()) return true;
  return checksumAddress(value) === value;
}

function addressOfPublicKey(uncompressed: Uint8Array): Hex {
  // 0x04 ‖ x ‖ y; the address is the last 20 bytes of keccak256(x ‖ y).
  return checksumAddress(toHex(keccak256(uncompressed.subarray(1)).subarray(12)));
}

/** The checksummed address of a private key. */
export function privateKeyToAddress(pk: Uint8Array): Hex {
  assertPrivateKey(pk);
  const pub = tiny.pointFromScalar(pk, false);
  if (pub === null) throw invalid('private key has no public key'); // unreachable for a valid scalar
  return addressOfPublicKey(pub);
}

/** Sign a 32-byte digest: 65-byte r ‖ s ‖ v, v = 27/28, low-s, deterministic (RFC 6979). */
export function signDigest(digest: Uint8Array, pk: Uint8Array): Hex {
  assertDigest(digest);
  assertPrivateKey(pk);
  const { signature, recoveryId } = tiny.signRecoverable(digest, pk);
  // libsecp256k1 normalizes s to the low half and adjusts the recovery id to match. Ids 2 and
  // 3 (r ≥ n) occur with probability ~2^-127 and cannot be expressed to ecrecover.
  if (recoveryId > 1) throw new PlumbError('INTERNAL', `unexpected recovery id ${recoveryId}`);
  const out = new Uint8Array(65);
  out.set(signature, 0);
  out[64] = 27 + recoveryId;
  return toHex(out);
}

/** The parts of a 65-byte r ‖ s ‖ v signature, checked; throws INVALID_ARGUMENT. */
export function parseSignature(signature: string): { r: bigint; s: bigint; recovery: 0 | 1 } {
  if (!isHex(signature, 65)) {
    throw invalid('signature must be 65 bytes of 0x-hex (r ‖ s ‖ v)');
  }
  const bytes = fromHex(signature);
  const r = BigInt(toHex(bytes.subarray(0, 32)));
  const s = BigInt(toHex(bytes.subarray(32, 64)));
  const v = bytes[64]!;
  if (r === 0n || r >= N) throw invalid('signature r is out of range');
  if (s === 0n || s >= N) throw invalid('signature s is out of range');
  if (s > HALF_N) throw invalid('signature s is in the upper half of the curve order (malleable, not low-s)');
  let recovery: 0 | 1;
  if (v === 27 || v === 0) recovery = 0;
  else if (v === 28 || v === 1) recovery = 1;
  else throw invalid(`signature v must be 27 or 28 (or 0/1), got ${v}`);
  return { r, s, recovery };
}

/** The checksummed address whose key signed `digest`. Throws INVALID_ARGUMENT on a malformed signature. */
export function recoverAddress(digest: Uint8Array, signature: Hex): Hex {
  assertDigest(digest);
  const { recovery } = parseSignature(signature); // checks r, s (low-s) and v
  const rs = fromHex(signature).subarray(0, 64);
  let point: Uint8Array | null;
  try {
    point = tiny.recover(digest, rs, recovery, false);
  } catch (error) {
    throw new PlumbError('INVALID_ARGUMENT', 'signature does not recover to a public key', { cause: error });
  }
  if (!point) throw new PlumbError('INVALID_ARGUMENT', 'signature does not recover to a public key');
  return addressOfPublicKey(point);
}
