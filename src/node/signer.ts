/**
 * Receipt signing off the event loop. A worker thread holds the key; digests requested in the
 * same turn of the event loop travel to it in one message. The event loop keeps serving
 * requests while the worker signs, and on a multi-core machine signing runs in parallel.
 */
import { Worker } from 'node:worker_threads';
import { PlumbError } from '../core/errors.ts';
import type { Hex } from '../core/hash.ts';

type Pending = { resolve: (signature: Hex) => void; reject: (error: unknown) => void };

export class WorkerSigner {
  readonly #privateKey: Uint8Array;
  #worker: Worker | undefined;
  #queue: { digest: Uint8Array; pending: Pending }[] = [];
  #inFlight = new Map<number, Pending[]>();
  #nextId = 0;
  #scheduled = false;

  constructor(privateKey: Uint8Array) {
    this.#privateKey = privateKey;
  }

  async start(): Promise<void> {
    const worker = new Worker(new URL('./signer-worker.ts', import.meta.url), {
      workerData: this.#privateKey,
    });
    worker.on('message', ({ id, signatures }: { id: number; signatures: Hex[] }) => {
      const batch = this.#inFlight.get(id);
      this.#inFlight.delete(id);
      batch?.forEach((p, i) => {
        p.resolve(signatures[i]!);
      });
    });
    worker.on('error', (error) => this.#failAll(error));
    worker.on('exit', () => this.#failAll(new PlumbError('UNAVAILABLE', 'the signing thread stopped')));
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    this.#worker = worker;
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  sign(digest: Uint8Array): Promise<Hex> {
    if (!this.#worker) return Promise.reject(new PlumbError('UNAVAILABLE', 'the signer is not started'));
    return new Promise<Hex>((resolve, reject) => {
      this.#queue.push({ digest, pending: { resolve, reject } });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#send());
      }
    });
  }

  #send(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    if (!this.#worker) {
      this.#fail(
        batch.map((b) => b.pending),
        new PlumbError('UNAVAILABLE', 'the signer stopped'),
      );
      return;
    }
    const digests = new Uint8Array(32 * batch.length);
    batch.forEach((b, i) => {
      digests.set(b.digest, 32 * i);
    });
    const id = this.#nextId++;
    this.#inFlight.set(
      id,
      batch.map((b) => b.pending),
    );
    this.#worker.postMessage({ id, digests }, [digests.buffer]);
  }

  #failAll(error: unknown): void {
    for (const batch of this.#inFlight.values()) this.#fail(batch, error);
    this.#inFlight.clear();
  }

  #fail(batch: Pending[], error: unknown): void {
    for (const p of batch) p.reject(error);
  }
}
