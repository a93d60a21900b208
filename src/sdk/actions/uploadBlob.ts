import { type Client, sendJson } from '../client.ts';

export type UploadBlobParameters = {
  /** The bytes: a buffer or a stream of chunks. */
  data: Uint8Array | AsyncIterable<Uint8Array>;
  /** Total size, if known (sent as Content-Length so an over-limit upload fails at once). */
  size?: number | undefined;
};
export type UploadBlobReturnType = { cid: string; size: number };

/**
 * Store bytes on the node by CID, for a push to refer to (a powers-of-tau file, a calibration
 * input). Storing bytes already there is a no-op answering the same CID.
 * @example const { cid } = await uploadBlob(client, { data: fs.createReadStream('pot14.ptau') })
 */
export function uploadBlob(client: Client, p: UploadBlobParameters): Promise<UploadBlobReturnType> {
  const size = p.size ?? (p.data instanceof Uint8Array ? p.data.byteLength : undefined);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (size !== undefined) headers['content-length'] = String(size);
  const body = p.data instanceof Uint8Array ? p.data : toStream(p.data);
  return sendJson(client, '/v1/blobs', {
    method: 'POST',
    headers,
    body: body as RequestInit['body'],
    duplex: 'half',
  } as RequestInit);
}

function toStream(data: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = data[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
