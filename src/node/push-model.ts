/**
 * Push a model file into the node's hub: store it by CID, read its manifest, check that
 * onnxruntime loads it, and record the version. With `zk`, also refuse a model that cannot be
 * proven and run (or reuse) its Groth16 setup, whose artifacts are linked to the model in the
 * same transaction. A file that fails any step leaves nothing.
 */
import type { PushModelOptions, PushModelResult } from '../hub/hub.ts';
import type { PlumbNode } from './node.ts';
import { deriveZk, settleSetup, type ZkPushOptions, type ZkPushSummary } from './zk/setup.ts';

export type PushModelParameters = Omit<PushModelOptions, 'validate' | 'maxBytes' | 'derive'> & {
  source: AsyncIterable<Uint8Array> | Uint8Array;
  /** Set up zk proving for the model (`--zk`). */
  zk?: ZkPushOptions | undefined;
};

export type PushModelReturnType = PushModelResult & { zk?: ZkPushSummary };

export async function pushModel(
  node: PlumbNode,
  { source, zk, ...options }: PushModelParameters,
): Promise<PushModelReturnType> {
  let summary: ZkPushSummary | undefined;
  let cid: string | undefined;
  const pushing = node.hub.push(source, {
    ...options,
    maxBytes: node.config.maxUploadBytes,
    validate: (bytes) => node.runtime.check(bytes),
    ...(zk
      ? {
          derive: (model) => {
            cid = model.cid;
            return deriveZk(node, model, zk, (s) => {
              summary = s;
            });
          },
        }
      : {}),
  });
  let result: Awaited<typeof pushing>;
  try {
    result = await pushing;
  } finally {
    if (cid) settleSetup(cid);
  }
  return summary ? { ...result, zk: summary } : result;
}
