import { PlumbError } from '../../core/errors.ts';
import { fromProblem } from '../../core/problem.ts';
import { type Client, send } from '../client.ts';
import type { PushResult } from '../types.ts';
import { uploadBlob } from './uploadBlob.ts';

/** A stage of a zk setup as it starts. */
export type ZkSetupProgress = { stage: 'compile' | 'ptau' | 'zkey'; message: string };

export type PushZkOptions = {
  /**
   * A phase-2-prepared powers-of-tau file from a public ceremony (bytes, a stream, or the CID of
   * one already uploaded); else the node uses a development one.
   */
  ptau?: Uint8Array | AsyncIterable<Uint8Array> | { cid: string } | undefined;
  ptauSize?: number | undefined;
  /** Inputs (tensor map or ezkl input.json) to measure the circuit's error against onnxruntime on. */
  calibrate?: unknown;
  /** Signed bit width of the circuit's inputs at scale 2^12 (default 24: |x| < 2048), 14..64. */
  inputBits?: number | undefined;
  /** Called as each setup stage starts. */
  onProgress?: ((p: ZkSetupProgress) => void) | undefined;
};

export type PushModelParameters = {
  /** The model file's bytes: a buffer or a stream of chunks. */
  data: Uint8Array | AsyncIterable<Uint8Array>;
  /** `owner/name` */
  repo: string;
  version?: string | undefined;
  description?: string | undefined;
  /** Total size, if known (sent as Content-Length so an over-limit upload fails at once). */
  size?: number | undefined;
  /** Called with the number of bytes sent so far. */
  onProgress?: ((sent: number) => void) | undefined;
  /**
   * Also set up zk proving (Groth16); refused, with every unsupported op, when the model cannot
   * be proven. Pushing a model that has its setup again reuses it.
   */
  zk?: boolean | PushZkOptions | undefined;
};
export type PushModelReturnType = PushResult;

/**
 * Upload a model file (streamed). The node stores it by CID, reads its manifest, checks that
 * it loads, and records the version.
 * @example await pushModel(client, { data: fs.createReadStream('net.onnx'), repo: 'acme/mlp' })
 */
export async function pushModel(client: Client, p: PushModelParameters): Promise<PushModelReturnType> {
  const query = new URLSearchParams({ repo: p.repo });
  if (p.version !== undefined) query.set('version', p.version);
  if (p.description !== undefined) query.set('description', p.description);
  const zk = p.zk === true ? {} : p.zk || undefined;
  if (zk) {
    query.set('zk', 'true');
    if (zk.ptau !== undefined)
      query.set(
        'ptau',
        'cid' in zk.ptau && typeof zk.ptau.cid === 'string'
          ? zk.ptau.cid
          : (await uploadBlob(client, { data: zk.ptau as Uint8Array, size: zk.ptauSize })).cid,
      );
    if (zk.inputBits !== undefined) query.set('inputBits', String(zk.inputBits));
    if (zk.calibrate !== undefined)
      query.set(
        'calibrate',
        (await uploadBlob(client, { data: new TextEncoder().encode(JSON.stringify(zk.calibrate)) })).cid,
      );
  }
  const size = p.size ?? (p.data instanceof Uint8Array ? p.data.byteLength : undefined);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (size !== undefined) headers['content-length'] = String(size);
  if (zk?.onProgress) headers['accept'] = 'application/x-ndjson, application/json';
  const body = p.data instanceof Uint8Array && !p.onProgress ? p.data : toStream(p.data, p.onProgress);
  const response = await send(client, `/v1/models?${query}`, {
    method: 'POST',
    headers,
    body: body as RequestInit['body'],
    duplex: 'half',
  } as RequestInit);
  if (!(response.headers.get('content-type') ?? '').includes('application/x-ndjson'))
    return (await response.json()) as PushResult;
  return readProgress(response, zk?.onProgress);
}

/** Read a streamed push: progress lines, then the result or the error. */
async function readProgress(
  response: Response,
  onProgress: ((p: ZkSetupProgress) => void) | undefined,
): Promise<PushResult> {
  const decoder = new TextDecoder();
  let buffered = '';
  const handle = (text: string): PushResult | undefined => {
    if (!text.trim()) return undefined;
    const event = JSON.parse(text) as { progress?: ZkSetupProgress; result?: PushResult; error?: unknown };
    if (event.progress) onProgress?.(event.progress);
    if (event.error) {
      const status = (event.error as { status?: number }).status ?? 500;
      throw fromProblem(event.error, status);
    }
    return event.result;
  };
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const result = handle(buffered.slice(0, nl));
      if (result) return result;
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
  }
  const result = handle(buffered);
  if (result) return result;
  throw new PlumbError('UNAVAILABLE', 'the node ended the push before answering (did it stop?)');
}

function toStream(
  data: Uint8Array | AsyncIterable<Uint8Array>,
  onProgress: ((sent: number) => void) | undefined,
): ReadableStream<Uint8Array> {
  const chunks: AsyncIterable<Uint8Array> =
    data instanceof Uint8Array
      ? (async function* () {
          for (let i = 0; i < data.byteLength; i += 1 << 20) yield data.subarray(i, i + (1 << 20));
        })()
      : data;
  let sent = 0;
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) return controller.close();
      sent += value.byteLength;
      onProgress?.(sent);
      controller.enqueue(value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
