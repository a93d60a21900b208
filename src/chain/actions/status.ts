/** `plumb chain status`: where the chain is, Plumb's contracts on it, and this node's stake. */
import { formatEther, type Hex } from 'viem';
import { NodeRegistryAbi } from '../abi.ts';
import { chainError } from '../errors.ts';
import type { ChainService } from '../service.ts';
import type { SettlerStatus } from '../settler.ts';

export type ChainStatus = {
  chainId: number;
  rpcUrl: string;
  /** The embedded devnet (anvil) rather than an external chain. */
  devnet: boolean;
  block: number;
  contracts: { settlement: Hex; nodeRegistry: Hex; modelRegistry: Hex; fraudProofs: Hex; coordinator: Hex };
  node: {
    address: Hex;
    /** Ether amounts as decimal strings. */
    balance: string;
    staked: string;
    unbonding: string;
    /** Unix seconds when the unbonding amount can be withdrawn (0: none). */
    unlockAt: number;
    /** Registered with at least the minimum stake: its receipts count. */
    active: boolean;
    minStake: string;
  };
  settlement: SettlerStatus;
};

export async function chainStatus(chain: ChainService): Promise<ChainStatus> {
  const { publicClient, rpcUrl, chainId, devnet, account } = chain.connection;
  const d = chain.deployment;
  const address = account.address;
  try {
    const registry = { address: d.nodeRegistry, abi: NodeRegistryAbi } as const;
    const [block, balance, [staked, unbonding, unlockAt], active, minStake] = await Promise.all([
      publicClient.getBlockNumber({ cacheTime: 0 }),
      publicClient.getBalance({ address }),
      publicClient.readContract({ ...registry, functionName: 'stakeOf', args: [address] }),
      publicClient.readContract({ ...registry, functionName: 'isActive', args: [address] }),
      publicClient.readContract({ ...registry, functionName: 'minStake' }),
    ]);
    return {
      chainId,
      rpcUrl,
      devnet,
      block: Number(block),
      contracts: {
        settlement: d.settlement,
        nodeRegistry: d.nodeRegistry,
        modelRegistry: d.modelRegistry,
        fraudProofs: d.fraudProofs,
        coordinator: d.coordinator,
      },
      node: {
        address,
        balance: formatEther(balance),
        staked: formatEther(staked),
        unbonding: formatEther(unbonding),
        unlockAt: Number(unlockAt),
        active,
        minStake: formatEther(minStake),
      },
      settlement: chain.settler.status(),
    };
  } catch (error) {
    throw chainError('reading the chain status', error, 'UNAVAILABLE');
  }
}
