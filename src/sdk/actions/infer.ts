import type { InferRequest, Receipt } from '../../core/receipt.ts';
import { type Client, postJson, sendJson } from '../client.ts';

export type InferParameters = InferRequest;
export type InferReturnType = Receipt;

/**
 * Run a model on the node and get its outputs in a signed receipt.
 * @example
 * const receipt = await infer(client, { model: 'acme/mlp', inputs: { x: { dtype: 'float32', shape: [1, 3], data: [1, 2, 3] } } })
 * (await verifyReceipt(receipt)).valid // true
 */
export function infer(client: Client, p: InferParameters): Promise<InferReturnType> {
  const body: Record<string, unknown> = { model: p.model, inputs: p.inputs };
  if (p.mode !== undefined) body['mode'] = p.mode;
  if (p.nonce !== undefined) body['nonce'] = p.nonce;
  if (p.includeInputs !== undefined) body['includeInputs'] = p.includeInputs;
  return sendJson(client, '/v1/infer', postJson(body));
}
