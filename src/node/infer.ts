/**
 * Run an inference and sign its receipt: resolve the model, check the inputs against its
 * manifest, run it, hash inputs and outputs, sign, and record the receipt.
 */
import { PlumbError } from '../core/errors.ts';
import type { Hex } from '../core/hash.ts';
import { isHex } from '../core/hash.ts';
import { checkInputs, parseInputs } from '../core/inputs.ts';
import {
  draftReceipt,
  type InferRequest,
  modes,
  type Receipt,
  randomNonce,
  sealReceipt,
} from '../core/receipt.ts';
import type { TensorMap } from '../core/tensor.ts';
import type { PlumbNode } from './node.ts';

export type InferParameters = InferRequest;

/** `json` is the receipt as stored, so callers need not serialize it again. */
export type InferReturnType = { receipt: Receipt; outputs: TensorMap; json: string };

export async function infer(node: PlumbNode, p: InferParameters): Promise<InferReturnType> {
  node.load.inflight++;
  try {
    return await run(node, p);
  } finally {
    node.load.inflight--;
  }
}

async function run(node: PlumbNode, p: InferParameters): Promise<InferReturnType> {
  const mode = p.mode ?? 'signed';
  if (!modes.includes(mode))
    throw new PlumbError('INVALID_ARGUMENT', `mode "${mode}" is not available on this node`, {
      metaMessages: [`Available: ${modes.join(', ')}`],
    });
  if (p.nonce !== undefined && !isHex(p.nonce, 32))
    throw new PlumbError('INVALID_ARGUMENT', 'nonce: expected 0x followed by 64 hex digits');
  const { cid, file, version } = node.hub.resolve(p.model);
  const inputs = parseInputs(p.inputs, file.manifest.inputs);
  checkInputs(file.manifest.inputs, inputs);
  const outputs = await node.runtime.run(cid, () => node.hub.read(cid), inputs);
  const key = node.key;
  const draft = draftReceipt({
    domain: node.domain,
    modelCid: cid,
    model: version ? { repo: version.repo, version: version.version } : undefined,
    inputs,
    outputs,
    mode,
    node: key.address,
    nonce: (p.nonce as Hex | undefined) ?? randomNonce(),
    includeInputs: p.includeInputs,
    timestamp: Date.now(),
  });
  const receipt = sealReceipt(draft, await key.signAsync(draft.digest));
  const json = JSON.stringify(receipt);
  await node.receipts.append({ id: receipt.id, modelCid: cid, createdAt: receipt.timestamp, body: json });
  return { receipt, outputs, json };
}
