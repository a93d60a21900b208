import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  domainSeparator,
  encodeType,
  hashStruct,
  hashTypedData,
  type TypedData,
  type TypedDataTypes,
  typedDataDigest,
  typeHash,
} from './eip712.ts';
import { isPlumbError } from './errors.ts';
import { fromHex, type Hex, keccak256, toHex } from './hash.ts';
import { recoverAddress, signDigest } from './secp256k1.ts';

type MailVector = TypedData & {
  message: { from: { name: string; wallet: string }; to: { name: string; wallet: string }; contents: string };
  expected: {
    typeHashMail: Hex;
    hashStructMail: Hex;
    domainSeparator: Hex;
    digest: Hex;
    privateKey: Hex;
    address: Hex;
    signature: { v: number; r: Hex; s: Hex };
  };
};

const mail = JSON.parse(
  readFileSync(new URL('../../../shared/vectors/eip712/mail.json', import.meta.url), 'utf8'),
) as MailVector;

// Helpers for computing expected values by hand, independently of eip712.ts.
const utf8 = (s: string) => new TextEncoder().encode(s);
const kHex = (data: Uint8Array) => toHex(keccak256(data));
const cat = (...hexes: string[]) => fromHex(`0x${hexes.map((h) => h.replace(/^0x/, '')).join('')}`);
const uintWord = (n: bigint) => n.toString(16).padStart(64, '0');
const KECCAK_EMPTY = '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470';

function throwsInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isPlumbError(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(error)}`);
    assert.match(error.shortMessage, pattern);
    return true;
  });
}

describe('EIP-712 Mail vector (EIP-712 Example.js)', () => {
  it('encodes the type', () => {
    assert.equal(
      encodeType(mail.types, 'Mail'),
      'Mail(Person from,Person to,string contents)Person(string name,address wallet)',
    );
    assert.equal(typeHash(mail.types, 'Mail'), mail.expected.typeHashMail);
  });

  it('hashes the struct, the domain and the digest', () => {
    assert.equal(hashStruct(mail.types, 'Mail', mail.message), mail.expected.hashStructMail);
    assert.equal(domainSeparator(mail.domain), mail.expected.domainSeparator);
    assert.equal(hashTypedData(mail), mail.expected.digest);
    assert.equal(toHex(typedDataDigest(mail)), mail.expected.digest);
  });

  it('gives the same digest without EIP712Domain in types', () => {
    const { EIP712Domain: _, ...types } = mail.types;
    assert.equal(hashTypedData({ ...mail, types }), mail.expected.digest);
  });

  it('signs to exactly the vector signature and recovers its address', () => {
    const digest = typedDataDigest(mail);
    const { r, s, v } = mail.expected.signature;
    const expected = `${r}${s.slice(2)}${v.toString(16)}`;
    assert.equal(signDigest(digest, fromHex(mail.expected.privateKey)), expected);
    assert.equal(recoverAddress(digest, expected as Hex).toLowerCase(), mail.expected.address);
  });
});

describe('EIP-712 arrays of structs (published eth-sig-util v4 vector, "Cow2Bob3")', () => {
  const data = {
    domain: mail.domain,
    types: {
      Person: [
        { name: 'name', type: 'string' },
        { name: 'wallets', type: 'address[]' },
      ],
      Mail: [
        { name: 'from', type: 'Person' },
        { name: 'to', type: 'Person[]' },
        { name: 'contents', type: 'string' },
      ],
      Group: [
        { name: 'name', type: 'string' },
        { name: 'members', type: 'Person[]' },
      ],
    },
    primaryType: 'Mail',
    message: {
      from: {
        name: 'Cow',
        wallets: ['0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826', '0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF'],
      },
      to: [
        {
          name: 'Bob',
          wallets: [
            '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB',
            '0xB0BdaBea57B0BDABeA57b0bdABEA57b0BDabEa57',
            '0xB0B0b0b0b0b0B000000000000000000000000000',
          ],
        },
      ],
      contents: 'Hello, Bob!',
    },
  } as const;

  it('matches the published hashes', () => {
    assert.equal(
      encodeType(data.types, 'Mail'),
      'Mail(Person from,Person[] to,string contents)Person(string name,address[] wallets)',
    );
    assert.equal(
      encodeType(data.types, 'Group'),
      'Group(string name,Person[] members)Person(string name,address[] wallets)',
    );
    assert.equal(
      typeHash(data.types, 'Person'),
      '0xfabfe1ed996349fc6027709802be19d047da1aa5d6894ff5f6486d92db2e6860',
    );
    assert.equal(
      typeHash(data.types, 'Mail'),
      '0x4bd8a9a2b93427bb184aca81e24beb30ffa3c747e2a33d4225ec08bf12e2e753',
    );
    assert.equal(
      hashStruct(data.types, 'Person', data.message.from),
      '0x9b4846dd48b866f0ac54d61b9b21a9e746f921cefa4ee94c4c0a1c49c774f67f',
    );
    assert.equal(
      hashStruct(data.types, 'Person', data.message.to[0]),
      '0xefa62530c7ae3a290f8a13a5fc20450bdb3a6af19d9d9d2542b5a94e631a9168',
    );
    assert.equal(
      hashStruct(data.types, 'Mail', data.message),
      '0xeb4221181ff3f1a83ea7313993ca9218496e424604ba9492bb4052c03d5c3df8',
    );
    assert.equal(hashTypedData(data), '0xa85c2e2b118698e88db68a8105b794a8cc7cec074e89ef991cb4f5f533819cc2');
  });

  it('matches a by-hand computation of the Person[] member', () => {
    const personHash = (name: string, wallets: readonly string[]) =>
      kHex(
        cat(
          kHex(utf8('Person(string name,address[] wallets)')),
          kHex(utf8(name)),
          kHex(cat(...wallets.map((w) => w.slice(2).toLowerCase().padStart(64, '0')))),
        ),
      );
    const to = kHex(cat(...data.message.to.map((p) => personHash(p.name, p.wallets))));
    const expected = kHex(
      cat(
        kHex(utf8(encodeType(data.types, 'Mail'))),
        personHash(data.message.from.name, data.message.from.wallets),
        to,
        kHex(utf8(data.message.contents)),
      ),
    );
    assert.equal(hashStruct(data.types, 'Mail', data.message), expected);
  });
});

describe('EIP-712 bytes<N> (published vector with bytes8)', () => {
  it('right-pads bytes8', () => {
    const data = {
      domain: mail.domain,
      types: {
        Person: [
          { name: 'name', type: 'string' },
          { name: 'wallet', type: 'address' },
          { name: 'count', type: 'bytes8' },
        ],
      },
      primaryType: 'Person',
      message: {
        name: 'Bob',
        wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB',
        count: '0x1122334455667788',
      },
    };
    assert.equal(hashTypedData(data), '0x2a3e64893ed4ba30ea34dbff3b0aa08c7677876cfdf7112362eccf3111f58d1d');
  });
});

describe('EIP-712 atomic encodings, checked by hand', () => {
  const types = {
    Order: [
      { name: 'delta', type: 'int256' },
      { name: 'small', type: 'int8' },
      { name: 'id', type: 'bytes32' },
      { name: 'counts', type: 'uint8[3]' },
      { name: 'ok', type: 'bool' },
      { name: 'data', type: 'bytes' },
      { name: 'amount', type: 'uint256' },
    ],
  } satisfies TypedDataTypes;
  const id = '0x0102030405060708091011121314151617181920212223242526272829303132';

  function expectedOrder(delta: string, small: string, amount: bigint, ok: boolean): Hex {
    return kHex(
      cat(
        kHex(
          utf8('Order(int256 delta,int8 small,bytes32 id,uint8[3] counts,bool ok,bytes data,uint256 amount)'),
        ),
        delta,
        small,
        id,
        kHex(cat(uintWord(7n), uintWord(0n), uintWord(255n))),
        uintWord(ok ? 1n : 0n),
        KECCAK_EMPTY,
        uintWord(amount),
      ),
    );
  }

  it('encodes negative ints as 256-bit two’s complement, fixed arrays, bytes32, bool, empty bytes', () => {
    const value = {
      delta: -1,
      small: '-128',
      id,
      counts: [7, 0n, '255'],
      ok: true,
      data: '0x',
      amount: 10n ** 30n,
    };
    const expected = expectedOrder('f'.repeat(64), `${'f'.repeat(62)}80`, 10n ** 30n, true);
    assert.equal(hashStruct(types, 'Order', value), expected);
    // The same values in other accepted representations give the same hash.
    assert.equal(
      hashStruct(types, 'Order', {
        ...value,
        delta: -1n,
        small: -128,
        id: fromHex(id),
        data: new Uint8Array(0),
        amount: (10n ** 30n).toString(),
      }),
      expected,
    );
  });

  it('encodes the int256 extremes', () => {
    const min = -(1n << 255n);
    const max = (1n << 255n) - 1n;
    const base = { small: 0, id, counts: [7, 0, 255], ok: false, data: '0x', amount: 0 };
    assert.equal(
      hashStruct(types, 'Order', { ...base, delta: min }),
      expectedOrder(`80${'0'.repeat(62)}`, uintWord(0n), 0n, false),
    );
    assert.equal(
      hashStruct(types, 'Order', { ...base, delta: max }),
      expectedOrder(`7f${'f'.repeat(62)}`, uintWord(0n), 0n, false),
    );
    throwsInvalid(
      () => hashStruct(types, 'Order', { ...base, delta: min - 1n }),
      /message\.delta: .*out of range/,
    );
    throwsInvalid(() => hashStruct(types, 'Order', { ...base, delta: max + 1n }), /out of range for int256/);
  });

  it('range-checks sized ints', () => {
    const base = { delta: 0, small: 0, id, counts: [7, 0, 255], ok: false, data: '0x', amount: 0 };
    throwsInvalid(
      () => hashStruct(types, 'Order', { ...base, small: 128 }),
      /message\.small: 128 is out of range for int8/,
    );
    throwsInvalid(() => hashStruct(types, 'Order', { ...base, small: -129 }), /out of range for int8/);
    throwsInvalid(
      () => hashStruct(types, 'Order', { ...base, counts: [7, 256, 0] }),
      /message\.counts\[1\]: 256 is out of range for uint8/,
    );
    throwsInvalid(
      () => hashStruct(types, 'Order', { ...base, amount: -1 }),
      /message\.amount: -1 is out of range/,
    );
    throwsInvalid(
      () => hashStruct(types, 'Order', { ...base, amount: 2 ** 60 }),
      /message\.amount: expected an integer/,
    );
    throwsInvalid(() => hashStruct(types, 'Order', { ...base, amount: 1.5 }), /expected an integer/);
    throwsInvalid(() => hashStruct(types, 'Order', { ...base, amount: '1e3' }), /expected an integer/);
    throwsInvalid(() => hashStruct(types, 'Order', { ...base, ok: 1 }), /message\.ok: expected a boolean/);
    throwsInvalid(
      () => hashStruct(types, 'Order', { ...base, id: '0x1234' }),
      /message\.id: expected a 32-byte/,
    );
    throwsInvalid(
      () => hashStruct(types, 'Order', { ...base, counts: [1, 2] }),
      /message\.counts: expected 3 elements for uint8\[3\], got 2/,
    );
    throwsInvalid(
      () => hashStruct(types, 'Order', { ...base, data: 'hello' }),
      /message\.data: expected bytes/,
    );
  });
});

describe('EIP-712 nested structs and arrays', () => {
  const types = {
    Batch: [
      { name: 'jobs', type: 'Job[2]' },
      { name: 'matrix', type: 'uint16[][]' },
      { name: 'owner', type: 'Owner' },
    ],
    Owner: [{ name: 'tag', type: 'bytes4' }],
    Job: [
      { name: 'owner', type: 'Owner' },
      { name: 'labels', type: 'string[]' },
    ],
    Unused: [{ name: 'x', type: 'uint256' }],
  } satisfies TypedDataTypes;

  it('lists referenced types once, sorted by name, after the primary type', () => {
    assert.equal(
      encodeType(types, 'Batch'),
      'Batch(Job[2] jobs,uint16[][] matrix,Owner owner)Job(Owner owner,string[] labels)Owner(bytes4 tag)',
    );
    assert.equal(encodeType(types, 'Job'), 'Job(Owner owner,string[] labels)Owner(bytes4 tag)');
  });

  it('handles self-referencing types', () => {
    const recursive = {
      Mail: [
        { name: 'from', type: 'Person' },
        { name: 'replyTo', type: 'Mail[]' },
      ],
      Person: [{ name: 'name', type: 'string' }],
    };
    assert.equal(encodeType(recursive, 'Mail'), 'Mail(Person from,Mail[] replyTo)Person(string name)');
    const leaf = { from: { name: 'a' }, replyTo: [] };
    assert.equal(
      hashStruct(recursive, 'Mail', { from: { name: 'b' }, replyTo: [leaf] }),
      kHex(
        cat(
          kHex(utf8('Mail(Person from,Mail[] replyTo)Person(string name)')),
          kHex(cat(kHex(utf8('Person(string name)')), kHex(utf8('b')))),
          kHex(fromHex(hashStruct(recursive, 'Mail', leaf))),
        ),
      ),
    );
  });

  it('hashes nested arrays of structs and of arrays', () => {
    const ownerHash = (tag: string) =>
      kHex(cat(kHex(utf8('Owner(bytes4 tag)')), tag.slice(2).padEnd(64, '0')));
    const jobHash = (tag: string, labels: string[]) =>
      kHex(
        cat(
          kHex(utf8('Job(Owner owner,string[] labels)Owner(bytes4 tag)')),
          ownerHash(tag),
          kHex(cat(...labels.map((l) => kHex(utf8(l))))),
        ),
      );
    const expected = kHex(
      cat(
        kHex(utf8(encodeType(types, 'Batch'))),
        kHex(cat(jobHash('0xdeadbeef', ['a', 'b']), jobHash('0x00000001', []))),
        kHex(
          cat(kHex(cat(uintWord(1n), uintWord(2n))), kHex(new Uint8Array(0)), kHex(cat(uintWord(65535n)))),
        ),
        ownerHash('0xcafebabe'),
      ),
    );
    const value = {
      jobs: [
        { owner: { tag: '0xdeadbeef' }, labels: ['a', 'b'] },
        { owner: { tag: '0x00000001' }, labels: [] },
      ],
      matrix: [[1, 2], [], [65535]],
      owner: { tag: '0xcafebabe' },
    };
    assert.equal(hashStruct(types, 'Batch', value), expected);
    throwsInvalid(
      () => hashStruct(types, 'Batch', { ...value, matrix: [[1], [2, 70000]] }),
      /message\.matrix\[1\]\[1\]: 70000 is out of range for uint16/,
    );
    throwsInvalid(
      () =>
        hashStruct(types, 'Batch', { ...value, jobs: [value.jobs[0], { owner: { tag: 5 }, labels: [] }] }),
      /message\.jobs\[1\]\.owner\.tag: expected a 4-byte value/,
    );
  });
});

describe('EIP-712 domain', () => {
  it('builds EIP712Domain from the fields present, in the standard order', () => {
    const salt = `0x${'ab'.repeat(32)}` as const;
    const expected = kHex(
      cat(
        kHex(utf8('EIP712Domain(string name,uint256 chainId,bytes32 salt)')),
        kHex(utf8('Plumb')),
        uintWord(8453n),
        salt,
      ),
    );
    assert.equal(domainSeparator({ salt, chainId: 8453, name: 'Plumb' }), expected);
    assert.equal(domainSeparator({ name: 'Plumb', chainId: 8453n, salt, version: undefined }), expected);
    assert.equal(domainSeparator({ name: 'Plumb', chainId: '8453', salt }), expected);
    assert.equal(domainSeparator({}), kHex(cat(kHex(utf8('EIP712Domain()')))));
  });

  it('does not let the separator cache accept a value it would reject', () => {
    const sep = domainSeparator({ name: 'Plumb', chainId: '9007199254740993' });
    assert.equal(domainSeparator({ name: 'Plumb', chainId: 9007199254740993n }), sep);
    throwsInvalid(
      () => domainSeparator({ name: 'Plumb', chainId: 2 ** 53 + 2 }),
      /domain\.chainId: expected an integer/,
    );
    domainSeparator({ version: '1' });
    throwsInvalid(
      () => domainSeparator({ name: null, version: '1' } as never),
      /domain\.name: expected a string/,
    );
  });

  it('rejects unknown domain fields, bad values, and a mismatching declared EIP712Domain', () => {
    throwsInvalid(() => domainSeparator({ nam: 'x' } as never), /domain\.nam: not an EIP712Domain field/);
    throwsInvalid(
      () => domainSeparator({ verifyingContract: '0x1234' }),
      /domain\.verifyingContract: expected a 20-byte address/,
    );
    throwsInvalid(() => domainSeparator({ chainId: -1 }), /domain\.chainId: -1 is out of range/);
    const types = { ...mail.types, EIP712Domain: mail.types['EIP712Domain']!.slice(0, 2) };
    throwsInvalid(() => hashTypedData({ ...mail, types }), /types\.EIP712Domain: does not match/);
  });
});

describe('EIP-712 errors name the field path', () => {
  it('reports a bad address', () => {
    const message = { ...mail.message, from: { name: 'Cow', wallet: '0xCD2a' } };
    throwsInvalid(
      () => hashTypedData({ ...mail, message }),
      /^message\.from\.wallet: expected a 20-byte address/,
    );
  });

  it('reports missing, extra and mistyped members', () => {
    throwsInvalid(
      () => hashTypedData({ ...mail, message: { ...mail.message, contents: undefined } }),
      /^message\.contents: missing \(string\)/,
    );
    throwsInvalid(
      () => hashTypedData({ ...mail, message: { ...mail.message, cc: 'x' } }),
      /^message\.cc: not a member of Mail/,
    );
    throwsInvalid(
      () => hashTypedData({ ...mail, message: { ...mail.message, to: 'Bob' } }),
      /^message\.to: expected an object for struct Person/,
    );
    throwsInvalid(
      () => hashTypedData({ ...mail, message: { ...mail.message, contents: 5 } }),
      /message\.contents: expected a string/,
    );
    throwsInvalid(() => hashStruct(mail.types, 'Mail', null, 'receipt'), /^receipt: expected an object/);
  });

  it('rejects malformed types', () => {
    throwsInvalid(() => encodeType({ A: [{ name: 'x', type: 'uint' }] }, 'A'), /A\.x: unknown type 'uint'/);
    throwsInvalid(() => encodeType({ A: [{ name: 'x', type: 'uint7' }] }, 'A'), /unknown type 'uint7'/);
    throwsInvalid(() => encodeType({ A: [{ name: 'x', type: 'bytes33' }] }, 'A'), /unknown type 'bytes33'/);
    throwsInvalid(() => encodeType({ A: [{ name: 'x', type: 'B' }] }, 'A'), /unknown type 'B'/);
    throwsInvalid(() => encodeType({ A: [{ name: 'x', type: 'uint8[0]' }] }, 'A'), /bad array length/);
    throwsInvalid(() => encodeType({ A: [{ name: 'x,y', type: 'uint8' }] }, 'A'), /not an identifier/);
    throwsInvalid(
      () =>
        encodeType(
          {
            A: [
              { name: 'x', type: 'uint8' },
              { name: 'x', type: 'uint8' },
            ],
          },
          'A',
        ),
      /appears twice/,
    );
    throwsInvalid(() => encodeType({}, 'A'), /unknown struct type 'A'/);
  });
});
