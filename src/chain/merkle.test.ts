import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { concat, encodeAbiParameters, type Hex, keccak256 } from 'viem';
import { isPlumbError } from '../core/errors.ts';
import {
  proofFromNodes,
  receiptLeaf,
  receiptProof,
  receiptRoot,
  receiptTree,
  treeNodes,
  verifyReceiptProof,
} from './merkle.ts';

const randomId = (): Hex => `0x${randomBytes(32).toString('hex')}`;
const ids = (n: number): Hex[] => Array.from({ length: n }, randomId);

/** By hand, as OpenZeppelin's MerkleProof sees it. */
const leafOf = (id: Hex): Hex => keccak256(keccak256(encodeAbiParameters([{ type: 'bytes32' }], [id])));
const node = (a: Hex, b: Hex): Hex => keccak256(BigInt(a) <= BigInt(b) ? concat([a, b]) : concat([b, a]));
const ascending = (hashes: Hex[]): Hex[] =>
  [...hashes].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));

test('known answers: one, two and three leaves hashed by hand', () => {
  const [a, b, c] = ids(3) as [Hex, Hex, Hex];
  assert.equal(receiptLeaf(a), leafOf(a));
  assert.equal(receiptRoot([a]), leafOf(a), 'a lone leaf is the root');
  assert.deepEqual(receiptProof([a], a), []);
  assert.equal(receiptRoot([a, b]), node(leafOf(a), leafOf(b)));
  assert.equal(receiptRoot([b, a]), receiptRoot([a, b]), 'the order of ids does not matter');
  // Three leaves, sorted s0 < s1 < s2: the two smallest pair up, the largest joins at the root.
  const [s0, s1, s2] = ascending([leafOf(a), leafOf(b), leafOf(c)]) as [Hex, Hex, Hex];
  assert.equal(receiptRoot([a, b, c]), node(node(s0, s1), s2));
  assert.equal(receiptRoot([c, a, b]), receiptRoot([a, b, c]));
  // The largest leaf's proof is one hash (its sibling, the pair below); the others' two.
  const largest = [a, b, c].find((id) => leafOf(id) === s2)!;
  assert.deepEqual(receiptProof([a, b, c], largest), [node(s0, s1)]);
  // Upper-case ids are the same ids.
  assert.equal(receiptRoot([a.toUpperCase().replace('0X', '0x'), b]), receiptRoot([a, b]));
});

test('the tree is OpenZeppelin StandardMerkleTree.of, node for node', () => {
  for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 100, 1000]) {
    const batch = ids(n);
    const ours = receiptTree(batch).dump();
    const theirs = StandardMerkleTree.of(
      batch.map((id) => [id]),
      ['bytes32'],
    ).dump();
    assert.deepEqual(ours, theirs, `${n} leaves`);
  }
});

test('every proof verifies, here and with the library; forged and other-batch proofs do not', () => {
  const batch = ids(37);
  const tree = receiptTree(batch);
  const root = tree.root as Hex;
  const nodes = treeNodes(tree);
  assert.equal(nodes.length, 32 * (2 * 37 - 1));
  for (const id of batch) {
    const proof = receiptProof(tree, id);
    assert.deepEqual(proofFromNodes(nodes, id), proof, 'from the packed nodes');
    assert.ok(verifyReceiptProof(root, id, proof));
    assert.deepEqual(proof, tree.getProof([id]), "the library's proof");
    assert.ok(StandardMerkleTree.verify(root, ['bytes32'], [id], proof));
    assert.deepEqual(receiptProof(batch, id), proof, 'from the ids or from the tree');
  }
  const id = batch[5]!;
  const proof = receiptProof(tree, id);
  // Another id, a changed sibling, a dropped or added step, another batch's root.
  assert.equal(verifyReceiptProof(root, randomId(), proof), false);
  const forged = [...proof];
  forged[1] = randomId();
  assert.equal(verifyReceiptProof(root, id, forged), false);
  assert.equal(verifyReceiptProof(root, id, proof.slice(1)), false);
  assert.equal(verifyReceiptProof(root, id, [...proof, randomId()]), false);
  const other = ids(37);
  assert.equal(verifyReceiptProof(receiptRoot(other), id, proof), false);
  assert.equal(verifyReceiptProof(root, other[0], receiptProof(other, other[0]!)), false);
  // A tree the library loaded (not built here) gives the same proofs.
  const loaded = StandardMerkleTree.load(tree.dump());
  assert.deepEqual(receiptProof(loaded, id), proof);
  assert.deepEqual(treeNodes(loaded), nodes);
  assert.throws(
    () => receiptProof(loaded, randomId()),
    (e: unknown) => isPlumbError(e, 'RECEIPT_NOT_FOUND'),
  );
  // Upper case is the same hex.
  assert.ok(
    verifyReceiptProof(root.toUpperCase().replace('0X', '0x'), id.toUpperCase().replace('0X', '0x'), proof),
  );
});

test('malformed input is not a proof, and never throws', () => {
  const batch = ids(4);
  const root = receiptRoot(batch);
  const id = batch[0]!;
  const proof = receiptProof(batch, id);
  const bad: [unknown, unknown, unknown][] = [
    [undefined, id, proof],
    [root, undefined, proof],
    [root, id, undefined],
    [root, id, 'not an array'],
    [root, id, [42]],
    [root, id, [...proof.slice(1), '0x1234']],
    [`${root}00`, id, proof],
    [root.slice(0, 10), id, proof],
    ['0xzz'.padEnd(66, 'z'), id, proof],
    [root, `${id.slice(0, 65)}g`, proof],
    [root, id, [null]],
    [{ root }, id, proof],
  ];
  for (const [r, i, p] of bad) assert.equal(verifyReceiptProof(r, i, p), false, JSON.stringify([r, i, p]));
});

test('duplicates, empty batches, malformed ids and absent ids are refused clearly', () => {
  const [a, b] = ids(2) as [Hex, Hex];
  assert.throws(
    () => receiptTree([a, b, a]),
    (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT') && e.message.includes(`${a} appears twice`),
  );
  assert.throws(
    () => receiptTree([a, b.toUpperCase().replace('0X', '0x'), b]),
    (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT') && /appears twice/.test(e.message),
  );
  assert.throws(
    () => receiptRoot([]),
    (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT'),
  );
  assert.throws(
    () => receiptRoot([a, '0x1234']),
    (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT') && /not a receipt id/.test(e.message),
  );
  assert.throws(
    () => receiptProof([a, b], randomId()),
    (e: unknown) => isPlumbError(e, 'RECEIPT_NOT_FOUND'),
  );
  assert.throws(
    () => receiptProof([a, b], 'nonsense'),
    (e: unknown) => isPlumbError(e, 'RECEIPT_NOT_FOUND'),
  );
  const nodes = treeNodes(receiptTree([a, b]));
  for (const absent of [randomId(), 'nonsense'])
    assert.throws(
      () => proofFromNodes(nodes, absent),
      (e: unknown) => isPlumbError(e, 'RECEIPT_NOT_FOUND'),
    );
  assert.throws(
    () => proofFromNodes(nodes.subarray(32), a),
    (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT') && /not a packed Merkle tree/.test(e.message),
  );
});

test('10,000 ids: build and prove in well under a second', () => {
  const batch = ids(10_000);
  let t = performance.now();
  const tree = receiptTree(batch);
  const build = performance.now() - t;
  t = performance.now();
  const proof = receiptProof(tree, batch[1234]!);
  const prove = performance.now() - t;
  const nodes = treeNodes(tree);
  t = performance.now();
  assert.deepEqual(proofFromNodes(nodes, batch[1234]!), proof);
  const lookup = performance.now() - t;
  assert.ok(proof.length === 13 || proof.length === 14, 'leaves sit at depth 13 or 14 of 10,000');
  assert.ok(verifyReceiptProof(tree.root, batch[1234], proof));
  assert.ok(build < 2000, `built in ${build.toFixed(0)} ms`);
  if (process.env['PLUMB_BENCH'])
    console.log(
      `10,000 ids: build ${build.toFixed(0)} ms, proof ${prove.toFixed(2)} ms, from nodes ${lookup.toFixed(2)} ms`,
    );
});
