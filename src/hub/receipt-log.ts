/**
 * Group commit for receipts: every receipt appended during one turn of the event loop is
 * written in a single transaction on the next turn, and each `append` resolves once its
 * receipt is durable in the store. Under load this turns hundreds of commits into one; alone,
 * a receipt is written at once (one turn later).
 */
import type { MetadataStore, StoredReceipt } from './metadata.ts';

type Waiter = { resolve: () => void; reject: (error: unknown) => void };

export class ReceiptLog {
  readonly #meta: MetadataStore;
  #pending: StoredReceipt[] = [];
  #waiters: Waiter[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  constructor(meta: MetadataStore) {
    this.#meta = meta;
  }

  /** Queue a receipt; resolves when it is committed. */
  append(receipt: StoredReceipt): Promise<void> {
    this.#pending.push(receipt);
    this.#scheduled ??= setImmediate(() => this.flush());
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Commit everything queued now. */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
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
