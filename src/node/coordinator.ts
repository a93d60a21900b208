/**
 * Serving contracts: the node watches the Coordinator for `InferenceRequested`, runs each
 * request it can (a model it hosts, canonical input bytes), and answers on chain with the
 * output and its evidence — its signed receipt (`fulfillSigned`) or a zk proof (`fulfillZk`).
 * The Coordinator checks the evidence before the consumer's callback runs.
 *
 * Requests it cannot serve are logged and left for other nodes; a failed answer is retried on
 * the next poll (at most `maxAttempts` times). The scan resumes after a restart from a cursor in
 * `<dataDir>/chain/coordinator-<address>.json`, in spans of 5,000 blocks. Nothing here throws
 * into the event loop.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Hex, hexToBytes } from 'viem';
import { CoordinatorAbi } from '../chain/abi.ts';
import { chainError } from '../chain/errors.ts';
import { receiptStruct } from '../chain/receipt-struct.ts';
import { sendContract } from '../chain/send.ts';
import { groth16Calldata } from '../chain/zk-spec.ts';
import { cidToString } from '../core/cid.ts';
import { decodeTensors, encodeTensors } from '../core/encoding.ts';
import { errorMessage } from '../core/errors.ts';
import { toHex } from '../core/hash.ts';
import { type Mode, modes } from '../core/receipt.ts';
import { tensorMapToJson } from '../core/tensor.ts';
import { infer } from './infer.ts';
import type { PlumbNode } from './node.ts';

export type CoordinatorWatcherOptions = {
  pollMs?: number;
  maxAttempts?: number;
  log?: (line: string) => void;
};

type Request = { requestId: bigint; modelCid: Hex; input: Hex; mode: string };

/** Blocks per log query (public RPCs commonly cap a range near 10,000). */
const scanSpan = 5000n;

/** The next block to scan, saved by an earlier run on this data directory. */
async function readCursor(path: string): Promise<bigint | undefined> {
  try {
    const { next } = JSON.parse(await readFile(path, 'utf8')) as { next?: unknown };
    return typeof next === 'string' && /^[0-9]+$/.test(next) ? BigInt(next) : undefined;
  } catch {
    return undefined;
  }
}

export class CoordinatorWatcher {
  readonly #node: PlumbNode;
  readonly #pollMs: number;
  readonly #maxAttempts: number;
  readonly #log: (line: string) => void;
  #next: bigint | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  readonly #attempts = new Map<bigint, number>();
  readonly #retry: Request[] = [];
  /** Requests this node answered (for status and tests). */
  fulfilled = 0;

  constructor(node: PlumbNode, o: CoordinatorWatcherOptions = {}) {
    this.#node = node;
    this.#pollMs = o.pollMs ?? 1000;
    this.#maxAttempts = o.maxAttempts ?? 3;
    this.#log = o.log ?? (() => {});
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** Look for new requests now and answer them; resolves when done. */
  poll(): Promise<void> {
    this.#running ??= this.#pollOnce().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.poll().finally(() => this.#schedule(this.#pollMs));
    }, ms);
  }

  async #pollOnce(): Promise<void> {
    const chain = this.#node.chain;
    if (!chain) return;
    const { publicClient } = chain.connection;
    const coordinator = chain.deployment.coordinator;
    const cursor = join(
      this.#node.config.dataDir,
      'chain',
      `coordinator-${chain.deployment.coordinator}.json`,
    );
    try {
      const head = await publicClient.getBlockNumber({ cacheTime: 0 });
      let from = this.#next ?? (await readCursor(cursor)) ?? BigInt(chain.deployment.block);
      const requests: Request[] = [];
      // RPCs limit a log query's range: scan in spans.
      while (from <= head) {
        const to = from + scanSpan - 1n < head ? from + scanSpan - 1n : head;
        const logs = await publicClient.getContractEvents({
          address: coordinator,
          abi: CoordinatorAbi,
          eventName: 'InferenceRequested',
          fromBlock: from,
          toBlock: to,
        });
        for (const l of logs) requests.push(l.args as Request);
        from = to + 1n;
      }
      requests.push(...this.#retry.splice(0));
      for (const r of requests) {
        if (this.#stopped) return;
        await this.#serve(r);
      }
      // Only now: a restart before this point scans these blocks again (answered requests are skipped).
      this.#next = from;
      await writeFile(cursor, JSON.stringify({ next: from.toString() }));
    } catch (error) {
      this.#log(`coordinator: ${errorMessage(chainError('polling for requests', error, 'UNAVAILABLE'))}`);
    }
  }

  async #serve(r: Request): Promise<void> {
    const node = this.#node;
    const chain = node.chain!;
    const { publicClient } = chain.connection;
    const coordinator = { address: chain.deployment.coordinator, abi: CoordinatorAbi } as const;
    const id = r.requestId;
    try {
      const [requester, , fulfilled, cancelled] = await publicClient.readContract({
        ...coordinator,
        functionName: 'requests',
        args: [id],
      });
      if (fulfilled || cancelled || /^0x0{40}$/.test(requester)) return;
      const cid = cidToString(hexToBytes(r.modelCid));
      if (!node.hub.meta.getFile(cid))
        return this.#log(`request ${id}: model ${cid} is not hosted here; left for others`);
      if (!modes.includes(r.mode as Mode)) return this.#log(`request ${id}: unknown mode "${r.mode}"`);
      const { tensors, canonical } = decodeTensors(hexToBytes(r.input));
      if (!canonical)
        return this.#log(`request ${id}: the input bytes are not a canonical tensor encoding; cannot answer`);
      const { receipt, outputs } = await infer(node, {
        model: cid,
        inputs: tensorMapToJson(tensors),
        mode: r.mode as Mode,
      });
      const output = toHex(encodeTensors(outputs)) as Hex;
      const zk = receipt.evidence.zk;
      const mined = zk
        ? await sendContract(chain.connection, {
            ...coordinator,
            functionName: 'fulfillZk',
            args: [id, r.input, output, groth16Calldata(zk.proof), zk.publicSignals.map(BigInt)],
          })
        : await sendContract(chain.connection, {
            ...coordinator,
            functionName: 'fulfillSigned',
            args: [id, receiptStruct(receipt), receipt.evidence.signature as Hex, output],
          });
      this.fulfilled++;
      this.#log(`request ${id}: answered (${r.mode}) in transaction ${mined.transactionHash}`);
    } catch (error) {
      const n = (this.#attempts.get(id) ?? 0) + 1;
      this.#attempts.set(id, n);
      const why = errorMessage(chainError(`request ${id}`, error));
      if (n < this.#maxAttempts) this.#retry.push(r);
      this.#log(`${why}${n < this.#maxAttempts ? ' (will retry)' : ' (giving up)'}`);
    }
  }
}
