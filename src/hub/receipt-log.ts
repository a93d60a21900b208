/**
 * Group commit for receipts: receipts appended close together are written in one
 * transaction, and each `append` resolves once its receipt is committed.
 *
 * `inflight()` says how many requests could still append. When every one of them has
 * appended (always so for a lone client), the batch commits on the next turn of the event
 * loop; otherwise it waits for the others, at most `intervalMs` (or until `maxBatch`). So a
 * lone request pays no wait, and under load one commit carries many receipts.
 */
import type { MetadataStore, StoredReceipt } from './metadata.ts';

type Waiter = { resolve: () => void; reject: (error: unknown) => void };

export class ReceiptLog {
  readonly #meta: MetadataStore;
  #pending: StoredReceipt[] = [];
  #waiters: Waiter[] = [];
  readonly #intervalMs: number;
  readonly #maxBatch: number;
  readonly #inflight: () => number;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #immediate = false;

  constructor(
    meta: MetadataStore,
    options: { intervalMs?: number; maxBatch?: number; inflight?: () => number } = {},
  ) {
    this.#meta = meta;
    this.#intervalMs = options.intervalMs ?? 10;
    this.#maxBatch = options.maxBatch ?? 512;
    this.#inflight = options.inflight ?? (() => 0);
  }

  /** Queue a receipt; resolves when it is committed. */
  append(receipt: StoredReceipt): Promise<void> {
    this.#pending.push(receipt);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#pending.length >= this.#maxBatch) this.flush();
    else if (this.#pending.length >= this.#inflight()) {
      if (!this.#immediate) {
        clearTimeout(this.#timer as NodeJS.Timeout);
        this.#timer = setImmediate(() => this.flush());
        this.#immediate = true;
      }
    } else this.#timer ??= setTimeout(() => this.flush(), this.#intervalMs);
    return done;
  }

  /** Commit everything queued now. */
  flush(): void {
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
    this.#immediate = false;
    const batch = this.#pending;
    const waiters = this.#waiters;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#waiters = [];
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
