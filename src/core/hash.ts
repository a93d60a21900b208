/** Hashing primitives, as 0x-prefixed lowercase hex where they leave this module. */
import { createHash } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';

export type Hex = `0x${string}`;

export function sha256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

export function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

const hexPattern = /^0x([0-9a-fA-F]{2})*$/;

export function isHex(value: unknown, byteLength?: number): value is Hex {
  if (typeof value !== 'string' || !hexPattern.test(value)) return false;
  return byteLength === undefined || value.length === 2 + 2 * byteLength;
}

export function fromHex(hex: string): Uint8Array {
  if (!hexPattern.test(hex)) throw new TypeError(`not 0x-prefixed hex with whole bytes: ${hex.slice(0, 20)}`);
  return new Uint8Array(Buffer.from(hex.slice(2), 'hex'));
}
