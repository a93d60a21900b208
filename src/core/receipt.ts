/**
 * Receipts: what a node returns for an inference, and the checks anyone can run on one
 * without a node. A receipt binds model CID, input hash, output hash, mode, node address,
 * time and a request nonce under the node's EIP-712 signature (`core/receipt-types.ts`),
 * so an EVM contract can check it with `ecrecover`.
 */
import { z } from 'zod';
import { cidToBytes } from './cid.ts';
import { hashTensors } from './encoding.ts';
import { errorMessage, PlumbError } from './errors.ts';
import { type Hex, toHex } from './hash.ts';
import { receiptDigest } from './receipt-types.ts';
import { recoverAddress } from './secp256k1.ts';
import { type TensorMap, type TensorMapJson, tensorMapFromJson, tensorMapToJson } from './tensor.ts';

export const modes = ['signed', 'zk'] as const;
export type Mode = (typeof modes)[number];

/** What a client asks a node to run (the body of `POST /v1/infer`). */
export type InferRequest = {
  /** `owner/name`, `owner/name@version` or a CID. */
  model: string;
  /** Plumb tensor map `{ name: { dtype, shape, data } }` or an ezkl input.json document. */
  inputs: unknown;
  mode?: Mode | undefined;
  /** 32-byte 0x-hex request nonce; the node picks a random one when omitted. */
  nonce?: string | undefined;
  /**
   * Carry the inputs in the receipt (default false: the client has them, and the receipt's
   * inputHash binds them). Receipts kept as files for re-execution want them.
   */
  includeInputs?: boolean | undefined;
};

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x followed by 64 hex digits');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte 0x address');
const tensorJson = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data: z.array(z.unknown()),
});
export const tensorMapJsonSchema = z.record(z.string(), tensorJson);

export const receiptDomainSchema = z.object({
  name: z.string(),
  version: z.string(),
  chainId: z.number().int().nonnegative().optional(),
  verifyingContract: address.optional(),
});
export type ReceiptDomain = z.infer<typeof receiptDomainSchema>;

const decimal = z.string().regex(/^[0-9]{1,78}$/, 'expected a decimal field element');
/**
 * Evidence of mode `zk`: a Groth16 proof (snarkjs JSON form) that the model's circuit maps the
 * public inputs to the public outputs. `publicSignals` are the circuit's outputs then inputs,
 * each a signed fixed-point integer at 2^scale encoded mod p (layout: the model's `zk.layout`
 * artifact). `verificationKey` is the CID of the verification key registered for the model
 * (its `zk.vkey` artifact). Not covered by the signature: the proof stands on its own, and the
 * verifier checks that it proves exactly the signed inputs and outputs.
 */
export const zkEvidenceSchema = z.object({
  protocol: z.literal('groth16'),
  curve: z.literal('bn128'),
  proof: z.object({
    pi_a: z.array(decimal),
    pi_b: z.array(z.array(decimal)),
    pi_c: z.array(decimal),
    protocol: z.string(),
    curve: z.string(),
  }),
  publicSignals: z.array(z.string()),
  verificationKey: z.string().min(1),
});
export type ZkEvidence = z.infer<typeof zkEvidenceSchema>;

export const receiptSchema = z.object({
  version: z.literal(1),
  /** The EIP-712 digest the signature signs; the receipt's identifier. */
  id: hex32,
  mode: z.enum(modes),
  modelCid: z.string().min(1),
  /** Informational: the name the client asked for (not signed). */
  model: z.object({ repo: z.string(), version: z.string() }).optional(),
  inputHash: hex32,
  outputHash: hex32,
  inputs: tensorMapJsonSchema.optional(),
  outputs: tensorMapJsonSchema,
  node: address,
  /** Unix time in milliseconds. */
  timestamp: z.number().int().nonnegative(),
  nonce: hex32,
  domain: receiptDomainSchema,
  evidence: z.object({
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'expected a 65-byte signature'),
    /** Mode `zk` only: the proof. */
    zk: zkEvidenceSchema.optional(),
  }),
});
export type Receipt = z.infer<typeof receiptSchema>;

/** The signed fields (hex strings as 0x-prefixed hex, checked by `receiptSchema`). */
export type ReceiptFields = {
  modelCid: string;
  inputHash: string;
  outputHash: string;
  mode: Mode;
  node: string;
  timestamp: number;
  nonce: string;
};

/** The EIP-712 digest of a receipt's signed fields. */
export function digestOf(domain: ReceiptDomain, f: ReceiptFields): Uint8Array {
  return receiptDigest(domain, {
    modelCid: cidToBytes(f.modelCid),
    inputHash: f.inputHash as Hex,
    outputHash: f.outputHash as Hex,
    mode: f.mode,
    node: f.node as Hex,
    timestamp: BigInt(f.timestamp),
    nonce: f.nonce as Hex,
  });
}

export type DraftReceiptParameters = {
  domain: ReceiptDomain;
  modelCid: string;
  model?: { repo: string; version: string } | undefined;
  inputs: TensorMap;
  outputs: TensorMap;
  mode: Mode;
  node: Hex;
  nonce: Hex;
  timestamp: number;
  /** Carry the inputs in the receipt, so it can be re-executed without them (default false). */
  includeInputs?: boolean | undefined;
};

/** A receipt without its signature, and the EIP-712 digest to sign. */
export type DraftReceipt = { digest: Uint8Array; receipt: Omit<Receipt, 'evidence'> };

/** Hash inputs and outputs and lay out a receipt; `sealReceipt` adds the signature. */
export function draftReceipt(p: DraftReceiptParameters): DraftReceipt {
  const fields: ReceiptFields = {
    modelCid: p.modelCid,
    inputHash: hashTensors(p.inputs),
    outputHash: hashTensors(p.outputs),
    mode: p.mode,
    node: p.node,
    timestamp: p.timestamp,
    nonce: p.nonce,
  };
  const digest = digestOf(p.domain, fields);
  const receipt = {
    version: 1 as const,
    id: toHex(digest),
    mode: fields.mode,
    modelCid: fields.modelCid,
    ...(p.model ? { model: p.model } : {}),
    inputHash: fields.inputHash,
    outputHash: fields.outputHash,
    ...(p.includeInputs ? { inputs: tensorMapToJson(p.inputs) } : {}),
    outputs: tensorMapToJson(p.outputs),
    node: fields.node,
    timestamp: fields.timestamp,
    nonce: fields.nonce,
    domain: p.domain,
  };
  return { digest, receipt };
}

export function sealReceipt(draft: DraftReceipt, signature: Hex, zk?: ZkEvidence): Receipt {
  return { ...draft.receipt, evidence: zk ? { signature, zk } : { signature } };
}

export type BuildReceiptParameters = DraftReceiptParameters & {
  /** Signs an EIP-712 digest with the node's key. */
  sign: (digest: Uint8Array) => Hex;
};

/** Draft and sign a receipt in one step. */
export function buildReceipt(p: BuildReceiptParameters): Receipt {
  const draft = draftReceipt(p);
  return sealReceipt(draft, p.sign(draft.digest));
}

/** Validate a receipt's structure; throws INVALID_RECEIPT naming the first bad field. */
export function parseReceipt(json: unknown): Receipt {
  const result = receiptSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : 'receipt';
  throw new PlumbError('INVALID_RECEIPT', `malformed receipt: ${path}: ${issue.message}`);
}

export type Check = { check: string; ok: boolean; message: string };
export type VerifyReceiptReturnType = {
  valid: boolean;
  /** Each check that ran, in order. */
  checks: Check[];
  /** The first failed check's message, when invalid. */
  reason?: string;
};

/** The checks every receipt gets (structure, CID, hashes, signature) and the parsed receipt. */
export function receiptChecks(json: unknown): { receipt: Receipt | undefined; checks: Check[] } {
  const checks: Check[] = [];
  const run = (check: string, fn: () => string) => {
    try {
      checks.push({ check, ok: true, message: fn() });
      return true;
    } catch (error) {
      const message = error instanceof PlumbError ? error.shortMessage : String(error);
      checks.push({ check, ok: false, message });
      return false;
    }
  };
  let receipt: Receipt;
  try {
    receipt = parseReceipt(json);
    checks.push({ check: 'format', ok: true, message: 'receipt is well-formed' });
  } catch (error) {
    checks.push({ check: 'format', ok: false, message: (error as PlumbError).shortMessage });
    return { receipt: undefined, checks };
  }
  const cidOk = run('modelCid', () => {
    cidToBytes(receipt.modelCid);
    return `model CID ${receipt.modelCid} is well-formed`;
  });
  if (!cidOk) return { receipt, checks };
  const inputs = receipt.inputs;
  if (inputs)
    run('inputHash', () => hashCheck('inputs', tensorMapFromJson(inputs, 'inputs'), receipt.inputHash));
  else
    checks.push({
      check: 'inputHash',
      ok: true,
      message: 'not checked: the receipt carries no inputs (add the inputs you sent to check them)',
    });
  run('outputHash', () =>
    hashCheck('outputs', tensorMapFromJson(receipt.outputs, 'outputs'), receipt.outputHash),
  );
  run('signature', () => {
    const digest = digestOf(receipt.domain, receipt);
    const idOk = toHex(digest) === receipt.id.toLowerCase();
    const signer = recoverAddress(digest, receipt.evidence.signature as Hex);
    if (signer.toLowerCase() !== receipt.node.toLowerCase())
      throw new PlumbError(
        'INVALID_RECEIPT',
        `signature check failed: the signed fields (modelCid, inputHash, outputHash, mode, node, timestamp, nonce, domain) recover signer ${signer}, not node ${receipt.node}`,
      );
    if (!idOk)
      throw new PlumbError('INVALID_RECEIPT', `receipt id ${receipt.id} is not the digest of its fields`);
    return `signed by node ${receipt.node}`;
  });
  if (receipt.mode === 'zk' && !receipt.evidence.zk)
    checks.push({
      check: 'zkEvidence',
      ok: false,
      message: 'a zk receipt must carry evidence.zk (the proof)',
    });
  if (receipt.mode !== 'zk' && receipt.evidence.zk)
    checks.push({
      check: 'zkEvidence',
      ok: false,
      message: `a ${receipt.mode} receipt carries zk evidence; its signed mode says it is not a zk receipt`,
    });
  return { receipt, checks };
}

/**
 * A list of checks and how to add to it: `run(name, fn)` records `fn`'s message as a pass, or
 * what it threw as a failure, and says which; `fail(message)` throws the failure of a check.
 */
export function checkList(): {
  checks: Check[];
  run: (check: string, fn: () => string | Promise<string>) => Promise<boolean>;
  fail: (message: string) => never;
} {
  const checks: Check[] = [];
  const run = async (check: string, fn: () => string | Promise<string>) => {
    try {
      checks.push({ check, ok: true, message: await fn() });
      return true;
    } catch (error) {
      checks.push({ check, ok: false, message: errorMessage(error) });
      return false;
    }
  };
  const fail = (message: string): never => {
    throw new PlumbError('INVALID_RECEIPT', message);
  };
  return { checks, run, fail };
}

/** The verdict of a list of checks. */
export function verdict(checks: Check[]): VerifyReceiptReturnType {
  const failed = checks.find((c) => !c.ok);
  return failed ? { valid: false, checks, reason: failed.message } : { valid: true, checks };
}

/**
 * Verify a receipt offline and synchronously: its structure, its model CID, that its inputs and
 * outputs hash to the signed hashes, and that the signature over the EIP-712 digest is by
 * `receipt.node`. Never throws for a bad receipt: the result says which check failed and why.
 * A zk receipt's proof needs the model's verification key: this function reports it as not
 * checked (invalid); use the SDK's async `verifyReceipt(receipt, { zk })`.
 */
export function verifyReceipt(json: unknown): VerifyReceiptReturnType {
  const { receipt, checks } = receiptChecks(json);
  if (receipt?.mode === 'zk' && checks.every((c) => c.ok))
    checks.push({
      check: 'zkProof',
      ok: false,
      message:
        "not checked: a zk receipt's proof needs the model's verification key (the SDK's async verifyReceipt)",
    });
  return verdict(checks);
}

function hashCheck(what: 'inputs' | 'outputs', tensors: TensorMap, claimed: string): string {
  const actual = hashTensors(tensors);
  if (actual !== claimed.toLowerCase())
    throw new PlumbError(
      'INVALID_RECEIPT',
      `${what} hash mismatch: the ${what} hash to ${actual}, the receipt signs ${claimed}`,
    );
  return `${what} hash to the signed ${what === 'inputs' ? 'inputHash' : 'outputHash'}`;
}

/** The receipt's outputs as tensors. */
export function receiptOutputs(receipt: Receipt): TensorMap {
  return tensorMapFromJson(receipt.outputs as TensorMapJson, 'outputs');
}

const noncePool = new Uint8Array(32 * 128);
let nonceOffset = noncePool.length;

/** A random 32-byte nonce (drawn from a pool refilled 128 at a time: one system call, not one each). */
export function randomNonce(): Hex {
  if (nonceOffset === noncePool.length) {
    crypto.getRandomValues(noncePool);
    nonceOffset = 0;
  }
  nonceOffset += 32;
  return toHex(noncePool.subarray(nonceOffset - 32, nonceOffset));
}
