import { type Client, sendJson } from '../client.ts';
import type { NodeInfo } from '../types.ts';

export type GetNodeInfoReturnType = NodeInfo;

/**
 * The node's address, version, runtime and counts.
 * @example const info = await getNodeInfo(client); console.log(info.address)
 */
export function getNodeInfo(client: Client): Promise<GetNodeInfoReturnType> {
  return sendJson(client, '/v1/node');
}
