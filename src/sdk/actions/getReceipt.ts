import type { Receipt } from '../../core/receipt.ts';
import { type Client, sendJson } from '../client.ts';
import type { ReceiptSummary } from '../types.ts';

/** A receipt the node issued, by id (its EIP-712 digest). */
export function getReceipt(client: Client, { id }: { id: string }): Promise<Receipt> {
  return sendJson(client, `/v1/receipts/${encodeURIComponent(id)}`);
}

/** Receipts the node issued, newest first. */
export async function listReceipts(
  client: Client,
  { limit, before }: { limit?: number; before?: number } = {},
): Promise<ReceiptSummary[]> {
  const q = new URLSearchParams();
  if (limit !== undefined) q.set('limit', String(limit));
  if (before !== undefined) q.set('before', String(before));
  return (await sendJson<{ receipts: ReceiptSummary[] }>(client, `/v1/receipts?${q}`)).receipts;
}
