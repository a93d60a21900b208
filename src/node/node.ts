/**
 * The Plumb node: wires the hub, the runtime and the node's key, and owns their lifecycle.
 * Nothing starts in the constructor; `start()` opens stores in order and `stop()` closes
 * them in reverse, leaving no timers, handles or sessions behind.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ChainService } from '../chain/service.ts';
import { PlumbError } from '../core/errors.ts';
import type { Hex } from '../core/hash.ts';
import type { ReceiptDomain } from '../core/receipt.ts';
import { defaultReceiptDomain } from '../core/receipt-types.ts';
import { signDigest } from '../core/secp256k1.ts';
import { BlobStore } from '../hub/blob-store.ts';
import { ModelHub } from '../hub/hub.ts';
import { MetadataStore } from '../hub/metadata.ts';
import { ReceiptLog } from '../hub/receipt-log.ts';
import { releaseZk } from '../proof/zk/setup.ts';
import { OnnxRuntime } from '../runtime/onnx/onnx-runtime.ts';
import { type NodeConfig, type NodeConfigInput, parseNodeConfig } from './config.ts';
import { CoordinatorWatcher } from './coordinator.ts';
import { loadOrCreateNodeKey } from './keystore.ts';
import { WorkerSigner } from './signer.ts';
import { ZkService } from './zk/service.ts';

export const plumbVersion = '0.1.0';

export type NodeKey = {
  address: Hex;
  /** Sign on this thread. */
  sign: (digest: Uint8Array) => Hex;
  /** Sign on the signing thread (what inference uses: the event loop keeps serving). */
  signAsync: (digest: Uint8Array) => Promise<Hex>;
};

export class PlumbNode {
  readonly config: NodeConfig;
  readonly hub: ModelHub;
  readonly runtime: OnnxRuntime;
  readonly receipts: ReceiptLog;
  /** zk setups, proofs and verifier exports, on worker threads. */
  zk: ZkService;
  /** Inferences running now (the receipt log waits for them to batch commits). */
  readonly load = { inflight: 0 };
  /** The chain receipts are settled on, when configured (`chain` or `rpcUrl`). */
  chain: ChainService | undefined;
  /** Background events (settlement, requests served); silent unless the owner sets it. */
  log: (line: string) => void = () => {};
  /** Answers the Coordinator's requests (`serveRequests`). */
  coordinator: CoordinatorWatcher | undefined;
  readonly startedAt = new Date();
  #key: NodeKey | undefined;
  #signer: WorkerSigner | undefined;
  #keyCreated = false;
  #running = false;

  constructor(config: NodeConfigInput) {
    this.config = parseNodeConfig(config);
    const dir = this.config.dataDir;
    this.hub = new ModelHub({
      blobs: new BlobStore({ dir: join(dir, 'blobs') }),
      meta: new MetadataStore({ path: join(dir, 'plumb.db') }),
    });
    this.receipts = new ReceiptLog(this.hub.meta, { inflight: () => this.load.inflight });
    this.zk = new ZkService({ concurrency: this.config.zkConcurrency, maxQueue: this.config.zkMaxQueue });
    this.runtime = new OnnxRuntime({
      maxSessions: this.config.maxSessions,
      intraOpThreads: this.config.intraOpThreads,
    });
  }

  /** The EIP-712 domain of this node's receipts: the chain's when it has one. */
  get domain(): ReceiptDomain {
    return this.chain?.domain ?? defaultReceiptDomain;
  }

  get running(): boolean {
    return this.#running;
  }

  /** The node's signing identity; available once started. */
  get key(): NodeKey {
    if (!this.#key) throw new PlumbError('UNAVAILABLE', 'the node is not started');
    return this.#key;
  }

  /** True when this start generated the node's key. */
  get keyCreated(): boolean {
    return this.#keyCreated;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await mkdir(this.config.dataDir, { recursive: true, mode: 0o700 });
    const { privateKey, address, created } = await loadOrCreateNodeKey(this.config.dataDir);
    const signer = new WorkerSigner(privateKey);
    await signer.start();
    this.#signer = signer;
    this.#key = {
      address,
      sign: (digest) => signDigest(digest, privateKey),
      signAsync: (d) => signer.sign(d),
    };
    this.#keyCreated = created;
    await this.hub.blobs.start();
    try {
      this.hub.meta.start();
    } catch (error) {
      await this.hub.blobs.stop();
      await signer.stop();
      throw new PlumbError('UNAVAILABLE', `cannot open the metadata store in ${this.config.dataDir}`, {
        cause: error,
      });
    }
    this.zk = new ZkService({ concurrency: this.config.zkConcurrency, maxQueue: this.config.zkMaxQueue });
    if (this.config.chain || this.config.rpcUrl) {
      try {
        await this.#startChain(privateKey);
      } catch (error) {
        this.hub.meta.stop();
        await this.hub.blobs.stop();
        await signer.stop();
        throw error;
      }
    }
    this.#running = true;
  }

  async #startChain(privateKey: Uint8Array): Promise<void> {
    const c = this.config;
    const chain = new ChainService({
      dataDir: c.dataDir,
      privateKey,
      meta: this.hub.meta,
      rpcUrl: c.rpcUrl,
      chainId: c.chainId,
      settlement: c.settlement as Hex | undefined,
      settleBatchSize: c.settleBatchSize,
      settleIntervalMs: c.settleIntervalMs,
      autoSettle: c.autoSettle,
      allowDeploy: c.chainDeploy,
      log: (line) => this.log(line),
    });
    await chain.start();
    this.chain = chain;
    if (c.serveRequests) {
      this.coordinator = new CoordinatorWatcher(this, { log: (line) => this.log(line) });
      this.coordinator.start();
    }
  }

  /** Where zk work files go (setups in progress). */
  get zkWorkDir(): string {
    return join(this.config.dataDir, 'zk', 'work');
  }

  /** The development powers-of-tau cache. */
  get zkPtauDir(): string {
    return this.config.zkPtauDir ?? join(this.config.dataDir, 'zk', 'ptau');
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.zk.stop();
    await releaseZk(); // the curve threads of proofs verified on this thread, if any
    await this.runtime.stop();
    await this.coordinator?.stop();
    this.coordinator = undefined;
    this.receipts.flush();
    await this.chain?.stop();
    this.chain = undefined;
    this.hub.meta.stop();
    await this.hub.blobs.stop();
    await this.#signer?.stop();
  }
}
