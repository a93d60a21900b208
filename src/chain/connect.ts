/**
 * A connection to an EVM chain: viem public and wallet clients for the node's key, on an RPC
 * URL (production: any EVM chain) or on the embedded devnet.
 *
 * The devnet belongs to a data directory: its state file is `<dataDir>/chain/devnet-state.json`
 * and, while one runs, `<dataDir>/chain/devnet.json` says where. A second process on the same
 * data directory (a CLI command beside a running node) joins that devnet instead of starting
 * another on the same state; the process that started it stops it.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  nonceManager,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { errorMessage, PlumbError } from '../core/errors.ts';
import { toHex } from '../core/hash.ts';
import { type Devnet, startDevnet } from './devnet.ts';

export type ChainConnection = {
  rpcUrl: string;
  chainId: number;
  /** True on the embedded devnet (anvil): dev-only RPC methods such as funding are available. */
  devnet: boolean;
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
  account: Account;
  /** Closes what this connection owns (a devnet it started). */
  close(): Promise<void>;
};

export type ConnectChainOptions = {
  /** The node's key: it signs transactions (stake, settlement) as it signs receipts. */
  privateKey: Uint8Array;
  /** An existing chain; without it, the data directory's devnet. */
  rpcUrl?: string | undefined;
  /** Refuse a chain whose id differs. */
  chainId?: number | undefined;
  /** For the devnet's state and its "running here" record. */
  dataDir: string;
};

export async function connectChain(o: ConnectChainOptions): Promise<ChainConnection> {
  let devnet: Devnet | undefined;
  let rpcUrl = o.rpcUrl;
  const record = join(o.dataDir, 'chain', 'devnet.json');
  if (rpcUrl === undefined) {
    rpcUrl = await runningDevnet(record);
    if (rpcUrl === undefined) {
      devnet = await startDevnet({ statePath: join(o.dataDir, 'chain', 'devnet-state.json') });
      rpcUrl = devnet.rpcUrl;
      await writeFile(record, JSON.stringify({ rpcUrl, pid: devnet.pid, owner: process.pid }));
    }
  }
  const close = async () => {
    if (!devnet) return;
    await rm(record, { force: true });
    await devnet.stop();
  };
  try {
    const chainId = await chainIdAt(rpcUrl);
    if (o.chainId !== undefined && chainId !== o.chainId)
      throw new PlumbError(
        'INVALID_ARGUMENT',
        `wrong chain: ${rpcUrl} is chain ${chainId}, not ${o.chainId}`,
        {
          metaMessages: ['Check --rpc and --chain-id: receipts and stakes are bound to one chain.'],
        },
      );
    const chain = defineChain({
      id: chainId,
      name: devnet || o.rpcUrl === undefined ? 'Plumb devnet' : `chain ${chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    });
    const transport = http(rpcUrl, { retryCount: 2, timeout: 30_000 });
    // One nonce sequence per account in this process: settlement, answers to requests and user
    // commands may send at the same time.
    const account = privateKeyToAccount(toHex(o.privateKey) as Hex, { nonceManager });
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 250 });
    const walletClient = createWalletClient({ chain, transport, account });
    return {
      rpcUrl,
      chainId,
      devnet: o.rpcUrl === undefined,
      publicClient: publicClient as PublicClient<Transport, Chain>,
      walletClient,
      account,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The chain id an RPC answers, or a clear UNAVAILABLE error. */
export async function chainIdAt(rpcUrl: string): Promise<number> {
  let response: Response;
  try {
    response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new PlumbError('UNAVAILABLE', `cannot reach the chain RPC at ${rpcUrl}: ${errorMessage(error)}`, {
      metaMessages: ['Is the chain client (anvil, geth, ...) running, and is --rpc its URL?'],
    });
  }
  const body = (await response.json().catch(() => undefined)) as { result?: unknown } | undefined;
  if (!response.ok || typeof body?.result !== 'string')
    throw new PlumbError('UNAVAILABLE', `${rpcUrl} did not answer eth_chainId (HTTP ${response.status})`);
  return Number(BigInt(body.result));
}

/** The URL of a devnet another live process on this data directory runs, if any. */
async function runningDevnet(record: string): Promise<string | undefined> {
  let info: { rpcUrl?: unknown; pid?: unknown };
  try {
    info = JSON.parse(await readFile(record, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof info.rpcUrl !== 'string' || typeof info.pid !== 'number') return undefined;
  try {
    process.kill(info.pid, 0);
    await chainIdAt(info.rpcUrl);
    return info.rpcUrl;
  } catch {
    return undefined; // stale: that devnet is gone
  }
}
