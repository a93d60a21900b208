/** `plumb verify receipt.json [--reexecute] [--onchain]` */
import { resolve } from 'node:path';
import { isPlumbError, PlumbError } from '../../core/errors.ts';
import { type Check, parseReceipt } from '../../core/receipt.ts';
import { reexecute } from '../../node/reexecute.ts';
import { releaseZk } from '../../proof/zk/setup.ts';
import { verifyReceipt, type ZkKey } from '../../proof/zk/verify-receipt.ts';
import { getZkInfo } from '../../sdk/actions/getZkInfo.ts';
import { pullModel } from '../../sdk/actions/pullModel.ts';
import { onchainChecksVia } from '../../sdk/actions/verifyOnchain.ts';
import { createClient } from '../../sdk/client.ts';
import { type CommandContext, openSession, print, printJson, startLocalNode } from '../context.ts';
import { readJson } from '../read-inputs.ts';

export class VerificationFailed extends PlumbError {
  override name = 'VerificationFailed';
}

/**
 * Verify offline: structure, hashes, signature; a zk receipt's proof against the verification
 * key registered for its model (from the data directory, or from `--node`). With `reexecute`,
 * run the model on this machine (from the local data directory; fetched by CID from `--node`
 * if missing) and compare. Throws when the receipt does not verify, so the command exits non-zero.
 */
export async function verify(
  ctx: CommandContext,
  { file, reexecute: again, onchain }: { file: string; reexecute: boolean; onchain?: boolean | undefined },
): Promise<void> {
  const json = await readJson(resolve(ctx.cwd, file));
  let result: Awaited<ReturnType<typeof verifyReceipt>>;
  try {
    result = await verifyReceipt(json, { zk: (cid) => registeredKey(ctx, cid) });
  } finally {
    await releaseZk(); // the curve threads snarkjs started to check a proof
  }
  if (again && result.valid) result.checks.push(await reexecuteLocally(ctx, json));
  if (onchain && result.valid) result.checks.push(...(await onchainChecksOf(ctx, json)));
  const failed = result.checks.find((c) => !c.ok);
  if (ctx.json) printJson(ctx, { ...result, valid: !failed, ...(failed ? { reason: failed.message } : {}) });
  else for (const c of result.checks) print(ctx, `${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.message}`);
  if (failed) throw new VerificationFailed('INVALID_RECEIPT', `receipt does not verify: ${failed.message}`);
  if (!ctx.json) print(ctx, 'receipt verified');
}

/** The key registered for a model: on `--node`, else in the local data directory. */
async function registeredKey(ctx: CommandContext, modelCid: string): Promise<ZkKey | undefined> {
  const session = await openSession(ctx);
  try {
    return await getZkInfo(session.client, { ref: modelCid });
  } catch (error) {
    if (isPlumbError(error, 'NOT_FOUND') || isPlumbError(error, 'MODEL_NOT_FOUND')) {
      const where = ctx.node ? `on ${ctx.node}` : 'in the local data directory';
      throw new PlumbError(
        'NOT_FOUND',
        `no verification key is registered for model ${modelCid} ${where} (${error.shortMessage})`,
      );
    }
    throw error;
  } finally {
    await session.close();
  }
}

/** The on-chain checks, with the Merkle proof from the node (the local one unless --node). */
async function onchainChecksOf(ctx: CommandContext, json: unknown): Promise<Check[]> {
  const session = await openSession(ctx, { chain: true });
  try {
    return await onchainChecksVia(session.client, parseReceipt(json), ctx.rpc);
  } finally {
    await session.close();
  }
}

async function reexecuteLocally(ctx: CommandContext, json: unknown): Promise<Check> {
  const receipt = parseReceipt(json);
  const node = await startLocalNode(ctx);
  try {
    if (!node.hub.meta.getFile(receipt.modelCid)) {
      if (!ctx.node)
        throw new PlumbError(
          'MODEL_NOT_FOUND',
          `model ${receipt.modelCid} is not in the local data directory`,
          {
            metaMessages: [
              'Pass --node URL to fetch it by CID (its bytes are checked against the CID), or push it here first.',
            ],
          },
        );
      const { stream } = await pullModel(createClient({ url: ctx.node }), { cid: receipt.modelCid });
      const repo = receipt.model?.repo ?? 'fetched/model';
      const pushed = await node.hub.push(stream, { repo, validate: (bytes) => node.runtime.check(bytes) });
      if (pushed.cid !== receipt.modelCid)
        throw new PlumbError('INTEGRITY', `the node sent bytes for ${pushed.cid}, not ${receipt.modelCid}`);
    }
    const r = await reexecute(node, receipt);
    return { check: 'reexecute', ok: r.ok, message: r.message };
  } finally {
    await node.stop();
  }
}
