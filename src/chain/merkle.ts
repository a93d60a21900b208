/**
 * Merkle trees of receipt ids, as OpenZeppelin's StandardMerkleTree builds them for one
 * `bytes32` value per leaf: the leaf of id is keccak256(keccak256(abi.encode(id))), leaves
 * sorted, pairs hashed in sorted order. So a proof from here checks on chain with
 * OpenZeppelin's `MerkleProof.verify(proof, root, leaf)`.
 *
 * The library is slow where it matters here: `StandardMerkleTree.of` spends most of its time
 * in abi encoding and BigInt comparisons (about 0.9 s for 10,000 ids), and `getProof` re-hashes
 * to check itself (about 1 ms). So `receiptTree` computes the same tree (`of`'s array layout,
 * node for node) straight from bytes, about 3x faster (the ~30,000 keccaks are most of what is
 * left), and hands it to the library's class (its `dump`, `render`, `getProof` work as ever);
 * proofs are read off that array (~0.1 ms) and checked byte-wise, never throwing.
 * merkle.test.ts holds the tree, the proofs and the verdicts equal to the library's own.
 * The array packs into 32-byte nodes (`treeNodes`) that a node keeps per batch, so a proof of
 * an old batch is a binary search (`proofFromNodes`), not a rebuild.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { PlumbError } from '../core/errors.ts';
import { type Hex, toHex } from '../core/hash.ts';

/** A receipt id's leaf encoding: one `bytes32`. */
export const receiptLeafEncoding: readonly string[] = ['bytes32'];

export type ReceiptTree = StandardMerkleTree<[Hex]>;

const id32 = /^0x[0-9a-fA-F]{64}$/;

/** The library's class, built from a tree computed here (its constructor is protected). */
class PrecomputedTree extends StandardMerkleTree<[Hex]> {
  /** Lowercase id -> its leaf's index in the tree array. */
  readonly leafIndex = new Map<string, number>();
  /** The tree array, packed (see `treeNodes`). */
  packed: Uint8Array = new Uint8Array(0);

  static from(nodes: Uint8Array, values: { value: [Hex]; treeIndex: number }[]): PrecomputedTree {
    const tree = Array.from({ length: nodes.length / 32 }, (_, i) =>
      toHex(nodes.subarray(32 * i, 32 * i + 32)),
    );
    const t = new PrecomputedTree(tree, values, [...receiptLeafEncoding]);
    t.packed = nodes;
    for (const { value, treeIndex } of values) t.leafIndex.set(value[0], treeIndex);
    return t;
  }
}

function idBytes(id: string): Uint8Array {
  if (typeof id !== 'string' || !id32.test(id))
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `not a receipt id (0x and 32 bytes of hex): ${String(id).slice(0, 80)}`,
    );
  return new Uint8Array(Buffer.from(id.slice(2), 'hex'));
}

/** keccak256(keccak256(abi.encode(id))): abi.encode of a bytes32 is its 32 bytes. */
function leafBytes(id: Uint8Array): Uint8Array {
  return keccak_256(keccak_256(id));
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

const pair = new Uint8Array(64);
/** OpenZeppelin's node hash: keccak256 of the two children, smaller first. */
function nodeBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const [lo, hi] = compare(a, b) <= 0 ? [a, b] : [b, a];
  pair.set(lo, 0);
  pair.set(hi, 32);
  return keccak_256(pair);
}

/** The leaf a receipt id has in a settlement tree (what `MerkleProof.verify` takes on chain). */
export function receiptLeaf(id: string): Hex {
  return toHex(leafBytes(idBytes(id)));
}

/**
 * The tree of a batch of receipt ids (0x-hex bytes32, any case; kept lowercase). The root does
 * not depend on the order of `ids`. Throws INVALID_ARGUMENT on no ids, a malformed id, or an
 * id given twice.
 */
export function receiptTree(ids: readonly string[]): ReceiptTree {
  const n = ids.length;
  if (n === 0) throw new PlumbError('INVALID_ARGUMENT', 'a settlement batch needs at least one receipt id');
  const leaves = ids.map((id, index) => ({ index, hash: leafBytes(idBytes(id)) }));
  const values = ids.map((id) => [id.toLowerCase() as Hex] as [Hex]);
  leaves.sort((a, b) => compare(a.hash, b.hash));
  for (let k = 1; k < n; k++)
    if (compare(leaves[k - 1]!.hash, leaves[k]!.hash) === 0)
      throw new PlumbError(
        'INVALID_ARGUMENT',
        `receipt id ${values[leaves[k]!.index]![0]} appears twice in one settlement batch`,
        { metaMessages: ['A receipt is settled once: each id goes in one batch, once.'] },
      );
  // The library's layout: leaves sorted ascending from the end of the array, parents before.
  const nodes = new Uint8Array(32 * (2 * n - 1));
  const at = (i: number) => nodes.subarray(32 * i, 32 * i + 32);
  const indexed = new Array<{ value: [Hex]; treeIndex: number }>(n);
  for (let k = 0; k < n; k++) {
    const { index, hash } = leaves[k]!;
    const treeIndex = 2 * n - 2 - k;
    nodes.set(hash, 32 * treeIndex);
    indexed[index] = { value: values[index]!, treeIndex };
  }
  for (let i = n - 2; i >= 0; i--) nodes.set(nodeBytes(at(2 * i + 1), at(2 * i + 2)), 32 * i);
  return PrecomputedTree.from(nodes, indexed);
}

/**
 * A tree's array (root first, leaves last, as `dump().tree`) packed as 32-byte nodes: what a
 * node keeps per batch, so a proof is a lookup (`proofFromNodes`), not a rebuild.
 */
export function treeNodes(tree: ReceiptTree): Uint8Array {
  if (tree instanceof PrecomputedTree) return tree.packed;
  const hex = tree.dump().tree;
  const nodes = new Uint8Array(32 * hex.length);
  for (const [i, h] of hex.entries()) nodes.set(idBytes(h), 32 * i);
  return nodes;
}

/**
 * The proof of `id` from a packed tree (`treeNodes`): its leaf found by binary search (leaves
 * are sorted), then the siblings up to the root. RECEIPT_NOT_FOUND when it is not a leaf.
 */
export function proofFromNodes(nodes: Uint8Array, id: string): Hex[] {
  const count = nodes.length / 32;
  if (!Number.isInteger(count) || count % 2 !== 1)
    throw new PlumbError('INVALID_ARGUMENT', `not a packed Merkle tree: ${nodes.length} bytes`);
  const n = (count + 1) / 2;
  const at = (i: number) => nodes.subarray(32 * i, 32 * i + 32);
  const leaf = typeof id === 'string' && id32.test(id) ? leafBytes(idBytes(id)) : undefined;
  let lo = 0;
  let hi = n - 1;
  while (leaf && lo <= hi) {
    const k = (lo + hi) >>> 1;
    const c = compare(at(2 * n - 2 - k), leaf);
    if (c === 0) return siblings(2 * n - 2 - k, (i) => toHex(at(i)));
    if (c < 0) lo = k + 1;
    else hi = k - 1;
  }
  throw new PlumbError(
    'RECEIPT_NOT_FOUND',
    `receipt ${id} is not in the settlement batch with root ${toHex(at(0))}`,
  );
}

/** The library's walk (core.getProof): each node's sibling, up to the root. */
function siblings(index: number, node: (i: number) => Hex): Hex[] {
  const proof: Hex[] = [];
  for (let i = index; i > 0; i = Math.floor((i - 1) / 2)) proof.push(node(i % 2 === 1 ? i + 1 : i - 1));
  return proof;
}

/** The Merkle root of a batch of receipt ids (what `Settlement.submitBatch` takes). */
export function receiptRoot(ids: readonly string[]): Hex {
  return receiptTree(ids).root as Hex;
}

/**
 * The proof that `id` is in a batch (its ids, or their tree): sibling hashes from leaf to
 * root. Throws RECEIPT_NOT_FOUND when the id is not in the batch.
 */
export function receiptProof(batch: readonly string[] | ReceiptTree, id: string): Hex[] {
  const tree = Array.isArray(batch) ? receiptTree(batch as readonly string[]) : (batch as ReceiptTree);
  const key = typeof id === 'string' ? id.toLowerCase() : '';
  const { tree: nodes, values } = tree.dump();
  let i = tree instanceof PrecomputedTree ? tree.leafIndex.get(key) : undefined;
  if (i === undefined && !(tree instanceof PrecomputedTree) && id32.test(key)) {
    try {
      i = values[tree.leafLookup([key as Hex])]?.treeIndex;
    } catch {}
  }
  if (i === undefined)
    throw new PlumbError(
      'RECEIPT_NOT_FOUND',
      `receipt ${id} is not in the settlement batch with root ${tree.root}`,
    );
  return siblings(i, (j) => nodes[j] as Hex);
}

/**
 * True when `proof` proves `id` is in the tree with root `root`. Never throws: malformed
 * input (not hex, wrong lengths, not arrays) is simply not a proof.
 */
export function verifyReceiptProof(root: unknown, id: unknown, proof: unknown): boolean {
  try {
    if (typeof root !== 'string' || !id32.test(root)) return false;
    if (typeof id !== 'string' || !id32.test(id)) return false;
    if (!Array.isArray(proof) || proof.length > 256) return false;
    if (!proof.every((p) => typeof p === 'string' && id32.test(p))) return false;
    // The library's processProof, on bytes: fold the siblings into the leaf, pairs sorted.
    let node = leafBytes(idBytes(id));
    for (const sibling of proof as string[]) node = nodeBytes(node, idBytes(sibling));
    return toHex(node) === root.toLowerCase();
  } catch {
    return false;
  }
}
