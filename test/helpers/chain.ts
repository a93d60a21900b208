/**
 * Plumb's contracts on a throwaway devnet, for tests: one anvil (src/chain/devnet.ts), viem
 * clients for funded random accounts, `deployAll` (the whole deployment, wired), and revert
 * assertions that name the custom error.
 */
import assert from 'node:assert/strict';
import {
  type Abi,
  type Account,
  BaseError,
  type Chain,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  decodeErrorResult,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  parseEther,
  type TestClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { type CompiledContracts, contractArtifact } from '../../src/chain/compile.ts';
import type { ChainConnection } from '../../src/chain/connect.ts';
import { deployContracts } from '../../src/chain/deploy.ts';
import { anvilBinary, startDevnet } from '../../src/chain/devnet.ts';
import { fromHex } from '../../src/core/hash.ts';

/** Why chain tests skip, or false when they can run. */
export const chainSkip: string | false = anvilBinary()
  ? false
  : 'anvil binary not installed (linux-x64 only)';

/** anvil's first default account (public knowledge: a devnet key only). */
export const devKey: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

export type Wallet = WalletClient<Transport, Chain, Account>;

export type TestAccount = {
  address: Hex;
  /** The private key as bytes (for src/core/secp256k1.ts signDigest). */
  key: Uint8Array;
  wallet: Wallet;
};

export type TestChain = {
  rpcUrl: string;
  chainId: number;
  publicClient: PublicClient<Transport, Chain>;
  testClient: TestClient<'anvil', Transport, Chain>;
  /** The deployer (anvil's first account). */
  deployer: TestAccount;
  /** A new random account holding `balance` ether. */
  account(balance?: string): Promise<TestAccount>;
  stop(): Promise<void>;
};

export async function startChain(): Promise<TestChain> {
  const devnet = await startDevnet();
  const chain = { ...foundry, id: devnet.chainId };
  const transport = http(devnet.rpcUrl);
  const publicClient = createPublicClient({ chain, transport });
  const testClient = createTestClient({ chain, mode: 'anvil', transport });
  const accountOf = (pk: Hex): TestAccount => {
    const account = privateKeyToAccount(pk);
    return {
      address: account.address,
      key: fromHex(pk),
      wallet: createWalletClient({ account, chain, transport }),
    };
  };
  return {
    rpcUrl: devnet.rpcUrl,
    chainId: devnet.chainId,
    publicClient,
    testClient,
    deployer: accountOf(devKey),
    account: async (balance = '100') => {
      const a = accountOf(generatePrivateKey());
      await testClient.setBalance({ address: a.address, value: parseEther(balance) });
      return a;
    },
    stop: () => devnet.stop(),
  };
}

export type Deployed = {
  nodeRegistry: Hex;
  modelRegistry: Hex;
  settlement: Hex;
  fraudProofs: Hex;
  coordinator: Hex;
  exampleConsumer: Hex;
};

/** Deploy a contract and wait for it; returns its address. */
export async function deploy(
  wallet: Wallet,
  publicClient: PublicClient<Transport, Chain>,
  compiled: CompiledContracts,
  name: string,
  args: readonly unknown[] = [],
): Promise<Hex> {
  const { abi, bytecode } = contractArtifact(compiled, name);
  const hash = await wallet.deployContract({ abi, bytecode, args });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success', `deploying ${name}`);
  return getAddress(receipt.contractAddress!);
}

/** Send a contract call and wait for it to be mined successfully; returns the receipt. */
export async function send(
  wallet: Wallet,
  publicClient: PublicClient<Transport, Chain>,
  call: {
    address: Hex;
    abi: Abi;
    functionName: string;
    args?: readonly unknown[];
    value?: bigint;
    gas?: bigint;
  },
) {
  const hash = await wallet.writeContract({
    address: call.address,
    abi: call.abi,
    functionName: call.functionName,
    args: call.args ?? [],
    ...(call.value === undefined ? {} : { value: call.value }),
    ...(call.gas === undefined ? {} : { gas: call.gas }),
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success', `${call.functionName} was mined but reverted`);
  return receipt;
}

/** A ChainConnection for `wallet` (what src/chain's actions take); closing it stops nothing. */
export function connectionOf(wallet: Wallet, publicClient: PublicClient<Transport, Chain>): ChainConnection {
  return {
    rpcUrl: publicClient.transport.url ?? '',
    chainId: publicClient.chain.id,
    devnet: true,
    publicClient,
    walletClient: wallet,
    account: wallet.account,
    close: async () => {},
  };
}

/**
 * The whole deployment exactly as a node deploys it (`deployContracts`), plus an
 * ExampleConsumer of its Coordinator.
 */
export async function deployAll(
  wallet: Wallet,
  publicClient: PublicClient<Transport, Chain>,
  compiled: CompiledContracts,
  options: { minStake?: bigint; unbondingPeriod?: bigint } = {},
): Promise<Deployed> {
  const d = await deployContracts(connectionOf(wallet, publicClient), {
    minStake: options.minStake ?? parseEther('1'),
    unbondingPeriod: Number(options.unbondingPeriod ?? 7n * 24n * 3600n),
  });
  const exampleConsumer = await deploy(wallet, publicClient, compiled, 'ExampleConsumer', [d.coordinator]);
  return {
    nodeRegistry: d.nodeRegistry,
    modelRegistry: d.modelRegistry,
    settlement: d.settlement,
    fraudProofs: d.fraudProofs,
    coordinator: d.coordinator,
    exampleConsumer,
  };
}

/** Every custom error of every compiled contract (to decode reverts that cross contracts). */
export function errorsAbi(compiled: CompiledContracts): Abi {
  const seen = new Set<string>();
  const errors: Abi[number][] = [];
  for (const c of Object.values(compiled))
    for (const item of c.abi)
      if (item.type === 'error') {
        const id = `${item.name}(${item.inputs.map((i) => i.type).join(',')})`;
        if (!seen.has(id)) {
          seen.add(id);
          errors.push(item);
        }
      }
  return errors;
}

/** The custom error a failed call reverted with: its name and arguments. */
export function revertOf(error: unknown, errors: Abi): { errorName: string; args: readonly unknown[] } {
  if (!(error instanceof BaseError)) throw error;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError) {
    if (reverted.data) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
    if (reverted.raw) {
      const decoded = decodeErrorResult({ abi: errors, data: reverted.raw });
      return { errorName: decoded.errorName, args: decoded.args ?? [] };
    }
  }
  // a revert surfaced some other way: look for the revert data on any cause
  const data = (
    error.walk((e) => typeof (e as { data?: unknown }).data === 'string') as { data?: Hex } | null
  )?.data;
  if (data) {
    const decoded = decodeErrorResult({ abi: errors, data });
    return { errorName: decoded.errorName, args: decoded.args ?? [] };
  }
  throw error;
}

/** Assert that `promise` rejects with the custom error `errorName` (and `args`, when given). */
export async function expectRevert(
  promise: Promise<unknown>,
  errors: Abi,
  errorName: string,
  args?: readonly unknown[],
): Promise<void> {
  let failure: unknown;
  try {
    await promise;
  } catch (error) {
    failure = error;
  }
  assert.ok(failure !== undefined, `expected a revert with ${errorName}, but the call succeeded`);
  const got = revertOf(failure, errors);
  assert.equal(got.errorName, errorName, `reverted with ${got.errorName}(${got.args.join(', ')})`);
  if (args) assert.deepEqual(got.args, args);
}
