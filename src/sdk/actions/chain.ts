/**
 * Chain actions on a node: its chain status, staking, registering a model on chain, settling
 * now, a receipt's settlement proof, and challenges. (Grouped: each is one request.)
 */

import type { RegisterModelReturnType } from '../../chain/actions/register-model.ts';
import type { ChainStatus } from '../../chain/actions/status.ts';
import type { SettlementProof } from '../../chain/verify-onchain.ts';
import type { TensorMapJson } from '../../core/tensor.ts';
import type { ChallengeReturnType } from '../../node/challenge.ts';
import { type Client, postJson, sendJson } from '../client.ts';

export type { ChainStatus, ChallengeReturnType, RegisterModelReturnType, SettlementProof };

/** Chain id, block, contract addresses, this node's stake and settlement queue. */
export function getChainStatus(client: Client): Promise<ChainStatus> {
  return sendJson(client, '/v1/chain');
}

export type StakeParameters =
  | { action: 'stake' | 'unbond'; amount: string }
  | { action: 'withdraw'; amount?: undefined };

/**
 * Stake ether from the node's account (registering it), ask to unbond some, or withdraw what
 * finished unbonding. Amounts are decimal ether strings.
 * @example await stake(client, { action: 'stake', amount: '1.0' })
 */
export function stake(client: Client, p: StakeParameters): Promise<{ txHash: string; status: ChainStatus }> {
  return sendJson(client, '/v1/chain/stake', postJson(p));
}

/** Register a hosted model on chain; a zk model also gets its verifier contract and ZkSpec. */
export function registerModelOnchain(
  client: Client,
  p: { model: string; tolerance?: number },
): Promise<RegisterModelReturnType> {
  return sendJson(client, '/v1/chain/models', postJson(p));
}

export type SettleReturnType = {
  batches: {
    id: number;
    chainBatchId: string;
    root: string;
    count: number;
    txHash: string;
    blockNumber: string;
  }[];
  receipts: number;
};

/** Settle every queued receipt now. */
export function settle(client: Client): Promise<SettleReturnType> {
  return sendJson(client, '/v1/settle', { method: 'POST' });
}

/** Where the node settled a receipt: its batch on chain and Merkle proof (or that it is still queued). */
export function getSettlement(client: Client, { id }: { id: string }): Promise<SettlementProof> {
  return sendJson(client, `/v1/receipts/${encodeURIComponent(id)}/settlement`);
}

/** Have the node prove a receipt's output wrong with a zk proof, and slash its signer on chain. */
export function challenge(
  client: Client,
  p: { receipt: unknown; inputs?: TensorMapJson },
): Promise<ChallengeReturnType> {
  return sendJson(client, '/v1/challenges', postJson(p));
}
