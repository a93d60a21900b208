/**
 * `plumb model push ... --onchain`: register a model's CID, owner (the node's account) and
 * manifest hash in the ModelRegistry; for a model set up for zk, also deploy its Groth16
 * verifier contract and register the ZkSpec that lets contracts check its proofs against
 * signed tensors (challenges, zk fulfilments).
 */
import { createHash } from 'node:crypto';
import { getAddress, type Hex } from 'viem';
import { cidToBytes } from '../../core/cid.ts';
import { PlumbError } from '../../core/errors.ts';
import { toHex } from '../../core/hash.ts';
import type { Manifest } from '../../core/manifest.ts';
import type { ZkLayout } from '../../proof/zk/artifacts.ts';
import { ModelRegistryAbi } from '../abi.ts';
import { compileSource } from '../compile.ts';
import { chainError } from '../errors.ts';
import { deployArtifact, sendContract } from '../send.ts';
import type { ChainService } from '../service.ts';
import { zkSpecOf } from '../zk-spec.ts';

export type RegisterModelParameters = {
  cid: string;
  manifest: Manifest;
  /** A model set up for zk: its exported Solidity verifier and circuit layout. */
  zk?: { verifierSource: string; layout: ZkLayout; tolerance?: number | undefined } | undefined;
};

export type RegisterModelReturnType = {
  cid: string;
  owner: Hex;
  manifestHash: Hex;
  /** False when the model was registered already (by this node). */
  registered: boolean;
  /** The model's verifier contract, for a zk model. */
  verifier?: Hex;
  /** The tolerance registered, in output units. */
  tolerance?: number;
  txHashes: Hex[];
};

/** SHA-256 of the manifest's JSON text: what the registry records. */
export function manifestHash(manifest: Manifest): Hex {
  return toHex(createHash('sha256').update(JSON.stringify(manifest)).digest()) as Hex;
}

export async function registerModelOnchain(
  chain: ChainService,
  p: RegisterModelParameters,
): Promise<RegisterModelReturnType> {
  const conn = chain.connection;
  const { publicClient, account } = conn;
  const registry = { address: chain.deployment.modelRegistry, abi: ModelRegistryAbi } as const;
  const cidBytes = toHex(cidToBytes(p.cid)) as Hex;
  const hash = manifestHash(p.manifest);
  const txHashes: Hex[] = [];
  try {
    const [owner] = await publicClient.readContract({
      ...registry,
      functionName: 'modelOf',
      args: [cidBytes],
    });
    const mine = getAddress(owner) === getAddress(account.address);
    if (owner !== '0x0000000000000000000000000000000000000000' && !mine)
      throw new PlumbError('CONFLICT', `model ${p.cid} is registered on chain by ${owner}, not this node`);
    const registered = !mine;
    if (registered)
      txHashes.push(
        (await sendContract(conn, { ...registry, functionName: 'registerModel', args: [cidBytes, hash] }))
          .transactionHash,
      );
    const result: RegisterModelReturnType = {
      cid: p.cid,
      owner: account.address,
      manifestHash: hash,
      registered,
      txHashes,
    };
    if (!p.zk) return result;
    if (await publicClient.readContract({ ...registry, functionName: 'hasCircuit', args: [cidBytes] })) {
      const spec = await publicClient.readContract({
        ...registry,
        functionName: 'zkSpecOf',
        args: [cidBytes],
      });
      return { ...result, verifier: spec.verifier, tolerance: Number(spec.tolerance) / 2 ** spec.scale };
    }
    const compiled = await compileSource('Groth16Verifier', p.zk.verifierSource);
    const deployed = await deployArtifact(conn, 'the verifier', compiled);
    txHashes.push(deployed.receipt.transactionHash);
    const verifier = deployed.address;
    const spec = zkSpecOf(p.zk.layout, verifier, p.zk.tolerance);
    txHashes.push(
      (await sendContract(conn, { ...registry, functionName: 'setZkSpec', args: [cidBytes, spec] }))
        .transactionHash,
    );
    return { ...result, verifier, tolerance: Number(spec.tolerance) / 2 ** spec.scale };
  } catch (error) {
    throw chainError(`registering model ${p.cid} on chain`, error);
  }
}
