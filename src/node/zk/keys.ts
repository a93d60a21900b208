/**
 * A model's registered zk artifacts, read from the hub: the verification key and circuit layout
 * (parsed, cached by CID: they never change), and paths of the witness generator and proving key
 * for the prover (their bytes checked against their CIDs once per process).
 */
import { PlumbError } from '../../core/errors.ts';
import { vkeySchema, type ZkLayout, zkLayoutSchema, zkRoleList, zkRoles } from '../../proof/zk/artifacts.ts';
import type { ZkKey } from '../../proof/zk/verify-receipt.ts';
import type { PlumbNode } from '../node.ts';

const parsed = new Map<string, unknown>();
const checked = new Set<string>();

/** The zk artifact CIDs of a model, or undefined when it was not set up for zk. */
export function zkArtifactsOf(node: PlumbNode, modelCid: string): Record<string, string> | undefined {
  const all = node.hub.meta.getArtifacts(modelCid);
  return zkRoleList.every((r) => all[zkRoles[r]]) ? all : undefined;
}

export function notSetUp(modelCid: string, name?: string): PlumbError {
  return new PlumbError(
    'INVALID_ARGUMENT',
    `model ${name ?? modelCid} has no zk setup: it was pushed without --zk`,
    { metaMessages: [`Push it again with --zk (plumb model push FILE --name OWNER/NAME --zk) to prove it.`] },
  );
}

async function readJson<T>(node: PlumbNode, cid: string, parse: (v: unknown) => T): Promise<T> {
  let v = parsed.get(cid) as T | undefined;
  if (v === undefined) {
    const bytes = await node.hub.blobs.get(cid);
    v = parse(JSON.parse(new TextDecoder().decode(bytes)));
    if (parsed.size > 256) parsed.clear();
    parsed.set(cid, v);
  }
  return v;
}

/** The verification key registered for a model, or undefined when it has none. */
export async function zkKeyOf(node: PlumbNode, modelCid: string): Promise<ZkKey | undefined> {
  const a = zkArtifactsOf(node, modelCid);
  if (!a) return undefined;
  const vkeyCid = a[zkRoles.vkey]!;
  const layoutCid = a[zkRoles.layout]!;
  // Validated, but kept as stored (zod would reorder keys, and the CID is of the stored text).
  const vkey = await readJson(node, vkeyCid, (v) => {
    vkeySchema.parse(v);
    return v as ZkKey['vkey'];
  });
  const layout = await readJson(node, layoutCid, (v) => {
    zkLayoutSchema.parse(v);
    return v as ZkLayout;
  });
  return { modelCid, vkeyCid, vkey, layoutCid, layout };
}

/** Path of a stored artifact blob, its bytes checked against its CID the first time. */
export async function checkedPath(node: PlumbNode, cid: string): Promise<string> {
  const path = node.hub.blobs.path(cid);
  if (!checked.has(path)) {
    await node.hub.blobs.get(cid); // throws INTEGRITY when the bytes do not match
    checked.add(path);
  }
  return path;
}
