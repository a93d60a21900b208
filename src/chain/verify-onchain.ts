/**
 * The on-chain checks of a receipt (`plumb verify --onchain`), read straight from the chain the
 * receipt names — no node is trusted for them:
 *
 * - `chainDomain`: the receipt is signed in the EIP-712 domain of a Plumb Settlement contract on
 *   this chain (its chainId and verifyingContract);
 * - `onchainDigest`: that contract hashes the receipt's fields to the receipt's id, so a contract
 *   will accept this signature;
 * - `nodeStake`: the signer is registered with at least the minimum stake, so a lie costs it;
 * - `settled`: the receipt is a leaf of a batch the signer settled, by its Merkle proof checked
 *   with OpenZeppelin's MerkleProof against the root on chain.
 */
import { createPublicClient, formatEther, getAddress, type Hex, http, isAddressEqual } from 'viem';
import { errorMessage } from '../core/errors.ts';
import { type Check, checkList, type Receipt } from '../core/receipt.ts';
import { NodeRegistryAbi, SettlementAbi } from './abi.ts';
import { chainIdAt } from './connect.ts';
import { verifyReceiptProof } from './merkle.ts';
import { receiptStruct } from './receipt-struct.ts';
import type { ReceiptSettlement } from './settler.ts';

/** Where a node says a receipt was settled (`GET /v1/receipts/{id}/settlement`). */
export type SettlementProof =
  | {
      status: 'settled';
      /** `chainBatchId` as a decimal string (a uint256 on chain); tx and block unknown after a crash. */
      batch: {
        chainBatchId: string;
        root: Hex;
        count: number;
        txHash?: Hex | undefined;
        blockNumber?: number | undefined;
      };
      proof: Hex[];
    }
  | { status: 'queued' | 'pending' | 'unknown' };

/** A Settler's answer for a receipt, in the form the API and verifiers use. */
export function settlementProofOf(s: ReceiptSettlement | undefined): SettlementProof {
  if (!s) return { status: 'unknown' };
  if (s.status !== 'settled') return { status: s.status };
  const b = s.batch;
  return {
    status: 'settled',
    batch: {
      chainBatchId: String(b.chainBatchId),
      root: s.root,
      count: b.count,
      ...(b.txHash ? { txHash: b.txHash as Hex } : {}),
      ...(b.blockNumber !== undefined ? { blockNumber: b.blockNumber } : {}),
    },
    proof: s.proof,
  };
}

export async function onchainChecks(
  rpcUrl: string,
  receipt: Receipt,
  settlement: SettlementProof | undefined,
): Promise<Check[]> {
  const { checks, run, fail } = checkList();
  const { chainId, verifyingContract } = receipt.domain;
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 1 }) });
  const contract = verifyingContract as Hex | undefined;
  const domainOk = await run('chainDomain', async () => {
    if (chainId === undefined || contract === undefined)
      fail('the receipt is not signed for a chain (its domain has no chainId and verifyingContract)');
    const actual = await chainIdAt(rpcUrl);
    if (actual !== chainId) fail(`the receipt is for chain ${chainId}; ${rpcUrl} is chain ${actual}`);
    const code = await client.getCode({ address: contract! });
    if (!code || code === '0x')
      fail(`no contract at the receipt's verifyingContract ${contract} on chain ${chainId}`);
    return `signed for Settlement ${contract} on chain ${chainId}`;
  });
  if (!domainOk) return checks;
  const settlementContract = { address: contract!, abi: SettlementAbi } as const;
  const digestOk = await run('onchainDigest', async () => {
    let digest: Hex;
    try {
      digest = await client.readContract({
        ...settlementContract,
        functionName: 'hashReceipt',
        args: [receiptStruct(receipt)],
      });
    } catch (error) {
      return fail(`${contract} is not a Plumb Settlement contract: ${errorMessage(error)}`);
    }
    if (digest.toLowerCase() !== receipt.id.toLowerCase())
      fail(`the Settlement contract hashes the receipt to ${digest}, not its id ${receipt.id}`);
    return 'the Settlement contract hashes the receipt to its id';
  });
  if (!digestOk) return checks;
  await run('nodeStake', async () => {
    const nodeRegistry = await client.readContract({ ...settlementContract, functionName: 'nodeRegistry' });
    const registry = { address: nodeRegistry, abi: NodeRegistryAbi } as const;
    const node = getAddress(receipt.node);
    const [[staked, unbonding], active, minStake] = await Promise.all([
      client.readContract({ ...registry, functionName: 'stakeOf', args: [node] }),
      client.readContract({ ...registry, functionName: 'isActive', args: [node] }),
      client.readContract({ ...registry, functionName: 'minStake' }),
    ]);
    if (!active)
      fail(
        staked === 0n && unbonding === 0n
          ? `node ${node} is not registered (no stake) on chain ${chainId}`
          : `node ${node} has ${formatEther(staked)} ETH staked, below the minimum ${formatEther(minStake)}`,
      );
    return `node ${node} is registered with ${formatEther(staked)} ETH staked`;
  });
  await run('settled', async () => {
    if (settlement?.status !== 'settled')
      fail(
        settlement?.status === 'queued' || settlement?.status === 'pending'
          ? `not settled yet: the receipt is ${settlement.status === 'queued' ? 'queued for' : 'in a batch awaiting'} settlement (run plumb settle)`
          : 'not settled: no settled batch holds this receipt',
      );
    const s = settlement as Extract<SettlementProof, { status: 'settled' }>;
    let batchId: bigint;
    try {
      batchId = BigInt(s.batch.chainBatchId);
    } catch {
      return fail(`bad batch id "${s.batch.chainBatchId}"`);
    }
    const batch = await client.readContract({
      ...settlementContract,
      functionName: 'batches',
      args: [batchId],
    });
    const [root, node] = [batch[0], batch[1]];
    if (/^0x0{64}$/.test(root)) fail(`batch ${batchId} was never settled on chain ${chainId}`);
    if (!isAddressEqual(node, getAddress(receipt.node)))
      fail(`batch ${batchId} was settled by ${node}, not by the receipt's node ${receipt.node}`);
    const included = await client.readContract({
      ...settlementContract,
      functionName: 'isSettled',
      args: [batchId, receipt.id as Hex, s.proof],
    });
    if (!included || !verifyReceiptProof(root, receipt.id as Hex, s.proof))
      fail(`the Merkle proof does not show receipt ${receipt.id} in batch ${batchId} (root ${root})`);
    return `settled in batch ${batchId} (root ${root}, Merkle proof checked on chain)`;
  });
  return checks;
}
