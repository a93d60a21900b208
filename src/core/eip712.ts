/**
 * EIP-712 typed structured data hashing (https://eips.ethereum.org/EIPS/eip-712).
 *
 *   digest       = keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message))
 *   hashStruct   = keccak256(typeHash ‖ encodeData(value))
 *   typeHash     = keccak256(encodeType(type))
 *   encodeType   = the type's own signature, then every struct type it references
 *                  (directly or not), sorted by name: `Mail(Person from,...)Person(...)`
 *
 * Each member encodes as one 32-byte word: atomic types ABI-encoded (ints as two's
 * complement, `bytes<N>` right-padded, addresses left-padded), `bytes` and `string` as the
 * keccak256 of their contents, structs as their `hashStruct`, and arrays as the keccak256 of
 * their elements' encodings concatenated.
 *
 * Accepted values: integers as `number` (safe integers only), `bigint` or a decimal string
 * (`"-5"`, `"1000"`), or a 0x-hex string for non-negative values; `bool` as a boolean;
 * `address` as 0x + 40 hex digits (any case: the checksum is not checked here); `bytes` and
 * `bytes<N>` as 0x-hex or a `Uint8Array`; `string` as a string. A struct value must have
 * every member of its type and nothing else. A bad value throws a PlumbError
 * `INVALID_ARGUMENT` that names the field path (`message.from.wallet: ...`).
 *
 * The domain's `EIP712Domain` type is built from the fields the domain has, in the
 * standard order name, version, chainId, verifyingContract, salt.
 */
import { PlumbError } from './errors.ts';
import { fromHex, type Hex, isHex, keccak256, toHex } from './hash.ts';

export type TypedDataField = { readonly name: string; readonly type: string };

/** Struct type name to its members, in order. */
export type TypedDataTypes = { readonly [typeName: string]: readonly TypedDataField[] };

export type TypedDataDomain = {
  readonly name?: string | undefined;
  readonly version?: string | undefined;
  readonly chainId?: number | bigint | string | undefined;
  readonly verifyingContract?: string | undefined;
  readonly salt?: string | Uint8Array | undefined;
};

export type TypedData = {
  readonly domain: TypedDataDomain;
  readonly types: TypedDataTypes;
  readonly primaryType: string;
  readonly message: unknown;
};

const domainFieldTypes = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
  { name: 'salt', type: 'bytes32' },
] as const satisfies readonly TypedDataField[];

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const arraySuffix = /^(.+)\[(\d*)\]$/;
const intType = /^(u?)int(\d+)$/;
const fixedBytesType = /^bytes(\d+)$/;

const TWO_256 = 1n << 256n;

function invalid(message: string, ...hints: string[]): PlumbError {
  return new PlumbError('INVALID_ARGUMENT', message, { metaMessages: hints });
}

/** Structure of a type string. */
type Parsed =
  | { kind: 'int'; signed: boolean; bits: number }
  | { kind: 'bool' }
  | { kind: 'address' }
  | { kind: 'fixedBytes'; size: number }
  | { kind: 'bytes' }
  | { kind: 'string' }
  | { kind: 'struct'; name: string }
  | { kind: 'array'; element: string; length: number | undefined };

function parseType(types: TypedDataTypes, type: string, where: string): Parsed {
  const array = arraySuffix.exec(type);
  if (array) {
    const [, element, len] = array as unknown as [string, string, string];
    if (len === '') return { kind: 'array', element, length: undefined };
    if (len.startsWith('0')) throw invalid(`${where}: bad array length in type '${type}'`);
    return { kind: 'array', element, length: Number(len) };
  }
  if (type === 'bool') return { kind: 'bool' };
  if (type === 'address') return { kind: 'address' };
  if (type === 'bytes') return { kind: 'bytes' };
  if (type === 'string') return { kind: 'string' };
  const int = intType.exec(type);
  if (int) {
    const bits = Number(int[2]);
    if (bits < 8 || bits > 256 || bits % 8 !== 0 || int[2]!.startsWith('0')) {
      throw invalid(`${where}: unknown type '${type}' (int/uint sizes are 8 to 256 in steps of 8)`);
    }
    return { kind: 'int', signed: int[1] === '', bits };
  }
  const fixed = fixedBytesType.exec(type);
  if (fixed) {
    const size = Number(fixed[1]);
    if (size < 1 || size > 32 || fixed[1]!.startsWith('0')) {
      throw invalid(`${where}: unknown type '${type}' (bytes<N> sizes are 1 to 32)`);
    }
    return { kind: 'fixedBytes', size };
  }
  if (Object.hasOwn(types, type)) return { kind: 'struct', name: type };
  throw invalid(`${where}: unknown type '${type}'`);
}

/** The struct type's members, checked for well-formedness. */
function membersOf(types: TypedDataTypes, typeName: string): readonly TypedDataField[] {
  const members = Object.hasOwn(types, typeName) ? types[typeName] : undefined;
  if (members === undefined) throw invalid(`unknown struct type '${typeName}'`);
  if (!identifier.test(typeName)) throw invalid(`struct type name '${typeName}' is not an identifier`);
  if (!Array.isArray(members)) throw invalid(`struct type '${typeName}': members must be an array`);
  const seen = new Set<string>();
  for (const m of members) {
    if (typeof m?.name !== 'string' || !identifier.test(m.name)) {
      throw invalid(`struct type '${typeName}': member name ${JSON.stringify(m?.name)} is not an identifier`);
    }
    if (typeof m.type !== 'string')
      throw invalid(`struct type '${typeName}': member '${m.name}' has no type`);
    if (seen.has(m.name)) throw invalid(`struct type '${typeName}': member '${m.name}' appears twice`);
    seen.add(m.name);
  }
  return members;
}

/** The struct type a (possibly array) type string bottoms out in, if any; checks the type parses. */
function baseStruct(types: TypedDataTypes, type: string, where: string): string | undefined {
  let parsed = parseType(types, type, where);
  while (parsed.kind === 'array') parsed = parseType(types, parsed.element, where);
  return parsed.kind === 'struct' ? parsed.name : undefined;
}

function collectDependencies(types: TypedDataTypes, typeName: string, found: Set<string>): void {
  if (found.has(typeName)) return;
  found.add(typeName);
  for (const m of membersOf(types, typeName)) {
    const dep = baseStruct(types, m.type, `${typeName}.${m.name}`);
    if (dep !== undefined) collectDependencies(types, dep, found);
  }
}

function signatureOf(types: TypedDataTypes, typeName: string): string {
  return `${typeName}(${membersOf(types, typeName)
    .map((m) => `${m.type} ${m.name}`)
    .join(',')})`;
}

/** `Primary(type name,...)` followed by every referenced struct type, sorted by name. */
export function encodeType(types: TypedDataTypes, primaryType: string): string {
  const deps = new Set<string>();
  collectDependencies(types, primaryType, deps);
  deps.delete(primaryType);
  const sorted = [...deps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [primaryType, ...sorted].map((t) => signatureOf(types, t)).join('');
}

const typeHashCache = new Map<string, Uint8Array>();
const typeHashCacheLimit = 256;

function typeHashBytes(types: TypedDataTypes, primaryType: string): Uint8Array {
  const encoded = encodeType(types, primaryType);
  let hash = typeHashCache.get(encoded);
  if (hash === undefined) {
    hash = keccak256(Buffer.from(encoded, 'utf8'));
    if (typeHashCache.size >= typeHashCacheLimit) typeHashCache.clear();
    typeHashCache.set(encoded, hash);
  }
  return hash;
}

/** keccak256(encodeType(types, primaryType)). */
export function typeHash(types: TypedDataTypes, primaryType: string): Hex {
  return toHex(typeHashBytes(types, primaryType));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'a Uint8Array';
  if (typeof value === 'string') return value.length > 24 ? `"${value.slice(0, 24)}..."` : `"${value}"`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return typeof value;
}

function toBigInt(value: unknown, path: string, type: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return BigInt(value);
    throw invalid(
      `${path}: expected an integer for ${type}, got ${describe(value)}`,
      ...(Number.isInteger(value) ? ['Pass integers beyond 2^53 as a bigint or a decimal string.'] : []),
    );
  }
  if (typeof value === 'string') {
    if (/^-?(0|[1-9][0-9]*)$/.test(value)) return BigInt(value);
    if (/^0x[0-9a-fA-F]+$/.test(value)) return BigInt(value);
  }
  throw invalid(
    `${path}: expected an integer (number, bigint or decimal string) for ${type}, got ${describe(value)}`,
  );
}

function word(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 31; i >= 0 && v > 0n; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function bytesValue(value: unknown, path: string, size: number | undefined): Uint8Array {
  const what = size === undefined ? 'bytes' : `a ${size}-byte value`;
  if (value instanceof Uint8Array) {
    if (size !== undefined && value.length !== size) {
      throw invalid(`${path}: expected ${what}, got ${value.length} bytes`);
    }
    return value;
  }
  if (!isHex(value)) throw invalid(`${path}: expected ${what} as 0x-hex, got ${describe(value)}`);
  if (size !== undefined && value.length !== 2 + 2 * size) {
    throw invalid(
      `${path}: expected ${what} (0x + ${2 * size} hex digits), got ${(value.length - 2) / 2} bytes`,
    );
  }
  return fromHex(value);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The 32-byte encoding of one member value. */
function encodeValue(types: TypedDataTypes, type: string, value: unknown, path: string): Uint8Array {
  const parsed = parseType(types, type, path);
  switch (parsed.kind) {
    case 'int': {
      const n = toBigInt(value, path, type);
      const { signed, bits } = parsed;
      const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
      const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
      if (n < min || n > max) throw invalid(`${path}: ${n} is out of range for ${type}`);
      return word(n < 0n ? TWO_256 + n : n);
    }
    case 'bool':
      if (typeof value !== 'boolean') throw invalid(`${path}: expected a boolean, got ${describe(value)}`);
      return word(value ? 1n : 0n);
    case 'address': {
      if (!isHex(value, 20)) throw invalid(`${path}: expected a 20-byte address, got ${describe(value)}`);
      const out = new Uint8Array(32);
      out.set(fromHex(value), 12);
      return out;
    }
    case 'fixedBytes': {
      const out = new Uint8Array(32);
      out.set(bytesValue(value, path, parsed.size));
      return out;
    }
    case 'bytes':
      return keccak256(bytesValue(value, path, undefined));
    case 'string':
      if (typeof value !== 'string') throw invalid(`${path}: expected a string, got ${describe(value)}`);
      return keccak256(Buffer.from(value, 'utf8'));
    case 'struct':
      return hashStructBytes(types, parsed.name, value, path);
    case 'array': {
      if (!Array.isArray(value))
        throw invalid(`${path}: expected an array for ${type}, got ${describe(value)}`);
      if (parsed.length !== undefined && value.length !== parsed.length) {
        throw invalid(`${path}: expected ${parsed.length} elements for ${type}, got ${value.length}`);
      }
      const { element } = parsed;
      return keccak256(concat(value.map((v: unknown, i) => encodeValue(types, element, v, `${path}[${i}]`))));
    }
  }
}

function hashStructBytes(types: TypedDataTypes, typeName: string, value: unknown, path: string): Uint8Array {
  const members = membersOf(types, typeName);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw invalid(`${path}: expected an object for struct ${typeName}, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!members.some((m) => m.name === key)) throw invalid(`${path}.${key}: not a member of ${typeName}`);
  }
  const parts: Uint8Array[] = [typeHashBytes(types, typeName)];
  for (const m of members) {
    const fieldPath = `${path}.${m.name}`;
    if (!Object.hasOwn(record, m.name) || record[m.name] === undefined) {
      throw invalid(`${fieldPath}: missing (${m.type})`);
    }
    parts.push(encodeValue(types, m.type, record[m.name], fieldPath));
  }
  return keccak256(concat(parts));
}

/**
 * keccak256(typeHash ‖ encodeData(value)). `path` names the value in error messages.
 */
export function hashStruct(
  types: TypedDataTypes,
  primaryType: string,
  value: unknown,
  path = 'message',
): Hex {
  return toHex(hashStructBytes(types, primaryType, value, path));
}

/** The `EIP712Domain` members for the fields `domain` has, in the standard order. */
export function domainTypes(domain: TypedDataDomain): TypedDataField[] {
  if (typeof domain !== 'object' || domain === null) throw invalid('domain: expected an object');
  for (const key of Object.keys(domain)) {
    if (!domainFieldTypes.some((f) => f.name === key)) {
      throw invalid(
        `domain.${key}: not an EIP712Domain field (name, version, chainId, verifyingContract, salt)`,
      );
    }
  }
  return domainFieldTypes.filter((f) => domain[f.name] !== undefined);
}

// Nodes sign every receipt under the same domain: its separator costs as much to hash as the
// rest of the digest, so keep recent ones. Keyed by each field's JS type and value, so a value
// only ever hits an entry made from an identical value.
const domainCache = new Map<string, Uint8Array>();
const domainCacheLimit = 64;

function domainSeparatorBytes(domain: TypedDataDomain): Uint8Array {
  const fields = domainTypes(domain);
  const key = JSON.stringify(
    domainFieldTypes.map((f) => {
      const v = domain[f.name];
      return v instanceof Uint8Array ? ['bytes', toHex(v)] : [typeof v, String(v)];
    }),
  );
  const cached = domainCache.get(key);
  if (cached !== undefined) return cached;
  const value: Record<string, unknown> = {};
  for (const f of domainFieldTypes) if (domain[f.name] !== undefined) value[f.name] = domain[f.name];
  const hash = hashStructBytes({ EIP712Domain: fields }, 'EIP712Domain', value, 'domain');
  if (domainCache.size >= domainCacheLimit) domainCache.clear();
  domainCache.set(key, hash);
  return hash;
}

/** hashStruct(EIP712Domain, domain), with EIP712Domain built from the fields present. */
export function domainSeparator(domain: TypedDataDomain): Hex {
  return toHex(domainSeparatorBytes(domain));
}

function sameFields(a: readonly TypedDataField[], b: readonly TypedDataField[]): boolean {
  return a.length === b.length && a.every((f, i) => f.name === b[i]?.name && f.type === b[i]?.type);
}

/**
 * The 32-byte digest to sign: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message)).
 *
 * `types` may include `EIP712Domain` (as `eth_signTypedData_v4` payloads do); if it does, it
 * must list exactly the fields the domain has, in the standard order.
 */
export function typedDataDigest(data: TypedData): Uint8Array {
  const { domain, types, primaryType, message } = data;
  if (Object.hasOwn(types, 'EIP712Domain')) {
    const declared = types['EIP712Domain'];
    if (!Array.isArray(declared) || !sameFields(declared, domainTypes(domain))) {
      throw invalid(
        'types.EIP712Domain: does not match the fields present in domain',
        `Expected ${signatureOf({ EIP712Domain: domainTypes(domain) }, 'EIP712Domain')}.`,
      );
    }
  }
  const prefix = Uint8Array.of(0x19, 0x01);
  return keccak256(
    concat([prefix, domainSeparatorBytes(domain), hashStructBytes(types, primaryType, message, 'message')]),
  );
}

/** typedDataDigest as 0x-hex. */
export function hashTypedData(data: TypedData): Hex {
  return toHex(typedDataDigest(data));
}
