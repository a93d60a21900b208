/** BN254 scalar field arithmetic helpers: the field circom's default curve works in. */

/** The BN254 (bn128) scalar field modulus: the field of circom's default curve. */
export const FIELD_PRIME = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export const abs = (x: bigint): bigint => (x < 0n ? -x : x);
const mod = (x: bigint): bigint => ((x % FIELD_PRIME) + FIELD_PRIME) % FIELD_PRIME;

/** Signed integer of a field element x mod p (values above p/2 are negative). */
export function fieldToSigned(x: bigint): bigint {
  const v = mod(x);
  return v > FIELD_PRIME / 2n ? v - FIELD_PRIME : v;
}

/** Field element (decimal string) of a signed integer. */
export function signedToField(x: bigint): string {
  return mod(x).toString();
}
