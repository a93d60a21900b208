/**
 * `plumb challenge receipt.json`: prove that a node signed a wrong output, and have it slashed.
 *
 * The challenger proves the model on the receipt's inputs with a zk proof (the proof's public
 * outputs are the right answer, the exact executor's), compares them with the signed outputs,
 * and when they differ by more than the model's on-chain tolerance, sends the receipt, its
 * signature, the signed input and output bytes and the proof to `FraudProofs.challenge`. The
 * contract checks all of it and slashes the signer; the challenger gets half the stake.
 */
import { formatEther, getAddress, type Hex, parseEventLogs } from 'viem';
import { FraudProofsAbi, ModelRegistryAbi, NodeRegistryAbi } from '../chain/abi.ts';
import type { ChainConnection } from '../chain/connect.ts';
import { chainError } from '../chain/errors.ts';
import { receiptStruct } from '../chain/receipt-struct.ts';
import { sendContract } from '../chain/send.ts';
import { groth16Calldata } from '../chain/zk-spec.ts';
import { cidToBytes } from '../core/cid.ts';
import { encodeTensors, hashTensors } from '../core/encoding.ts';
import { PlumbError } from '../core/errors.ts';
import { toHex } from '../core/hash.ts';
import { receiptChecks } from '../core/receipt.ts';
import { type TensorMap, tensorMapFromJson } from '../core/tensor.ts';
import { abs, fieldToSigned } from '../proof/zk/field.ts';
import { quantizeF32Array } from '../runtime/exact/fixed.ts';
import type { PlumbNode } from './node.ts';
import { checkedPath, zkArtifactsOf, zkKeyOf } from './zk/keys.ts';

export type ChallengeParameters = {
  receipt: unknown;
  /** The inputs, when the receipt does not carry them. */
  inputs?: TensorMap | undefined;
};

export type ChallengeReturnType = {
  receiptId: Hex;
  node: Hex;
  txHash: Hex;
  /** Largest |signed output - proven output|, in output units. */
  distance: number;
  tolerance: number;
  /** Ether taken from the signer, and the challenger's share. */
  slashed: string;
  reward: string;
};

export async function challengeReceipt(
  node: PlumbNode,
  p: ChallengeParameters,
): Promise<ChallengeReturnType> {
  const chain = node.chain;
  if (!chain)
    throw new PlumbError('UNAVAILABLE', 'this node has no chain: start it with the devnet or --rpc URL');
  const { receipt, checks } = receiptChecks(p.receipt);
  const failed = checks.find((c) => !c.ok);
  if (!receipt || failed) throw new PlumbError('INVALID_RECEIPT', `cannot challenge: ${failed?.message}`);
  const d = chain.deployment;
  if (
    receipt.domain.chainId !== d.chainId ||
    !receipt.domain.verifyingContract ||
    getAddress(receipt.domain.verifyingContract) !== getAddress(d.settlement)
  )
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `cannot challenge: the receipt is signed for ${receipt.domain.verifyingContract ?? 'no contract'} on chain ${receipt.domain.chainId ?? 'none'}, this node settles on ${d.settlement} on chain ${d.chainId}`,
    );
  const inputs = receipt.inputs ? tensorMapFromJson(receipt.inputs, 'inputs') : p.inputs;
  if (!inputs)
    throw new PlumbError('INVALID_ARGUMENT', 'the receipt carries no inputs: pass them with --input');
  if (hashTensors(inputs) !== receipt.inputHash.toLowerCase())
    throw new PlumbError('INVALID_INPUT', "the inputs given do not hash to the receipt's inputHash");
  const { publicClient } = chain.connection;
  const cidBytes = toHex(cidToBytes(receipt.modelCid)) as Hex;
  const spec = await publicClient
    .readContract({
      address: d.modelRegistry,
      abi: ModelRegistryAbi,
      functionName: 'zkSpecOf',
      args: [cidBytes],
    })
    .catch((error: unknown) => {
      throw chainError('reading the model on chain', error, 'UNAVAILABLE');
    });
  if (/^0x0{40}$/.test(spec.verifier))
    throw new PlumbError(
      'CONFLICT',
      `model ${receipt.modelCid} has no circuit on chain: a wrong output cannot be proven with a zk proof; challenging it needs the validator committee (re-execution by independent nodes), which comes with the network`,
    );
  const artifacts = zkArtifactsOf(node, receipt.modelCid);
  const key = artifacts ? await zkKeyOf(node, receipt.modelCid) : undefined;
  if (!artifacts || !key)
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `this node cannot prove model ${receipt.modelCid}: it has no zk setup for it here (push it with --zk)`,
    );
  const { proof, publicSignals } = await node.zk.prove({
    circuit: key.layout,
    wasmPath: await checkedPath(node, artifacts['zk.wasm']!),
    zkeyPath: await checkedPath(node, artifacts['zk.zkey']!),
    inputs,
  });
  const scale = key.layout.scale;
  const outputs = tensorMapFromJson(receipt.outputs, 'outputs');
  const distanceRaw = outputDistance(key.layout.outputs, outputs, publicSignals, scale);
  const distance = Number(distanceRaw) / 2 ** scale;
  const tolerance = Number(spec.tolerance) / 2 ** scale;
  if (distanceRaw <= spec.tolerance)
    throw new PlumbError(
      'CONFLICT',
      `the signed output is correct: it is within ${distance} of the proven output, inside the model's tolerance ${tolerance}; nothing to challenge`,
    );
  try {
    // Commit first, prove in a later block: a copy of the proving transaction is worthless.
    const commitment = await publicClient.readContract({
      address: d.fraudProofs,
      abi: FraudProofsAbi,
      functionName: 'commitmentOf',
      args: [receipt.id as Hex, chain.connection.account.address],
    });
    const committed = await sendContract(chain.connection, {
      address: d.fraudProofs,
      abi: FraudProofsAbi,
      functionName: 'commitChallenge',
      args: [commitment],
    });
    await blockAfter(chain.connection, committed.blockNumber);
    const mined = await sendContract(chain.connection, {
      address: d.fraudProofs,
      abi: FraudProofsAbi,
      functionName: 'challenge',
      args: [
        receiptStruct(receipt),
        receipt.evidence.signature as Hex,
        toHex(encodeTensors(inputs)) as Hex,
        toHex(encodeTensors(outputs)) as Hex,
        groth16Calldata(proof),
        publicSignals.map(BigInt),
      ],
    });
    const [slash] = parseEventLogs({ abi: NodeRegistryAbi, logs: mined.logs, eventName: 'Slashed' });
    return {
      receiptId: receipt.id as Hex,
      node: getAddress(receipt.node),
      txHash: mined.transactionHash,
      distance,
      tolerance,
      slashed: formatEther(slash?.args.amount ?? 0n),
      reward: formatEther(slash?.args.reward ?? 0n),
    };
  } catch (error) {
    throw chainError('challenge', error);
  }
}

/**
 * Wait until the chain is past `block`. Development chains that mine only on demand (anvil,
 * hardhat: automine) are asked for a block; others are polled (up to two minutes).
 */
async function blockAfter(conn: ChainConnection, block: bigint): Promise<void> {
  const { publicClient } = conn;
  const client = await publicClient.request({ method: 'web3_clientVersion' }).catch(() => '');
  if (/anvil|hardhat/i.test(String(client))) await publicClient.request({ method: 'evm_mine' } as never);
  const deadline = Date.now() + 120_000;
  while ((await publicClient.getBlockNumber({ cacheTime: 0 })) <= block) {
    if (Date.now() > deadline)
      throw new PlumbError('UNAVAILABLE', `the chain made no block after ${block} in two minutes`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** max |quantize(signed) - proven| over every output element, in fixed-point units (as FraudProofs). */
function outputDistance(
  layout: readonly { name: string; size: number; publicOffset: number }[],
  signed: TensorMap,
  publicSignals: readonly string[],
  scale: number,
): bigint {
  let max = 0n;
  for (const o of layout) {
    const t = signed[o.name];
    if (t?.dtype !== 'float32' || t.data.length !== o.size)
      throw new PlumbError(
        'INVALID_RECEIPT',
        `the receipt's output "${o.name}" is not ${o.size} float32 values`,
      );
    const q = quantizeF32Array(t.data, scale);
    for (let i = 0; i < o.size; i++) {
      const d = abs(q[i]! - fieldToSigned(BigInt(publicSignals[o.publicOffset + i]!)));
      if (d > max) max = d;
    }
  }
  return max;
}
