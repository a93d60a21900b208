/**
 * Push a model file into the node's hub: store it by CID, read its manifest, check that
 * onnxruntime loads it, and record the version. A file that fails any step leaves nothing.
 */
import type { PushModelOptions, PushModelResult } from '../hub/hub.ts';
import type { PlumbNode } from './node.ts';

export type PushModelParameters = Omit<PushModelOptions, 'validate' | 'maxBytes'> & {
  source: AsyncIterable<Uint8Array> | Uint8Array;
};

export function pushModel(
  node: PlumbNode,
  { source, ...options }: PushModelParameters,
): Promise<PushModelResult> {
  return node.hub.push(source, {
    ...options,
    maxBytes: node.config.maxUploadBytes,
    validate: (bytes) => node.runtime.check(bytes),
  });
}
