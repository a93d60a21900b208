import { type Client, sendJson } from '../client.ts';
import type { PushResult } from '../types.ts';

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
  const size = p.size ?? (p.data instanceof Uint8Array ? p.data.byteLength : undefined);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (size !== undefined) headers['content-length'] = String(size);
  const body = p.data instanceof Uint8Array && !p.onProgress ? p.data : toStream(p.data, p.onProgress);
  return sendJson(client, `/v1/models?${query}`, {
    method: 'POST',
    headers,
    body: body as RequestInit['body'],
    duplex: 'half',
  } as RequestInit);
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
