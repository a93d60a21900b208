import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeType } from './eip712.ts';
import { isPlumbError } from './errors.ts';
import { fromHex, type Hex, keccak256, toHex } from './hash.ts';
import {
  defaultReceiptDomain,
  type ReceiptDigestFields,
  receiptDigest,
  receiptDigestGeneric,
  receiptTypes,
} from './receipt-types.ts';
import { privateKeyToAddress, recoverAddress, signDigest } from './secp256k1.ts';

const fields: ReceiptDigestFields = {
  modelCid: `0x01701220${'aa'.repeat(32)}`,
  inputHash: `0x${'11'.repeat(32)}`,
  outputHash: `0x${'22'.repeat(32)}`,
  mode: 'signed',
  node: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826',
  timestamp: 1767225600000,
  nonce: `0x${'33'.repeat(32)}`,
};

const RECEIPT_TYPE =
  'Receipt(bytes modelCid,bytes32 inputHash,bytes32 outputHash,string mode,address node,uint64 timestamp,bytes32 nonce)';

// Pinned: changing these means every existing receipt stops verifying.
const PINNED_DEFAULT = '0xf557b7b7ba053a23884cdaef42acb588fcf160f6e7d47e146eb82a21bc75e6bc';
const PINNED_CHAIN = '0x4db1e8b8c35bac5d14a4974221076c5c9ffd8d633f25b27642b7d3b7101de903';

const utf8 = (s: string) => new TextEncoder().encode(s);
const k = (data: Uint8Array) => toHex(keccak256(data)).slice(2);
const cat = (...parts: string[]) => fromHex(`0x${parts.join('')}`);

/** The digest computed by hand, as a Solidity contract would (abi.encode of 32-byte words). */
function byHand(f: ReceiptDigestFields, domainWords: { type: string; words: string[] }): Hex {
  const structHash = k(
    cat(
      k(utf8(RECEIPT_TYPE)),
      k(fromHex(f.modelCid as string)),
      (f.inputHash as string).slice(2),
      (f.outputHash as string).slice(2),
      k(utf8(f.mode)),
      f.node.slice(2).toLowerCase().padStart(64, '0'),
      BigInt(f.timestamp).toString(16).padStart(64, '0'),
      (f.nonce as string).slice(2),
    ),
  );
  const domainSeparator = k(cat(k(utf8(domainWords.type)), ...domainWords.words));
  return toHex(keccak256(cat('1901', domainSeparator, structHash)));
}

const defaultDomainWords = {
  type: 'EIP712Domain(string name,string version)',
  words: [k(utf8('Plumb')), k(utf8('1'))],
};

describe('receipt EIP-712 type', () => {
  it('has the documented type string', () => {
    assert.equal(encodeType(receiptTypes, 'Receipt'), RECEIPT_TYPE);
    assert.deepEqual(defaultReceiptDomain, { name: 'Plumb', version: '1' });
  });

  it('matches a by-hand computation and the pinned digest', () => {
    const digest = toHex(receiptDigest(defaultReceiptDomain, fields));
    assert.equal(digest, byHand(fields, defaultDomainWords));
    assert.equal(digest, PINNED_DEFAULT);
  });

  it('binds the domain', () => {
    const domain = { ...defaultReceiptDomain, chainId: 8453, verifyingContract: `0x${'0c'.repeat(20)}` };
    const digest = toHex(receiptDigest(domain, fields));
    assert.equal(
      digest,
      byHand(fields, {
        type: 'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)',
        words: [
          k(utf8('Plumb')),
          k(utf8('1')),
          (8453).toString(16).padStart(64, '0'),
          '0c'.repeat(20).padStart(64, '0'),
        ],
      }),
    );
    assert.equal(digest, PINNED_CHAIN);
    assert.notEqual(toHex(receiptDigest({ ...defaultReceiptDomain, version: '2' }, fields)), PINNED_DEFAULT);
  });

  it('changes when any one field changes', () => {
    const changed: { [K in keyof ReceiptDigestFields]: ReceiptDigestFields[K] } = {
      modelCid: `0x01701220${'aa'.repeat(31)}ab`,
      inputHash: `0x${'11'.repeat(31)}12`,
      outputHash: `0x${'22'.repeat(31)}23`,
      mode: 'Signed',
      node: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB',
      timestamp: 1767225600001,
      nonce: `0x${'33'.repeat(31)}34`,
    };
    const seen = new Set([PINNED_DEFAULT]);
    for (const key of Object.keys(changed) as (keyof ReceiptDigestFields)[]) {
      const digest = toHex(receiptDigest(defaultReceiptDomain, { ...fields, [key]: changed[key] }));
      assert.ok(!seen.has(digest), `changing ${key} must change the digest`);
      seen.add(digest);
    }
    // Swapping the two hashes changes it too (members are positional).
    assert.notEqual(
      toHex(
        receiptDigest(defaultReceiptDomain, {
          ...fields,
          inputHash: fields.outputHash,
          outputHash: fields.inputHash,
        }),
      ),
      PINNED_DEFAULT,
    );
  });

  it('accepts bytes and bigint forms, and ignores extra properties', () => {
    const alt = {
      ...fields,
      modelCid: fromHex(fields.modelCid as string),
      inputHash: fromHex(fields.inputHash as string),
      timestamp: BigInt(fields.timestamp),
      node: fields.node.toLowerCase() as Hex,
      extra: 'not signed',
    };
    assert.equal(toHex(receiptDigest(defaultReceiptDomain, alt)), PINNED_DEFAULT);
  });

  it('names the bad field', () => {
    assert.throws(
      () => receiptDigest(defaultReceiptDomain, { ...fields, inputHash: '0x1234' }),
      (e: unknown) =>
        isPlumbError(e, 'INVALID_ARGUMENT') && /^message\.inputHash: expected a 32-byte/.test(e.shortMessage),
    );
    assert.throws(
      () => receiptDigest(defaultReceiptDomain, { ...fields, timestamp: 2n ** 64n }),
      (e: unknown) =>
        isPlumbError(e, 'INVALID_ARGUMENT') &&
        /message\.timestamp: .*out of range for uint64/.test(e.shortMessage),
    );
  });

  it('signs and recovers', () => {
    const pk = fromHex('0xc85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4');
    const digest = receiptDigest(defaultReceiptDomain, fields);
    assert.equal(recoverAddress(digest, signDigest(digest, pk)), privateKeyToAddress(pk));
  });
});

it('the fast receipt digest equals the general EIP-712 encoder on random fields and domains', async () => {
  const hex = (n: number) => `0x${randomBytes(n).toString('hex')}` as const;
  const domains = [
    defaultReceiptDomain,
    { name: 'Plumb', version: '1', chainId: 31337, verifyingContract: hex(20) },
  ];
  for (let i = 0; i < 200; i++) {
    const fields = {
      modelCid: hex(36),
      inputHash: hex(32),
      outputHash: hex(32),
      mode: i % 2 ? 'signed' : 'zk',
      node: hex(20),
      timestamp: BigInt(`0x${randomBytes(8).toString('hex')}`),
      nonce: hex(32),
    };
    const domain = domains[i % 2]!;
    assert.deepEqual(receiptDigest(domain, fields), receiptDigestGeneric(domain, fields));
  }
});
