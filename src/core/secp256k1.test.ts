import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { isPlumbError } from './errors.ts';
import { fromHex, type Hex, keccak256, toHex } from './hash.ts';
import {
  checksumAddress,
  isAddress,
  isPrivateKey,
  parseSignature,
  privateKeyToAddress,
  recoverAddress,
  signDigest,
} from './secp256k1.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const word = (n: bigint) => n.toString(16).padStart(64, '0');
const scalar = (n: bigint) => fromHex(`0x${word(n)}`);

function throwsInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isPlumbError(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(error)}`);
    assert.match(error.shortMessage, pattern);
    return true;
  });
}

const pk = fromHex('0xc85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4');
const digest = keccak256(new TextEncoder().encode('plumb'));

describe('addresses', () => {
  it('derives known addresses', () => {
    assert.equal(privateKeyToAddress(pk), '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826');
    assert.equal(privateKeyToAddress(scalar(1n)), '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf');
  });

  it('checksums the EIP-55 examples', () => {
    for (const a of [
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
      '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    ]) {
      assert.equal(checksumAddress(a.toLowerCase()), a);
      assert.equal(checksumAddress(a.toUpperCase().replace('0X', '0x')), a);
      assert.ok(isAddress(a));
    }
    throwsInvalid(() => checksumAddress('0x1234'), /not a 20-byte hex address/);
  });

  it('validates addresses', () => {
    assert.ok(isAddress('0x52908400098527886E0F7030069857D2E4169EE7'));
    assert.ok(isAddress('0xde709f2102306220921060314715629080e2fb77'));
    const badChecksum = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD';
    assert.equal(isAddress(badChecksum), false);
    assert.equal(isAddress(badChecksum, { strict: false }), true);
    assert.equal(isAddress('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA'), false);
    assert.equal(isAddress('5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'), false);
    assert.equal(isAddress(42), false);
  });

  it('checks private keys', () => {
    assert.ok(isPrivateKey(pk));
    assert.ok(isPrivateKey(scalar(N - 1n)));
    assert.equal(isPrivateKey(scalar(0n)), false);
    assert.equal(isPrivateKey(scalar(N)), false);
    assert.equal(isPrivateKey(pk.subarray(1)), false);
    throwsInvalid(() => privateKeyToAddress(scalar(N)), /private key must be 32 bytes/);
  });
});

describe('signDigest / recoverAddress', () => {
  it('gives the same bytes as noble (both RFC 6979, low-s)', () => {
    for (let i = 0; i < 64; i++) {
      const key = secp256k1.utils.randomSecretKey();
      const d = new Uint8Array(randomBytes(32));
      const ours = fromHex(signDigest(d, key));
      const noble = secp256k1.sign(d, key, { prehash: false, format: 'recovered' }); // recovery ‖ r ‖ s
      assert.deepEqual(ours.subarray(0, 64), noble.subarray(1));
      assert.equal(ours[64], 27 + noble[0]!);
      assert.ok(BigInt(toHex(ours.subarray(32, 64))) <= N / 2n, 'low-s');
    }
  });

  it('is deterministic and round-trips', () => {
    const sig = signDigest(digest, pk);
    assert.equal(signDigest(digest, pk), sig);
    assert.match(sig, /^0x[0-9a-f]{128}(1b|1c)$/);
    assert.equal(recoverAddress(digest, sig), privateKeyToAddress(pk));
  });

  it('recovers a different address for a tampered digest', () => {
    const sig = signDigest(digest, pk);
    const tampered = new Uint8Array(digest);
    tampered[0]! ^= 1;
    assert.notEqual(recoverAddress(tampered, sig), privateKeyToAddress(pk));
  });

  it('accepts v as 0/1', () => {
    const sig = fromHex(signDigest(digest, pk));
    sig[64] = sig[64]! - 27;
    assert.equal(recoverAddress(digest, toHex(sig)), privateKeyToAddress(pk));
  });

  it('rejects malformed signatures', () => {
    const sig = fromHex(signDigest(digest, pk));
    const r = BigInt(toHex(sig.subarray(0, 32)));
    const s = BigInt(toHex(sig.subarray(32, 64)));
    const v = sig[64]!;
    const make = (rr: bigint, ss: bigint, vv: number) =>
      `0x${word(rr)}${word(ss)}${vv.toString(16).padStart(2, '0')}` as Hex;

    // The malleable twin (n - s, flipped v) is a valid ECDSA signature, but not low-s.
    throwsInvalid(() => recoverAddress(digest, make(r, N - s, v === 27 ? 28 : 27)), /upper half/);
    throwsInvalid(() => recoverAddress(digest, make(r, s, 29)), /v must be 27 or 28/);
    throwsInvalid(() => recoverAddress(digest, make(r, s, 2)), /v must be 27 or 28/);
    throwsInvalid(() => recoverAddress(digest, make(0n, s, v)), /r is out of range/);
    throwsInvalid(() => recoverAddress(digest, make(N, s, v)), /r is out of range/);
    throwsInvalid(() => recoverAddress(digest, make(r, 0n, v)), /s is out of range/);
    throwsInvalid(() => recoverAddress(digest, toHex(sig.subarray(0, 64))), /65 bytes/);
    throwsInvalid(() => recoverAddress(digest, `${toHex(sig)}00` as Hex), /65 bytes/);
    throwsInvalid(() => recoverAddress(digest, 'hello' as Hex), /65 bytes/);
    throwsInvalid(() => recoverAddress(digest.subarray(1), toHex(sig)), /digest must be 32 bytes/);
    // An r with no curve point for either parity of y: x = 5 has no point on secp256k1.
    throwsInvalid(() => recoverAddress(digest, make(5n, s, v)), /does not recover/);
    assert.deepEqual(parseSignature(toHex(sig)), { r, s, recovery: v - 27 });
  });

  it('rejects bad signing inputs', () => {
    throwsInvalid(() => signDigest(digest.subarray(1), pk), /digest must be 32 bytes/);
    throwsInvalid(() => signDigest(digest, scalar(0n)), /private key must be/);
    throwsInvalid(() => signDigest(digest, scalar(N)), /private key must be/);
  });
});
