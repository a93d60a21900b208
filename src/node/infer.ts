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
  type ZkEvidence,
} from '../core/receipt.ts';
import type { TensorMap } from '../core/tensor.ts';
import { decodeOutputs } from '../proof/zk/prove.ts';
import type { PlumbNode } from './node.ts';
import { checkedPath, notSetUp, zkArtifactsOf, zkKeyOf } from './zk/keys.ts';

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
  let outputs: TensorMap;
  let zk: ZkEvidence | undefined;
  if (mode === 'zk') {
    const proven = await proveZk(node, cid, version ? `${version.repo}@${version.version}` : cid, inputs);
    outputs = proven.outputs;
    zk = proven.evidence;
  } else outputs = await node.runtime.run(cid, () => node.hub.read(cid), inputs);
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
    // A zk proof is about its inputs: a zk receipt always carries them.
    includeInputs: mode === 'zk' ? true : p.includeInputs,
    timestamp: Date.now(),
  });
  const receipt = sealReceipt(draft, await key.signAsync(draft.digest), zk);
  const json = JSON.stringify(receipt);
  // On a chain, the receipt is queued for settlement in the same commit that stores it.
  const chain = node.chain;
  await node.receipts.append({
    id: receipt.id,
    modelCid: cid,
    createdAt: receipt.timestamp,
    body: json,
    settle: chain !== undefined,
  });
  chain?.settler.notify(1);
  return { receipt, outputs, json };
}

/** Prove the model on `inputs` on a zk thread; the outputs are the circuit's (dequantized). */
async function proveZk(
  node: PlumbNode,
  cid: string,
  name: string,
  inputs: TensorMap,
): Promise<{ outputs: TensorMap; evidence: ZkEvidence }> {
  const artifacts = zkArtifactsOf(node, cid);
  const key = artifacts ? await zkKeyOf(node, cid) : undefined;
  if (!artifacts || !key) throw notSetUp(cid, name);
  const { proof, publicSignals } = await node.zk.prove({
    circuit: key.layout,
    wasmPath: await checkedPath(node, artifacts['zk.wasm']!),
    zkeyPath: await checkedPath(node, artifacts['zk.zkey']!),
    inputs,
  });
  const outputs: TensorMap = {};
  for (const [name, o] of Object.entries(decodeOutputs(key.layout, publicSignals)))
    outputs[name] = { dtype: 'float32', shape: o.shape, data: o.values };
  return {
    outputs,
    evidence: { protocol: 'groth16', curve: 'bn128', proof, publicSignals, verificationKey: key.vkeyCid },
  };
}
