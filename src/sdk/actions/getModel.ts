import { parseModelRef } from '../../core/refs.ts';
import { type Client, sendJson } from '../client.ts';
import type { ModelFile, Repository } from '../types.ts';

export type GetModelParameters = {
  /** `owner/name` (latest version), `owner/name@version`, or a CID. */
  ref: string;
};
export type GetModelReturnType = ModelFile;

/**
 * A model file with its manifest and the versions that point at it.
 * @example const { cid, manifest } = await getModel(client, { ref: 'acme/mlp@1.0.0' })
 */
export async function getModel(client: Client, { ref }: GetModelParameters): Promise<GetModelReturnType> {
  const parsed = parseModelRef(ref);
  if (parsed.kind === 'cid') return sendJson(client, `/v1/files/${encodeURIComponent(parsed.cid)}`);
  const path = `/v1/models/${parsed.repo.split('/').map(encodeURIComponent).join('/')}`;
  const version = parsed.version ?? (await sendJson<Repository>(client, path)).latest;
  return sendJson(client, `${path}/versions/${encodeURIComponent(version ?? '')}`);
}
