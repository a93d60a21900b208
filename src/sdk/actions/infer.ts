import type { Mode, Receipt } from '../../core/receipt.ts';
import { type Client, postJson, sendJson } from '../client.ts';

export type InferParameters = {
  /** `owner/name`, `owner/name@version` or a CID. */
  model: string;
  /** Plumb tensor map `{ name: { dtype, shape, data } }` or an ezkl input.json document. */
  inputs: unknown;
  mode?: Mode | undefined;
  /** 32-byte 0x-hex request nonce; the node picks a random one when omitted. */
  nonce?: string | undefined;
  /** Carry the inputs in the receipt (default false), e.g. to keep it as a re-executable file. */
  includeInputs?: boolean | undefined;
};
export type InferReturnType = Receipt;

/**
 * Run a model on the node and get its outputs in a signed receipt.
 * @example
 * const receipt = await infer(client, { model: 'acme/mlp', inputs: { x: { dtype: 'float32', shape: [1, 3], data: [1, 2, 3] } } })
 * verifyReceipt(receipt).valid // true
 */
export function infer(client: Client, p: InferParameters): Promise<InferReturnType> {
  const body: Record<string, unknown> = { model: p.model, inputs: p.inputs };
  if (p.mode !== undefined) body['mode'] = p.mode;
  if (p.nonce !== undefined) body['nonce'] = p.nonce;
  if (p.includeInputs !== undefined) body['includeInputs'] = p.includeInputs;
  return sendJson(client, '/v1/infer', postJson(body));
}
