import { parseModelRef } from '../../core/refs.ts';
import { type Client, sendJson } from '../client.ts';
import type { ZkInfo } from '../types.ts';
import { getModel } from './getModel.ts';

export type GetZkInfoParameters = {
  /** `owner/name` (latest version), `owner/name@version`, or a CID. */
  ref: string;
};
export type GetZkInfoReturnType = ZkInfo;

/** The model CID a reference names (a CID as is; a name through the node). */
export async function modelCidOf(client: Client, ref: string): Promise<string> {
  const parsed = parseModelRef(ref);
  return parsed.kind === 'cid' ? parsed.cid : (await getModel(client, { ref })).cid;
}

/**
 * A model's zk setup: its artifact CIDs, verification key and circuit layout — what
 * `verifyReceipt(receipt, { zk })` needs. NOT_FOUND when the model was pushed without zk.
 * @example await verifyReceipt(receipt, { zk: await getZkInfo(client, { ref: receipt.modelCid }) })
 */
export async function getZkInfo(client: Client, { ref }: GetZkInfoParameters): Promise<GetZkInfoReturnType> {
  const cid = await modelCidOf(client, ref);
  return sendJson(client, `/v1/files/${encodeURIComponent(cid)}/zk`);
}
