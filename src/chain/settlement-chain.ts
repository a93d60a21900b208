/**
 * The Settler's view of the chain: put a batch root on chain with `Settlement.submitBatch`,
 * and ask whether a root is already there (a batch mined just before a crash).
 */
import { type Hex, parseEventLogs } from 'viem';
import { SettlementAbi } from './abi.ts';
import type { ChainConnection } from './connect.ts';
import type { Deployment } from './deploy.ts';
import { chainError } from './errors.ts';
import { sendContract } from './send.ts';
import type { SettlementChain } from './settler.ts';

export function settlementChain(conn: ChainConnection, d: Deployment): SettlementChain {
  const { publicClient } = conn;
  const address = d.settlement;
  return {
    async submitRoot(root: Hex, count: number) {
      try {
        const receipt = await sendContract(conn, {
          address,
          abi: SettlementAbi,
          functionName: 'submitBatch',
          args: [root, count],
        });
        const hash = receipt.transactionHash;
        const [event] = parseEventLogs({ abi: SettlementAbi, logs: receipt.logs, eventName: 'BatchSettled' });
        if (!event) throw new Error(`transaction ${hash} settled no batch`);
        return { txHash: hash, chainBatchId: event.args.batchId, blockNumber: receipt.blockNumber };
      } catch (error) {
        throw chainError(`settling batch ${root}`, error);
      }
    },
    async findRoot(root: Hex) {
      try {
        const id = await publicClient.readContract({
          address,
          abi: SettlementAbi,
          functionName: 'batchIdOfRoot',
          args: [conn.account.address, root],
        });
        return id === 0n ? undefined : { chainBatchId: id };
      } catch (error) {
        throw chainError(`looking up batch ${root}`, error);
      }
    },
  };
}
