/** `plumb node register --stake ETH`, `plumb node unbond ETH`, `plumb node withdraw`. */
import { type Hex, parseEther } from 'viem';
import { PlumbError } from '../../core/errors.ts';
import { NodeRegistryAbi } from '../abi.ts';
import { chainError } from '../errors.ts';
import type { ChainService } from '../service.ts';

export type StakeAction = 'stake' | 'unbond' | 'withdraw';

/** A decimal ether amount ("1.0", "0.25") in wei; a clear error for anything else. */
export function etherAmount(text: string, what = 'amount'): bigint {
  if (!/^[0-9]+(\.[0-9]{1,18})?$/.test(text.trim()))
    throw new PlumbError('INVALID_ARGUMENT', `${what}: expected an ether amount such as 1.0, got "${text}"`);
  const wei = parseEther(text.trim());
  if (wei === 0n) throw new PlumbError('INVALID_ARGUMENT', `${what}: must be more than 0`);
  return wei;
}

/** Send one NodeRegistry transaction from the node's account; resolves when mined. */
export async function stakeAction(
  chain: ChainService,
  action: StakeAction,
  amount?: bigint,
): Promise<{ txHash: Hex }> {
  const { walletClient, publicClient } = chain.connection;
  const registry = { address: chain.deployment.nodeRegistry, abi: NodeRegistryAbi } as const;
  try {
    let hash: Hex;
    if (action === 'stake')
      hash = await walletClient.writeContract({ ...registry, functionName: 'stake', value: need(amount) });
    else if (action === 'unbond')
      hash = await walletClient.writeContract({
        ...registry,
        functionName: 'requestUnbond',
        args: [need(amount)],
      });
    else hash = await walletClient.writeContract({ ...registry, functionName: 'withdraw' });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success')
      throw new PlumbError('CONFLICT', `${action}: transaction ${hash} reverted`);
    return { txHash: hash };
  } catch (error) {
    throw chainError(action, error);
  }
}

function need(amount: bigint | undefined): bigint {
  if (amount === undefined) throw new PlumbError('INVALID_ARGUMENT', 'an amount is needed');
  return amount;
}
