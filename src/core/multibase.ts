/**
 * The two multibase encodings CIDs use: base32 (RFC 4648, lower case, no padding; CIDv1's
 * 'b' prefix) and base58btc (CIDv0). Decoders return the bytes, or a reason the text is not
 * canonical in that base.
 */

const base32Alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
const base32Values = new Int8Array(128).fill(-1);
for (let i = 0; i < base32Alphabet.length; i++) base32Values[base32Alphabet.charCodeAt(i)] = i;

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 text, or returns a reason it is not canonical base32. */
export function base32Decode(text: string): Uint8Array | string {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? base32Values[c]! : -1;
    if (v < 0) return `character ${JSON.stringify(text[i])} at position ${i + 1} is not base32 (a-z, 2-7)`;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[j++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) return 'the base32 text has a malformed ending';
  return out;
}

const base58Alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58Decode(text: string): Uint8Array | string {
  let n = 0n;
  let zeros = 0;
  for (let i = 0; i < text.length; i++) {
    const v = base58Alphabet.indexOf(text[i]!);
    if (v < 0) return `character ${JSON.stringify(text[i])} at position ${i + 1} is not base58btc`;
    if (n === 0n && v === 0) zeros++;
    n = n * 58n + BigInt(v);
  }
  const body: number[] = [];
  while (n > 0n) {
    body.push(Number(n & 0xffn));
    n >>= 8n;
  }
  const out = new Uint8Array(zeros + body.length);
  for (let i = 0; i < body.length; i++) out[out.length - 1 - i] = body[i]!;
  return out;
}

export function base58Encode(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = base58Alphabet[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}
