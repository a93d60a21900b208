/**
 * Settlement of a node's receipts on chain, in batches: queued receipts are cut into batches,
 * each batch's Merkle root (merkle.ts) goes on chain with `Settlement.submitBatch`, and any
 * receipt of a settled batch then has a proof anyone can check against that root.
 *
 * Crash-safe by order: a batch is persisted (`pending`) before anything is sent, and a pending
 * batch is only re-sent after asking the chain whether its root is already there, so a crash
 * anywhere between cut and mined neither loses receipts nor sends a root twice. A failed
 * submission leaves its batch pending (attempts and cause recorded) for a retry with
 * exponential backoff. The chain is injected (`SettlementChain`), so nothing here needs viem.
 */
import { errorMessage, PlumbError } from '../core/errors.ts';
import type { Hex } from '../core/hash.ts';
import type { MetadataStore, SettlementBatch, SettlementCounts } from '../hub/metadata.ts';
import {
  proofFromNodes,
  receiptLeaf,
  receiptProof,
  receiptTree,
  treeNodes,
  verifyReceiptProof,
} from './merkle.ts';

/** What the Settler needs of the chain. */
export type SettlementChain = {
  /** `Settlement.submitBatch(root, count)`; resolves once the transaction is mined. */
  submitRoot(root: Hex, count: number): Promise<{ txHash: Hex; chainBatchId: bigint; blockNumber: bigint }>;
  /** The batch this node settled a root as (`batchIdOfRoot(node, root) != 0`), or undefined. */
  findRoot(root: Hex): Promise<{ chainBatchId: bigint } | undefined>;
};

export type SettlerOptions = {
  meta: MetadataStore;
  chain: SettlementChain;
  /** Settle when this many receipts are queued (default 1000)... */
  batchSize?: number | undefined;
  /** ...or this long after the oldest queued receipt (default 60 s). */
  intervalMs?: number | undefined;
  /** Receipts per batch at most (default 10,000); a larger queue is cut into several batches. */
  maxBatch?: number | undefined;
  /** Backoff between retries of a failing chain: baseMs, doubling, up to maxMs (1 s .. 60 s). */
  retry?: { baseMs?: number | undefined; maxMs?: number | undefined } | undefined;
  /** A chain call taking longer fails (its batch stays pending; default 5 min). */
  timeoutMs?: number | undefined;
  /** How long `stop()` waits for a submission in flight (default 10 s). */
  stopTimeoutMs?: number | undefined;
  log?: ((line: string) => void) | undefined;
  now?: (() => number) | undefined;
};

/** A batch whose root is on chain. Chain ids are numbers (they count up from 1). */
export type SettledBatch = {
  id: number;
  chainBatchId: number;
  root: Hex;
  count: number;
  /** Unknown for a batch found on chain after a restart whose transaction was never recorded. */
  txHash: Hex | undefined;
  blockNumber: number | undefined;
};

export type SettleResult = { batches: SettledBatch[]; receipts: number };

/** Where a receipt is in settlement; `settled` carries its Merkle proof against the batch root. */
export type ReceiptSettlement =
  | { status: 'settled'; batch: SettlementBatch; root: Hex; leaf: Hex; proof: Hex[] }
  | { status: 'pending'; batch: SettlementBatch }
  | { status: 'queued'; queuedAt: number };

export type SettlerStatus = SettlementCounts & {
  /** The automatic policy is armed (`start()`). */
  started: boolean;
  /** A settlement run is in flight. */
  running: boolean;
  /** Runs failed in a row (0: the last one succeeded, or none ran). */
  failures: number;
  /** Why settlement is failing now: this process's last failed run, else a pending batch's last error. */
  lastError: string | undefined;
  /** When the next retry runs (ms since the epoch), while backing off. */
  nextRetryAt: number | undefined;
};

/** One run: `draining` stops it between batches, `abort` cuts a chain wait short. */
type Run = { draining: boolean; abort: AbortController };

export class Settler {
  readonly #meta: MetadataStore;
  readonly #chain: SettlementChain;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxBatch: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #timeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  #run: { state: Run; promise: Promise<SettleResult> } | undefined;
  #started = false;
  /** Queued receipts not yet in a batch, as far as this process knows (recounted after each run). */
  #unbatched = 0;
  #intervalTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #nextRetryAt: number | undefined;
  #failures = 0;
  #lastError: string | undefined;

  constructor(o: SettlerOptions) {
    this.#meta = o.meta;
    this.#chain = o.chain;
    this.#batchSize = positive('batchSize', o.batchSize ?? 1000);
    this.#intervalMs = positive('intervalMs', o.intervalMs ?? 60_000, true);
    this.#maxBatch = positive('maxBatch', o.maxBatch ?? 10_000);
    this.#baseMs = positive('retry.baseMs', o.retry?.baseMs ?? 1000, true);
    this.#maxMs = Math.max(this.#baseMs, positive('retry.maxMs', o.retry?.maxMs ?? 60_000, true));
    this.#timeoutMs = positive('timeoutMs', o.timeoutMs ?? 300_000);
    this.#stopTimeoutMs = positive('stopTimeoutMs', o.stopTimeoutMs ?? 10_000, true);
    this.#log = o.log ?? (() => {});
    this.#now = o.now ?? Date.now;
  }

  /**
   * Settle now: retry the pending batches, then cut the receipts queued now into batches of
   * at most `maxBatch` and settle each. Calls while a run is in flight share it. Rejects with
   * UNAVAILABLE naming the cause when a batch could not be settled; it stays pending, and
   * nothing is lost: a later run (or the automatic retry, once started) settles it.
   */
  settle(): Promise<SettleResult> {
    if (this.#run) return this.#run.promise;
    const state: Run = { draining: false, abort: new AbortController() };
    const promise = this.#execute(state);
    this.#run = { state, promise };
    promise.then(
      () => this.#ran(undefined),
      (error: unknown) => this.#ran(error),
    );
    return promise;
  }

  /**
   * Arm the automatic policy: resume pending batches now, then settle whenever `batchSize`
   * receipts are queued (see `notify`) or `intervalMs` after the oldest queued receipt.
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#unbatched = this.#meta.settlementCounts().queued;
    if (this.#meta.pendingBatches().length > 0) this.#background();
    else this.#kick();
  }

  /** `count` receipts were committed with `settle: true` (the automatic policy counts them). */
  notify(count = 1): void {
    this.#unbatched += count;
    this.#kick();
  }

  /**
   * Disarm the policy and clear every timer; a submission in flight is waited for (at most
   * `stopTimeoutMs`, then its wait is cut short: its batch stays pending, resumed on the
   * next start). No new batch is cut or sent once stopping.
   */
  async stop(): Promise<void> {
    this.#started = false;
    this.#clearTimers();
    const run = this.#run;
    if (!run) return;
    run.state.draining = true;
    const finished = run.promise.then(
      () => true,
      () => true,
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      finished,
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!waited) {
      this.#log(
        'settlement: stopping without waiting for the chain; the batch stays pending until the next start',
      );
      run.state.abort.abort();
      await finished;
    }
  }

  /**
   * Where `receiptId` is in settlement, with its Merkle proof once settled (read off the
   * batch's stored tree, or rebuilt from its receipt ids); undefined when this node never
   * queued it.
   */
  proofOf(receiptId: string): ReceiptSettlement | undefined {
    const id = receiptId.toLowerCase();
    const where =
      this.#meta.batchOfReceipt(id) ?? (id !== receiptId ? this.#meta.batchOfReceipt(receiptId) : undefined);
    if (!where) return undefined;
    const { batch } = where;
    if (!batch) return { status: 'queued', queuedAt: where.queuedAt };
    if (batch.status === 'pending') return { status: 'pending', batch };
    const nodes = this.#meta.batchTreeNodes(batch.id);
    const proof = nodes ? proofFromNodes(nodes, id) : receiptProof(this.#meta.batchReceiptIds(batch.id), id);
    if (!verifyReceiptProof(batch.root, id, proof))
      throw new PlumbError(
        'INTEGRITY',
        `the proof of receipt ${id} does not verify against settlement batch #${batch.id}'s root ${batch.root}`,
      );
    return { status: 'settled', batch, root: batch.root as Hex, leaf: receiptLeaf(id), proof };
  }

  status(): SettlerStatus {
    const counts = this.#meta.settlementCounts();
    const recorded =
      counts.pendingBatches > 0
        ? this.#meta.pendingBatches().findLast((b) => b.lastError)?.lastError
        : undefined;
    return {
      ...counts,
      started: this.#started,
      running: this.#run !== undefined,
      failures: this.#failures,
      lastError: this.#lastError ?? recorded,
      nextRetryAt: this.#nextRetryAt,
    };
  }

  // ------------------------------------------------------------------ one run

  async #execute(run: Run): Promise<SettleResult> {
    const settled: SettledBatch[] = [];
    let current: SettlementBatch | undefined;
    try {
      for (const batch of this.#meta.pendingBatches()) {
        if (run.draining) break;
        current = batch;
        settled.push(await this.#resume(batch, run));
        current = undefined;
      }
      // Only what is queued now: receipts queued during the run wait for the policy's next turn.
      let budget = this.#meta.settlementCounts().queued;
      while (budget > 0 && !run.draining) {
        const cut = this.#cut(Math.min(budget, this.#maxBatch));
        if (!cut) break;
        budget -= cut.count;
        current = cut;
        settled.push(await this.#submit(cut, run));
        current = undefined;
      }
    } catch (error) {
      if (!current) throw error;
      throw this.#failed(current, error, settled);
    }
    return { batches: settled, receipts: settled.reduce((n, b) => n + b.count, 0) };
  }

  /** Persist the next batch (up to `limit` oldest queued receipts) before anything is sent. */
  #cut(limit: number): SettlementBatch | undefined {
    const cut = this.#meta.transaction(() => {
      const ids = this.#meta.unbatchedReceiptIds(limit);
      if (ids.length === 0) return undefined;
      const tree = receiptTree(ids);
      return this.#meta.cutBatch(tree.root, ids, this.#now(), treeNodes(tree));
    });
    if (cut) this.#log(`settlement: batch #${cut.id} cut (${cut.count} receipts, root ${cut.root})`);
    return cut;
  }

  /** A batch left pending (failed, or in flight at a crash): on chain already, or sent again. */
  async #resume(batch: SettlementBatch, run: Run): Promise<SettledBatch> {
    const found = await this.#call(() => this.#chain.findRoot(batch.root as Hex), run);
    if (found) {
      this.#log(`settlement: batch #${batch.id} was already on chain as batch ${found.chainBatchId}`);
      return this.#settled(batch, found);
    }
    return this.#submit(batch, run);
  }

  async #submit(batch: SettlementBatch, run: Run): Promise<SettledBatch> {
    let mined: Awaited<ReturnType<SettlementChain['submitRoot']>>;
    try {
      mined = await this.#call(() => this.#chain.submitRoot(batch.root as Hex, batch.count), run);
    } catch (error) {
      // Refused because the root is already there (RootAlreadySettled: an earlier send whose
      // answer was lost, or someone else submitting it): that is settled. Not worth a second
      // wait when the chain did not answer at all.
      if (!(error instanceof ChainWaitError)) {
        const found = await this.#call(() => this.#chain.findRoot(batch.root as Hex), run).catch(
          () => undefined,
        );
        if (found) return this.#settled(batch, found);
      }
      throw error;
    }
    return this.#settled(batch, mined);
  }

  #settled(
    batch: SettlementBatch,
    on: { chainBatchId: bigint; txHash?: Hex | undefined; blockNumber?: bigint | undefined },
  ): SettledBatch {
    this.#meta.markBatchSettled(batch.id, {
      chainBatchId: on.chainBatchId,
      blockNumber: on.blockNumber,
      txHash: on.txHash,
      settledAt: this.#now(),
    });
    const txHash = (on.txHash ?? batch.txHash) as Hex | undefined;
    const blockNumber = on.blockNumber === undefined ? batch.blockNumber : Number(on.blockNumber);
    this.#log(
      `settlement: batch #${batch.id} (${batch.count} receipts) settled as chain batch ${on.chainBatchId}${txHash ? ` in ${txHash}` : ''}${blockNumber !== undefined ? ` (block ${blockNumber})` : ''}`,
    );
    return {
      id: batch.id,
      chainBatchId: Number(on.chainBatchId),
      root: batch.root as Hex,
      count: batch.count,
      txHash,
      blockNumber,
    };
  }

  /** Record the failed attempt on its batch, and say what happened in one error. */
  #failed(batch: SettlementBatch, error: unknown, settled: SettledBatch[]): PlumbError {
    const cause = describe(error);
    let attempts = batch.attempts + 1;
    try {
      this.#meta.recordBatchAttempt(batch.id, { error: cause });
      attempts = this.#meta.getBatch(batch.id)?.attempts ?? attempts;
    } catch (storeError) {
      this.#log(`settlement: could not record the failure of batch #${batch.id}: ${describe(storeError)}`);
    }
    const retried = this.#started ? 'retried automatically with backoff' : 'retried by the next settle';
    return new PlumbError(
      'UNAVAILABLE',
      `settlement batch #${batch.id} (${batch.count} receipts) was not settled: ${cause}`,
      {
        metaMessages: [
          `The batch stays pending (attempt ${attempts}, root ${batch.root}) and is ${retried}; no receipt is lost.`,
          ...(settled.length > 0
            ? [
                `${settled.length} batch(es) (${settled.reduce((n, b) => n + b.count, 0)} receipts) settled before it.`,
              ]
            : []),
        ],
        cause: error,
      },
    );
  }

  /** A chain call, bounded by `timeoutMs` and cut short when the run is aborted. */
  #call<T>(fn: () => Promise<T>, run: Run): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = run.abort.signal;
      if (signal.aborted) {
        reject(new ChainWaitError('the settler stopped before the chain answered'));
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () =>
        finish(() => reject(new ChainWaitError('the settler stopped before the chain answered')));
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        settle();
      };
      timer = setTimeout(
        () =>
          finish(() => reject(new ChainWaitError(`the chain did not answer within ${this.#timeoutMs} ms`))),
        this.#timeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.resolve()
        .then(fn)
        .then(
          (value) => finish(() => resolve(value)),
          (error: unknown) => finish(() => reject(error)),
        );
    });
  }

  // ------------------------------------------------------------------ the automatic policy

  /** A run ended: count, log, back off or carry on. Never throws (it runs from timers). */
  #ran(error: unknown): void {
    this.#run = undefined;
    try {
      if (error === undefined) {
        this.#failures = 0;
        this.#lastError = undefined;
        this.#clearRetry();
      } else {
        this.#failures++;
        this.#lastError = describe(error);
        if (this.#started) {
          const delay = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#failures - 1, 30));
          const wait = delay < 1000 ? `${delay} ms` : `${(delay / 1000).toFixed(1)} s`;
          this.#log(`settlement failed: ${this.#lastError}; retrying in ${wait}`);
          this.#clearRetry();
          this.#nextRetryAt = this.#now() + delay;
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            this.#nextRetryAt = undefined;
            this.#background();
          }, delay);
        } else this.#log(`settlement failed: ${this.#lastError}`);
      }
      if (!this.#started) return;
      this.#unbatched = this.#meta.settlementCounts().queued;
      this.#kick();
    } catch (e) {
      this.#log(`settlement: ${describe(e)}`);
    }
  }

  /** Settle now if the policy says so, or arm the interval timer for the oldest queued receipt. */
  #kick(): void {
    if (!this.#started || this.#run || this.#retryTimer) return;
    if (this.#unbatched >= this.#batchSize) {
      this.#background();
      return;
    }
    if (this.#unbatched <= 0 || this.#intervalTimer) return;
    let oldest: number | undefined;
    try {
      oldest = this.#meta.oldestUnbatchedAt();
    } catch (error) {
      // Never thrown at `notify`'s caller (a request whose receipt is already committed).
      this.#log(`settlement: ${describe(error)}`);
      return;
    }
    const delay = Math.max(0, (oldest ?? this.#now()) + this.#intervalMs - this.#now());
    this.#intervalTimer = setTimeout(() => {
      this.#intervalTimer = undefined;
      this.#background();
    }, delay);
  }

  /** A run nobody awaits: its failure is logged and retried by `#ran`, never thrown. */
  #background(): void {
    if (!this.#started) return;
    clearTimeout(this.#intervalTimer);
    this.#intervalTimer = undefined;
    try {
      this.settle().catch(() => {});
    } catch (error) {
      this.#log(`settlement: ${describe(error)}`);
    }
  }

  #clearRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#nextRetryAt = undefined;
  }

  #clearTimers(): void {
    this.#clearRetry();
    clearTimeout(this.#intervalTimer);
    this.#intervalTimer = undefined;
  }
}

/** The chain did not answer in time, or the settler stopped waiting. */
class ChainWaitError extends Error {
  override name = 'ChainWaitError';
}

/** One line, for logs and `last_error`. */
function describe(error: unknown): string {
  const message = errorMessage(error).split('\n')[0] ?? '';
  return message.length > 500 ? `${message.slice(0, 500)}...` : message;
}

function positive(name: string, value: number, zeroAllowed = false): number {
  if (!Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0))
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `settler ${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} number, got ${value}`,
    );
  return value;
}
