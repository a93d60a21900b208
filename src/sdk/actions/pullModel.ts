import { PlumbError } from '../../core/errors.ts';
import { type Client, send } from '../client.ts';

export type PullModelParameters = {
  cid: string;
  /** Called with the number of bytes received so far and the total. */
  onProgress?: ((received: number, total: number | undefined) => void) | undefined;
};
export type PullModelReturnType = { size: number | undefined; stream: AsyncIterable<Uint8Array> };

/**
 * Download a file by CID as a stream of chunks. The node re-hashes as it sends and breaks the
 * stream if the stored bytes do not match the CID.
 * @example for await (const chunk of (await pullModel(client, { cid })).stream) out.write(chunk)
 */
export async function pullModel(
  client: Client,
  { cid, onProgress }: PullModelParameters,
): Promise<PullModelReturnType> {
  const response = await send(client, `/v1/files/${encodeURIComponent(cid)}/content`);
  const header = response.headers.get('content-length');
  const size = header === null ? undefined : Number(header);
  const body = response.body;
  if (!body) throw new PlumbError('INTEGRITY', `the node sent no bytes for ${cid}`);
  async function* chunks(): AsyncIterable<Uint8Array> {
    let received = 0;
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      received += chunk.byteLength;
      onProgress?.(received, size);
      yield chunk;
    }
    if (size !== undefined && received !== size)
      throw new PlumbError('INTEGRITY', `download of ${cid} ended after ${received} of ${size} bytes`);
  }
  return { size, stream: chunks() };
}
