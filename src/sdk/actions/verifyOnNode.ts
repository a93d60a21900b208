import { type Client, postJson, sendJson } from '../client.ts';
import type { VerifyResult } from '../types.ts';

export type VerifyOnNodeParameters = { receipt: unknown; reexecute?: boolean };

/**
 * Ask a node to verify a receipt, and with `reexecute` to run the model again and compare.
 * Offline checks need no node: use `verifyReceipt` from the SDK.
 */
export function verifyOnNode(
  client: Client,
  { receipt, reexecute }: VerifyOnNodeParameters,
): Promise<VerifyResult> {
  return sendJson(client, '/v1/verify', postJson({ receipt, reexecute: reexecute ?? false }));
}
