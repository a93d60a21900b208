/**
 * Group commit for receipts: receipts appended close together are written in one
 * transaction, and each `append` resolves once its receipt is committed. A lone receipt is
 * written on the next turn of the event loop; under load, commits are spaced at least
 * `intervalMs` apart (or happen at once when `maxBatch` receipts wait), so one commit
 * carries many receipts and each waits at most `intervalMs` longer.
 */
import type { MetadataStore, StoredReceipt } from './metadata.ts';

type Waiter = { resolve: () => void; reject: (error: unknown) => void };

export class ReceiptLog {
  readonly #meta: MetadataStore;
  #pending: StoredReceipt[] = [];
  #waiters: Waiter[] = [];
  readonly #intervalMs: number;
  readonly #maxBatch: number;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #lastCommit = 0;

  constructor(meta: MetadataStore, options: { intervalMs?: number; maxBatch?: number } = {}) {
    this.#meta = meta;
    this.#intervalMs = options.intervalMs ?? 10;
    this.#maxBatch = options.maxBatch ?? 512;
  }

  /** Queue a receipt; resolves when it is committed. */
  append(receipt: StoredReceipt): Promise<void> {
    this.#pending.push(receipt);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#pending.length >= this.#maxBatch) this.flush();
    else if (!this.#timer) {
      const wait = this.#lastCommit + this.#intervalMs - performance.now();
      this.#timer = wait > 0 ? setTimeout(() => this.flush(), wait) : setImmediate(() => this.flush());
    }
    return done;
  }

  /** Commit everything queued now. */
  flush(): void {
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
    const batch = this.#pending;
    const waiters = this.#waiters;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#waiters = [];
    this.#lastCommit = performance.now();
    try {
      this.#meta.transaction(() => {
        for (const r of batch) this.#meta.putReceipt(r);
      });
      for (const w of waiters) w.resolve();
    } catch (error) {
      for (const w of waiters) w.reject(error);
    }
  }
}
