/**
 * The signing thread: holds the node's private key and signs batches of EIP-712 digests.
 * Message in: { id, digests } (32 bytes each, concatenated); out: { id, signatures }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { signDigest } from '../core/secp256k1.ts';

const key = workerData as Uint8Array;

parentPort!.on('message', ({ id, digests }: { id: number; digests: Uint8Array }) => {
  const signatures: string[] = [];
  for (let i = 0; i < digests.length; i += 32) signatures.push(signDigest(digests.subarray(i, i + 32), key));
  parentPort!.postMessage({ id, signatures });
});
