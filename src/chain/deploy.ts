/**
 * Plumb's contracts on a chain: deploy them, or find a deployment from its Settlement
 * address. Settlement is a deployment's root — it is the `verifyingContract` of every receipt
 * the node signs on that chain — and names the others, so a receipt and an RPC URL are all a
 * verifier needs.
 *
 * A node remembers its deployment per chain in `<dataDir>/chain/deployment-<chainId>.json`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { getAddress, type Hex, parseEther } from 'viem';
import { PlumbError } from '../core/errors.ts';
import { NodeRegistryAbi, SettlementAbi } from './abi.ts';
import { compileContracts, contractArtifact } from './compile.ts';
import type { ChainConnection } from './connect.ts';
import { deployArtifact, sendContract } from './send.ts';

export type Deployment = {
  chainId: number;
  settlement: Hex;
  nodeRegistry: Hex;
  modelRegistry: Hex;
  fraudProofs: Hex;
  coordinator: Hex;
  /** Block of the deployment (where event scans start). */
  block: number;
};

export type DeployParameters = {
  /** Least stake of an active node, in wei (default 0.1 ether). */
  minStake?: bigint | undefined;
  /** Seconds between asking to unbond and withdrawing (default 7 days; slashable meanwhile). */
  unbondingPeriod?: number | undefined;
};

export function deploymentPath(dataDir: string, chainId: number): string {
  return join(dataDir, 'chain', `deployment-${chainId}.json`);
}

export async function readDeployment(dataDir: string, chainId: number): Promise<Deployment | undefined> {
  try {
    return JSON.parse(await readFile(deploymentPath(dataDir, chainId), 'utf8')) as Deployment;
  } catch {
    return undefined;
  }
}

export async function writeDeployment(dataDir: string, d: Deployment): Promise<void> {
  const path = deploymentPath(dataDir, d.chainId);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(d, null, 2)}\n`);
}

/** Deploy and wire Plumb's contracts with the connection's account. */
export async function deployContracts(conn: ChainConnection, p: DeployParameters = {}): Promise<Deployment> {
  const compiled = await compileContracts();
  const start = await conn.publicClient.getBlockNumber({ cacheTime: 0 });
  const deploy = async (name: string, args: readonly unknown[]): Promise<Hex> =>
    (await deployArtifact(conn, name, contractArtifact(compiled, name), args)).address;
  const minStake = p.minStake ?? parseEther('0.1');
  const unbonding = BigInt(p.unbondingPeriod ?? 7 * 24 * 3600);
  const nodeRegistry = await deploy('NodeRegistry', [minStake, unbonding]);
  const modelRegistry = await deploy('ModelRegistry', []);
  const settlement = await deploy('Settlement', [nodeRegistry, modelRegistry]);
  const fraudProofs = await deploy('FraudProofs', [nodeRegistry, modelRegistry, settlement]);
  const coordinator = await deploy('Coordinator', [nodeRegistry, modelRegistry, settlement]);
  await sendContract(conn, {
    address: nodeRegistry,
    abi: NodeRegistryAbi,
    functionName: 'setSlashers',
    args: [[fraudProofs]],
  });
  await sendContract(conn, {
    address: settlement,
    abi: SettlementAbi,
    functionName: 'setModules',
    args: [fraudProofs, coordinator],
  });
  return {
    chainId: conn.chainId,
    settlement,
    nodeRegistry,
    modelRegistry,
    fraudProofs,
    coordinator,
    block: Number(start),
  };
}

/** The deployment whose Settlement contract is at `settlement`, read from the chain. */
export async function findDeployment(conn: ChainConnection, settlement: Hex): Promise<Deployment> {
  const { publicClient } = conn;
  const code = await publicClient.getCode({ address: settlement });
  if (!code || code === '0x')
    throw new PlumbError(
      'NOT_FOUND',
      `no Plumb Settlement contract at ${settlement} on chain ${conn.chainId} (no code there)`,
    );
  const read = (functionName: 'nodeRegistry' | 'modelRegistry' | 'fraudProofs' | 'coordinator') =>
    publicClient.readContract({ address: settlement, abi: SettlementAbi, functionName }) as Promise<Hex>;
  try {
    const [nodeRegistry, modelRegistry, fraudProofs, coordinator, block] = await Promise.all([
      read('nodeRegistry'),
      read('modelRegistry'),
      read('fraudProofs'),
      read('coordinator'),
      publicClient.readContract({ address: settlement, abi: SettlementAbi, functionName: 'deployedAt' }),
    ]);
    return {
      chainId: conn.chainId,
      settlement: getAddress(settlement),
      nodeRegistry,
      modelRegistry,
      fraudProofs,
      coordinator,
      block: Number(block),
    };
  } catch (error) {
    throw new PlumbError(
      'NOT_FOUND',
      `${settlement} on chain ${conn.chainId} is not a Plumb Settlement contract`,
      {
        cause: error,
      },
    );
  }
}

/** True when every contract of `d` has code on the connected chain. */
export async function deploymentLive(conn: ChainConnection, d: Deployment): Promise<boolean> {
  const addresses = [d.settlement, d.nodeRegistry, d.modelRegistry, d.fraudProofs, d.coordinator];
  const codes = await Promise.all(addresses.map((address) => conn.publicClient.getCode({ address })));
  return codes.every((c) => c !== undefined && c !== '0x');
}
