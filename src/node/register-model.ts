/**
 * Register a hosted model on chain (`plumb model push --onchain`, `POST /v1/chain/models`):
 * its CID, manifest hash and owner; with a zk setup, its verifier contract and ZkSpec too.
 */
import { type RegisterModelReturnType, registerModelOnchain } from '../chain/actions/register-model.ts';
import type { ChainService } from '../chain/service.ts';
import { PlumbError } from '../core/errors.ts';
import type { PlumbNode } from './node.ts';
import { checkedPath, zkArtifactsOf, zkKeyOf } from './zk/keys.ts';

/** The node's chain, or a clear error when it runs without one. */
export function requireChain(node: PlumbNode): ChainService {
  if (!node.chain)
    throw new PlumbError('UNAVAILABLE', 'this node runs without a chain', {
      metaMessages: ['Start it with the embedded devnet (the default of `plumb node start`) or --rpc URL.'],
    });
  return node.chain;
}

export async function registerModel(
  node: PlumbNode,
  p: { model: string; tolerance?: number | undefined },
): Promise<RegisterModelReturnType> {
  const chain = requireChain(node);
  const { cid, file } = node.hub.resolve(p.model);
  const artifacts = zkArtifactsOf(node, cid);
  const key = artifacts ? await zkKeyOf(node, cid) : undefined;
  const zk =
    artifacts && key
      ? {
          verifierSource: await node.zk.solidity(await checkedPath(node, artifacts['zk.zkey']!)),
          layout: key.layout,
          tolerance: p.tolerance,
        }
      : undefined;
  return registerModelOnchain(chain, { cid, manifest: file.manifest, zk });
}
