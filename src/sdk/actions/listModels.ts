import { type Client, sendJson } from '../client.ts';
import type { Repository } from '../types.ts';

export type ListModelsReturnType = Repository[];

/** Repositories on the node, by name, with their versions (newest first). */
export async function listModels(client: Client): Promise<ListModelsReturnType> {
  return (await sendJson<{ repositories: Repository[] }>(client, '/v1/models')).repositories;
}
