/**
 * The node's chain: its connection (devnet or RPC), Plumb's deployment on it, and the
 * settlement of the node's receipts. Owned by the node's lifecycle: `start()` connects (and on
 * the devnet, deploys once and funds the node's account), `stop()` stops settling and the
 * devnet it started.
 */
import { createTestClient, type Hex, http, parseEther } from 'viem';
import { PlumbError } from '../core/errors.ts';
import type { ReceiptDomain } from '../core/receipt.ts';
import { defaultReceiptDomain } from '../core/receipt-types.ts';
import type { MetadataStore } from '../hub/metadata.ts';
import { type ChainConnection, connectChain } from './connect.ts';
import {
  type Deployment,
  type DeployParameters,
  deployContracts,
  deploymentLive,
  findDeployment,
  readDeployment,
  writeDeployment,
} from './deploy.ts';
import { settlementChain } from './settlement-chain.ts';
import { Settler } from './settler.ts';

export type ChainOptions = {
  dataDir: string;
  privateKey: Uint8Array;
  meta: MetadataStore;
  /** An existing EVM chain; without it, the data directory's embedded devnet. */
  rpcUrl?: string | undefined;
  chainId?: number | undefined;
  /** Use the Plumb deployment whose Settlement contract is here. */
  settlement?: Hex | undefined;
  /** Settle when this many receipts are queued (default 1000)... */
  settleBatchSize?: number | undefined;
  /** ...or this long after the oldest was queued (default 60 s). */
  settleIntervalMs?: number | undefined;
  /** Settle on the policy above (a daemon); CLI sessions settle only when asked. */
  autoSettle?: boolean | undefined;
  deploy?: DeployParameters | undefined;
  /** Deploy when no deployment is known, on any chain (the devnet always may). */
  allowDeploy?: boolean | undefined;
  log?: ((line: string) => void) | undefined;
};

export class ChainService {
  readonly #o: ChainOptions;
  #conn: ChainConnection | undefined;
  #deployment: Deployment | undefined;
  #settler: Settler | undefined;
  #domain: ReceiptDomain | undefined;

  constructor(options: ChainOptions) {
    this.#o = options;
  }

  get connection(): ChainConnection {
    if (!this.#conn) throw new PlumbError('UNAVAILABLE', 'the chain is not connected');
    return this.#conn;
  }

  get deployment(): Deployment {
    if (!this.#deployment) throw new PlumbError('UNAVAILABLE', 'the chain is not connected');
    return this.#deployment;
  }

  get settler(): Settler {
    if (!this.#settler) throw new PlumbError('UNAVAILABLE', 'the chain is not connected');
    return this.#settler;
  }

  /** Where this chain is, in a line's worth of facts (node info, `node start`). */
  get summary(): { chainId: number; rpcUrl: string; devnet: boolean; settlement: Hex } {
    const { chainId, rpcUrl, devnet } = this.connection;
    return { chainId, rpcUrl, devnet, settlement: this.deployment.settlement };
  }

  /**
   * The EIP-712 domain receipts are signed in on this chain (Settlement is the verifying
   * contract). One object per deployment: receipt digests cache its separator by identity.
   */
  get domain(): ReceiptDomain {
    const d = this.deployment;
    if (this.#domain?.verifyingContract !== d.settlement)
      this.#domain = { ...defaultReceiptDomain, chainId: d.chainId, verifyingContract: d.settlement };
    return this.#domain;
  }

  async start(): Promise<void> {
    const o = this.#o;
    const conn = await connectChain({
      privateKey: o.privateKey,
      rpcUrl: o.rpcUrl,
      chainId: o.chainId,
      dataDir: o.dataDir,
    });
    try {
      if (conn.devnet) await fundOnDevnet(conn);
      this.#deployment = await this.#findOrDeploy(conn);
      this.#conn = conn;
      this.#settler = new Settler({
        meta: o.meta,
        chain: settlementChain(conn, this.#deployment),
        ...(o.settleBatchSize !== undefined ? { batchSize: o.settleBatchSize } : {}),
        ...(o.settleIntervalMs !== undefined ? { intervalMs: o.settleIntervalMs } : {}),
        ...(o.log ? { log: o.log } : {}),
      });
      if (o.autoSettle) this.#settler.start();
    } catch (error) {
      this.#conn = undefined;
      await conn.close();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.#settler?.stop();
    this.#settler = undefined;
    await this.#conn?.close();
    this.#conn = undefined;
  }

  async #findOrDeploy(conn: ChainConnection): Promise<Deployment> {
    const o = this.#o;
    if (o.settlement) {
      const d = await findDeployment(conn, o.settlement);
      await writeDeployment(o.dataDir, d);
      return d;
    }
    const recorded = await readDeployment(o.dataDir, conn.chainId);
    if (recorded && (await deploymentLive(conn, recorded))) return recorded;
    if (!conn.devnet && !o.allowDeploy)
      throw new PlumbError('NOT_FOUND', `no Plumb deployment is known for chain ${conn.chainId}`, {
        metaMessages: [
          "Pass --settlement ADDRESS (a deployment's Settlement contract), or deploy with `plumb chain deploy --rpc URL`.",
        ],
      });
    o.log?.(recorded ? 'devnet state is new: deploying the contracts again' : 'deploying the contracts');
    const d = await deployContracts(conn, o.deploy);
    await writeDeployment(o.dataDir, d);
    return d;
  }
}

/** Give the node's account devnet ether to stake and pay gas with (dev-only RPC). */
async function fundOnDevnet(conn: ChainConnection): Promise<void> {
  const address = conn.account.address;
  const balance = await conn.publicClient.getBalance({ address });
  if (balance >= parseEther('100')) return;
  const test = createTestClient({
    mode: 'anvil',
    chain: conn.publicClient.chain,
    transport: http(conn.rpcUrl),
  });
  await test.setBalance({ address, value: parseEther('10000') });
}
