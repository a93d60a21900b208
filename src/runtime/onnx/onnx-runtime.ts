/**
 * Float inference with onnxruntime-node. Sessions are cached per model CID in a bounded
 * least-recently-used cache; concurrent first requests for one model share one load.
 */
import * as ort from 'onnxruntime-node';
import { errorMessage, PlumbError } from '../../core/errors.ts';
import { allocTensor, type DType, isDType, type Tensor, type TensorMap } from '../../core/tensor.ts';

export type OnnxRuntimeOptions = {
  /** Most sessions kept loaded at once (default 16). */
  maxSessions?: number;
  /** Threads per session for one operator (onnxruntime's default when undefined). */
  intraOpThreads?: number | undefined;
};

type Entry = { session: Promise<ort.InferenceSession> };

export class OnnxRuntime {
  readonly #maxSessions: number;
  readonly #options: ort.InferenceSession.SessionOptions;
  /** Insertion order is recency order: a hit is moved to the end. */
  readonly #sessions = new Map<string, Entry>();

  constructor(options: OnnxRuntimeOptions = {}) {
    this.#maxSessions = Math.max(1, options.maxSessions ?? 16);
    this.#options = {
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    };
  }

  static get version(): string {
    return ort.env.versions.common ?? 'unknown';
  }

  /** Load a model to check onnxruntime accepts it; throws INVALID_MODEL if not. */
  async check(bytes: Uint8Array): Promise<void> {
    const session = await this.#create(bytes);
    await session.release();
  }

  /** Run the model `cid` (its bytes from `load` on a cache miss) on `inputs`. */
  async run(cid: string, load: () => Promise<Uint8Array>, inputs: TensorMap): Promise<TensorMap> {
    const session = await this.#session(cid, load);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) feeds[name] = toOrt(t);
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(feeds);
    } catch (error) {
      throw new PlumbError(
        'INFERENCE_FAILED',
        `onnxruntime failed to run model ${cid}: ${firstLine(error)}`,
        {
          cause: error,
        },
      );
    }
    const out: TensorMap = {};
    for (const name of session.outputNames) {
      const value = results[name];
      if (!(value instanceof ort.Tensor))
        throw new PlumbError(
          'INFERENCE_FAILED',
          `output "${name}" is not a tensor; Plumb carries tensors only`,
        );
      out[name] = fromOrt(value, name);
    }
    return out;
  }

  /** Number of sessions loaded now. */
  get size(): number {
    return this.#sessions.size;
  }

  async stop(): Promise<void> {
    const entries = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(entries.map(async (e) => (await e.session).release()));
  }

  #session(cid: string, load: () => Promise<Uint8Array>): Promise<ort.InferenceSession> {
    const hit = this.#sessions.get(cid);
    if (hit) {
      this.#sessions.delete(cid);
      this.#sessions.set(cid, hit);
      return hit.session;
    }
    const session = load().then((bytes) => this.#create(bytes));
    const entry = { session };
    this.#sessions.set(cid, entry);
    session.catch(() => {
      if (this.#sessions.get(cid) === entry) this.#sessions.delete(cid);
    });
    while (this.#sessions.size > this.#maxSessions) {
      const [oldest, old] = this.#sessions.entries().next().value as [string, Entry];
      this.#sessions.delete(oldest);
      old.session.then((s) => s.release()).catch(() => {});
    }
    return session;
  }

  async #create(bytes: Uint8Array): Promise<ort.InferenceSession> {
    try {
      return await ort.InferenceSession.create(bytes, this.#options);
    } catch (error) {
      throw new PlumbError('INVALID_MODEL', `onnxruntime cannot load this model: ${firstLine(error)}`, {
        cause: error,
      });
    }
  }
}

function firstLine(error: unknown): string {
  return errorMessage(error).split('\n')[0]!.slice(0, 500);
}

export function toOrt(t: Tensor): ort.Tensor {
  const dims = [...t.shape];
  if (t.dtype === 'string') return new ort.Tensor('string', t.data, dims);
  return new ort.Tensor(t.dtype, t.data, dims);
}

export function fromOrt(value: ort.Tensor, name: string): Tensor {
  const dtype = value.type as string;
  if (!isDType(dtype))
    throw new PlumbError(
      'INFERENCE_FAILED',
      `output "${name}" has dtype ${dtype}, which Plumb does not carry`,
    );
  const shape = value.dims.map(Number);
  const tensor = allocTensor(dtype as DType, shape);
  const data = value.data as ArrayLike<unknown>;
  if (tensor.dtype === 'string') {
    for (let i = 0; i < data.length; i++) tensor.data[i] = String(data[i]);
  } else {
    // Copy: onnxruntime may reuse or free its output buffers.
    (tensor.data as { set(a: ArrayLike<unknown>): void }).set(data);
  }
  return tensor as Tensor;
}
