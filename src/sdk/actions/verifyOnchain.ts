import { onchainChecks } from '../../chain/verify-onchain.ts';
import {
  type Check,
  parseReceipt,
  type Receipt,
  type VerifyReceiptReturnType,
  verdict,
} from '../../core/receipt.ts';
import { verifyReceipt } from '../../proof/zk/verify-receipt.ts';
import type { Client } from '../client.ts';
import { getChainStatus, getSettlement } from './chain.ts';
import { getZkInfo } from './getZkInfo.ts';

export type VerifyOnchainParameters = {
  receipt: unknown;
  /** The chain's RPC (default: the one the node reports). The chain is read directly, not through the node. */
  rpcUrl?: string | undefined;
};

/**
 * Verify a receipt offline (hashes, signature, zk proof) and on chain: signed for a Plumb
 * Settlement contract of that chain, by a registered staked node, and included in a batch the
 * node settled (its Merkle proof, which the node supplies, checked on chain).
 * @example const { valid, checks } = await verifyOnchain(client, { receipt })
 */
export async function verifyOnchain(
  client: Client,
  { receipt: json, rpcUrl }: VerifyOnchainParameters,
): Promise<VerifyReceiptReturnType> {
  const receipt = parseReceipt(json);
  const offline = await verifyReceipt(receipt, {
    zk: receipt.mode === 'zk' ? (cid) => getZkInfo(client, { ref: cid }) : undefined,
  });
  return verdict([...offline.checks, ...(await onchainChecksVia(client, receipt, rpcUrl))]);
}

/**
 * The on-chain checks alone: the node supplies the Merkle proof (and its RPC URL unless
 * `rpcUrl` is given); the chain decides.
 */
export async function onchainChecksVia(client: Client, receipt: Receipt, rpcUrl?: string): Promise<Check[]> {
  const url = rpcUrl ?? (await getChainStatus(client)).rpcUrl;
  return onchainChecks(url, receipt, await getSettlement(client, { id: receipt.id }));
}
