/**
 * Verify a receipt of any mode, zk included, without a node: the checks of core's
 * `receiptChecks` (structure, CID, hashes, signature), then for a zk receipt, against the
 * verification key registered for its model:
 *
 * - `zkKey`: the key is the one registered for `receipt.modelCid` (the given key and layout hash
 *   to their registered CIDs, and the proof names that key's CID);
 * - `zkInputs`: the public input signals are the receipt's inputs quantized exactly as the
 *   prover does (`circuitInputs`), inside the circuit's range;
 * - `zkOutputs`: the public output signals decode to exactly the receipt's outputs;
 * - `zkProof`: the Groth16 proof verifies for those public signals.
 */
import * as snarkjs from 'snarkjs';
import { cidOf } from '../../core/cid.ts';
import { errorMessage } from '../../core/errors.ts';
import {
  type Check,
  checkList,
  type Receipt,
  receiptChecks,
  type VerifyReceiptReturnType,
  verdict,
  type ZkEvidence,
} from '../../core/receipt.ts';
import { type TensorMap, tensorFromJson, tensorMapFromJson } from '../../core/tensor.ts';
import { jsonArtifact, type ZkLayout, zkLayoutSchema } from './artifacts.ts';
import { FIELD_PRIME } from './field.ts';
import { circuitInputs, decodeOutputs, publicInputProblem } from './prove.ts';

/** The verification key registered for a model, with its circuit layout and their CIDs. */
export type ZkKey = {
  modelCid: string;
  vkeyCid: string;
  vkey: snarkjs.VerificationKey;
  layoutCid: string;
  layout: ZkLayout;
};

/** A key, or a function that finds the key registered for a model CID (undefined: none). */
export type ZkKeySource = ZkKey | ((modelCid: string) => Promise<ZkKey | undefined> | ZkKey | undefined);

export type VerifyReceiptOptions = {
  /** Needed for zk receipts: the model's registered verification key (or how to find it). */
  zk?: ZkKeySource | undefined;
};

/**
 * Verify a receipt offline, zk proofs included. Never throws for a bad receipt: the result names
 * the failed check and why.
 * @example await verifyReceipt(receipt, { zk: await getZkInfo(client, { ref: receipt.modelCid }) })
 */
export async function verifyReceipt(
  json: unknown,
  options: VerifyReceiptOptions = {},
): Promise<VerifyReceiptReturnType> {
  const { receipt, checks } = receiptChecks(json);
  if (receipt?.mode !== 'zk' || !receipt.evidence.zk) return verdict(checks);
  if (checks.some((c) => c.check === 'modelCid' && !c.ok)) return verdict(checks);
  let key: ZkKey | undefined;
  let why = `no verification key is registered for model ${receipt.modelCid}`;
  try {
    const source = options.zk;
    key = typeof source === 'function' ? await source(receipt.modelCid) : source;
  } catch (error) {
    why = `cannot get the verification key for model ${receipt.modelCid}: ${errorMessage(error)}`;
  }
  checks.push(...(await zkChecks(receipt, receipt.evidence.zk, key, why)));
  return verdict(checks);
}

/** The zk checks of a receipt given the registered key (or `undefined` and why there is none). */
export async function zkChecks(
  receipt: Receipt,
  evidence: ZkEvidence,
  key: ZkKey | undefined,
  missing = 'no verification key was given',
): Promise<Check[]> {
  const { checks, run, fail } = checkList();
  let layout: ZkLayout | undefined;
  const keyOk = await run('zkKey', () => {
    if (!key) return fail(`${missing}: push the model with --zk to prove and verify in zk mode`);
    if (key.modelCid !== receipt.modelCid)
      fail(
        `the verification key given is registered for model ${key.modelCid}, not the receipt's model ${receipt.modelCid}`,
      );
    const parsed = zkLayoutSchema.safeParse(key.layout);
    if (!parsed.success) fail(`the circuit layout of model ${key.modelCid} is malformed`);
    layout = key.layout;
    if (cidOf(jsonArtifact(key.vkey)) !== key.vkeyCid)
      fail(`the verification key given does not hash to its CID ${key.vkeyCid}`);
    if (cidOf(jsonArtifact(key.layout)) !== key.layoutCid)
      fail(`the circuit layout given does not hash to its CID ${key.layoutCid}`);
    if (evidence.verificationKey !== key.vkeyCid)
      fail(
        `the proof is for verification key ${evidence.verificationKey}; the key registered for model ${receipt.modelCid} is ${key.vkeyCid}`,
      );
    if (key.vkey.protocol !== 'groth16' || key.vkey.curve !== 'bn128' || key.vkey.nPublic !== layout!.nPublic)
      fail('the verification key is not a Groth16 bn128 key for this circuit layout');
    return `verification key ${key.vkeyCid} is the one registered for model ${receipt.modelCid}`;
  });
  if (!keyOk || !key || !layout) return checks;
  const l = layout;
  const signals = evidence.publicSignals;
  const signalsOk = await run('zkSignals', () => {
    if (signals.length !== l.nPublic)
      fail(`the proof has ${signals.length} public signals, the circuit has ${l.nPublic}`);
    signals.forEach((s, i) => {
      if (!/^[0-9]{1,78}$/.test(s) || BigInt(s) >= FIELD_PRIME)
        fail(`public signal ${i} is not a field element`);
    });
    return `${signals.length} public signals (outputs then inputs)`;
  });
  if (!signalsOk) return checks;
  await run('zkInputs', () => {
    if (!receipt.inputs) return fail('a zk receipt must carry its inputs (the proof is about them)');
    const problem = publicInputProblem(l, signals);
    if (problem) fail(`public inputs: ${problem}`);
    const inputs: TensorMap = tensorMapFromJson(receipt.inputs, 'inputs');
    const extra = Object.keys(inputs).filter((n) => !l.inputs.some((i) => i.name === n));
    if (extra.length) fail(`the receipt has inputs the circuit does not take: ${extra.join(', ')}`);
    const expected = circuitInputs(l, inputs);
    for (const input of l.inputs) {
      const values = expected[input.signal]!;
      for (let i = 0; i < values.length; i++)
        if (BigInt(signals[input.publicOffset + i]!) !== BigInt(values[i]!))
          fail(
            `public input signal ${input.publicOffset + i} is not input "${input.name}" element ${i} quantized at 2^${l.scale}: the proof is about other inputs`,
          );
    }
    return `the public inputs are the receipt's inputs quantized at 2^${l.scale}, within ${l.bits} bits`;
  });
  await run('zkOutputs', () => {
    const decoded = decodeOutputs(l, signals);
    const names = Object.keys(receipt.outputs);
    const extra = names.filter((n) => !(n in decoded));
    if (extra.length) fail(`the receipt has outputs the circuit does not prove: ${extra.join(', ')}`);
    for (const [name, out] of Object.entries(decoded)) {
      const json = receipt.outputs[name];
      if (!json) fail(`the receipt has no output "${name}" (the proof has it)`);
      const t = tensorFromJson(json, `outputs.${name}`);
      if (t.dtype !== 'float32') fail(`output "${name}" is ${t.dtype}, the circuit's outputs are float32`);
      if (t.shape.join(',') !== out.shape.join(','))
        fail(`output "${name}" has shape [${t.shape.join(', ')}], the proof's is [${out.shape.join(', ')}]`);
      for (let i = 0; i < out.values.length; i++)
        if (!Object.is(t.data[i], out.values[i]))
          fail(
            `output "${name}" element ${i} is ${t.data[i]} in the receipt, the proof's output decodes to ${out.values[i]}`,
          );
    }
    return 'the public outputs decode to exactly the receipt outputs';
  });
  await run('zkProof', async () => {
    const p = evidence.proof;
    const ok3 = (a: unknown[]) => a.length === 3;
    if (!ok3(p.pi_a) || !ok3(p.pi_c) || p.pi_b.length !== 3 || !p.pi_b.every((x) => x.length === 2))
      fail('malformed proof: pi_a and pi_c need 3 coordinates, pi_b 3 pairs (truncated?)');
    if (p.protocol !== 'groth16' || p.curve !== 'bn128') fail('malformed proof: not a groth16 bn128 proof');
    let ok: boolean;
    try {
      ok = await snarkjs.groth16.verify(key.vkey, signals, p);
    } catch (error) {
      return fail(`malformed proof: ${errorMessage(error)}`);
    }
    if (!ok)
      fail(
        `the Groth16 proof does not verify under verification key ${key.vkeyCid} for these public signals`,
      );
    return `Groth16 proof verifies under ${key.vkeyCid}`;
  });
  return checks;
}
