/**
 * The node's zk prover: a small pool of worker processes (at most `concurrency`, started on first
 * use; see worker.ts for why not threads) that run setups, proofs and verifier exports while the
 * event loop keeps serving. Jobs beyond the pool wait in a FIFO queue. `stop()` rejects queued
 * jobs, stops snarkjs's curve threads in each worker and ends them: nothing outlives the node.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PlumbError } from '../../core/errors.ts';
import type { ProveJob, ProveOutcome, SetupJob, SetupOutcome, SetupProgress, ZkJob } from './jobs.ts';

type Pending = {
  job: ZkJob;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onProgress?: ((p: SetupProgress) => void) | undefined;
};

type Slot = { worker: ChildProcess; current: { id: number; pending: Pending } | undefined };

type WorkerMessage = {
  id: number;
  progress?: SetupProgress;
  result?: unknown;
  error?: {
    code?: string;
    shortMessage?: string;
    details?: string;
    metaMessages?: string[];
    message?: string;
  };
};

export class ZkService {
  readonly concurrency: number;
  readonly maxQueue: number;
  #slots: Slot[] = [];
  #queue: Pending[] = [];
  #nextId = 0;
  #stopped = false;

  constructor({ concurrency, maxQueue = 64 }: { concurrency: number; maxQueue?: number }) {
    this.concurrency = concurrency;
    this.maxQueue = maxQueue;
  }

  /** Jobs running and waiting. */
  /** Process ids of the live workers (for diagnostics and tests). */
  get pids(): number[] {
    return this.#slots.flatMap((s) => (s.worker.pid !== undefined ? [s.worker.pid] : []));
  }

  get load(): { running: number; queued: number } {
    return { running: this.#slots.filter((s) => s.current).length, queued: this.#queue.length };
  }

  setup(job: Omit<SetupJob, 'kind'>, onProgress?: (p: SetupProgress) => void): Promise<SetupOutcome> {
    return this.#submit({ kind: 'setup', ...job }, onProgress) as Promise<SetupOutcome>;
  }

  prove(job: Omit<ProveJob, 'kind'>): Promise<ProveOutcome> {
    return this.#submit({ kind: 'prove', ...job }) as Promise<ProveOutcome>;
  }

  solidity(zkeyPath: string): Promise<string> {
    return this.#submit({ kind: 'solidity', zkeyPath }) as Promise<string>;
  }

  /** Reject waiting jobs, release snarkjs in each worker, terminate them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const stopping = new PlumbError('UNAVAILABLE', 'the node is stopping');
    for (const p of this.#queue.splice(0)) p.reject(stopping);
    const slots = this.#slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        if (!slot.current) {
          // Ask it to stop its curve threads; do not wait long for a busy or stuck worker.
          const id = this.#nextId++;
          const released = new Promise<void>((resolve) => {
            const onMessage = (m: WorkerMessage) => {
              if (m.id === id) {
                slot.worker.off('message', onMessage);
                resolve();
              }
            };
            slot.worker.on('message', onMessage);
            slot.worker.send({ id, job: { kind: 'release' } });
          });
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([released, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
          clearTimeout(timer);
        }
        slot.current?.pending.reject(stopping);
        slot.current = undefined;
        await end(slot.worker);
      }),
    );
  }

  #submit(job: ZkJob, onProgress?: (p: SetupProgress) => void): Promise<unknown> {
    if (this.#stopped) return Promise.reject(new PlumbError('UNAVAILABLE', 'the node is stopping'));
    const idle = this.#slots.some((s) => !s.current) || this.#slots.length < this.concurrency;
    if (!idle && this.#queue.length >= this.maxQueue)
      return Promise.reject(
        new PlumbError('UNAVAILABLE', `the zk prover is busy: ${this.#queue.length} jobs are waiting`, {
          metaMessages: ['Retry later, or start the node with a larger --zk-concurrency.'],
        }),
      );
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, resolve, reject, onProgress });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#stopped) {
      let slot = this.#slots.find((s) => !s.current);
      if (!slot) {
        if (this.#slots.length >= this.concurrency) return;
        slot = this.#spawn();
      }
      const pending = this.#queue.shift()!;
      const id = this.#nextId++;
      slot.current = { id, pending };
      slot.worker.send({ id, job: pending.job });
    }
  }

  #spawn(): Slot {
    const worker = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
      serialization: 'advanced',
      execArgv: ['--disable-warning=ExperimentalWarning'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const slot: Slot = { worker, current: undefined };
    worker.on('message', (m: WorkerMessage) => {
      const current = slot.current;
      if (!current || current.id !== m.id) return;
      if (m.progress) {
        current.pending.onProgress?.(m.progress);
        return;
      }
      slot.current = undefined;
      if (m.error) current.pending.reject(rebuild(m.error));
      else current.pending.resolve(m.result);
      this.#pump();
    });
    const lost = (error: unknown) => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      slot.current?.pending.reject(
        new PlumbError('INTERNAL', 'the zk worker thread failed', { cause: error, details: String(error) }),
      );
      slot.current = undefined;
      this.#pump();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => {
      if (!this.#stopped) lost(new Error(`exit code ${code}`));
    });
    this.#slots.push(slot);
    return slot;
  }
}

/** Disconnect and wait for the process to exit (killed if it does not within 2 s). */
async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

function rebuild(e: NonNullable<WorkerMessage['error']>): PlumbError {
  if (e.code && e.shortMessage)
    return new PlumbError(e.code as never, e.shortMessage, {
      details: e.details,
      metaMessages: e.metaMessages,
    });
  return new PlumbError('INTERNAL', `zk: ${e.message ?? 'unknown error'}`);
}
