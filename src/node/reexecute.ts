/**
 * Re-execute a receipt: run its model on its inputs here and compare with its outputs.
 */
import { compareTensors, type Tolerance } from '../core/compare.ts';
import { PlumbError } from '../core/errors.ts';
import { checkInputs } from '../core/inputs.ts';
import { type Receipt, receiptOutputs } from '../core/receipt.ts';
import type { TensorMap } from '../core/tensor.ts';
import { tensorMapFromJson } from '../core/tensor.ts';
import { compileExact } from '../runtime/exact/exact.ts';
import type { PlumbNode } from './node.ts';
import { zkKeyOf } from './zk/keys.ts';

/** Float results may differ in the last bits across machines and builds; beyond this they differ. */
export const reexecuteTolerance: Tolerance = { rtol: 1e-4, atol: 1e-6 };

export type ReexecuteReturnType = { ok: boolean; maxAbsDiff: number; message: string };

export async function reexecute(node: PlumbNode, receipt: Receipt): Promise<ReexecuteReturnType> {
  if (!receipt.inputs)
    throw new PlumbError('INVALID_RECEIPT', 'the receipt carries no inputs, so it cannot be re-executed');
  const { cid, file } = node.hub.resolve(receipt.modelCid);
  const inputs = tensorMapFromJson(receipt.inputs, 'inputs');
  checkInputs(file.manifest.inputs, inputs);
  if (receipt.mode === 'zk') return reexecuteExact(node, receipt, cid, inputs);
  const outputs = await node.runtime.run(cid, () => node.hub.read(cid), inputs);
  const c = compareTensors(receiptOutputs(receipt), outputs, reexecuteTolerance);
  return c.ok
    ? {
        ok: true,
        maxAbsDiff: c.maxAbsDiff,
        message: `re-executed ${cid}: outputs match (max |diff| ${c.maxAbsDiff})`,
      }
    : { ok: false, maxAbsDiff: c.maxAbsDiff, message: `re-execution differs from the receipt: ${c.reason}` };
}

/**
 * A zk receipt's outputs are the circuit's, which equal the exact fixed-point executor's: re-run
 * that executor at the circuit's scale and require equality, bit for bit.
 */
async function reexecuteExact(
  node: PlumbNode,
  receipt: Receipt,
  cid: string,
  inputs: TensorMap,
): Promise<ReexecuteReturnType> {
  const key = await zkKeyOf(node, cid);
  const exact = compileExact(await node.hub.read(cid), key ? { scale: key.layout.scale } : {});
  const c = compareTensors(receiptOutputs(receipt), exact.run(inputs).outputs, { rtol: 0, atol: 0 });
  return c.ok
    ? {
        ok: true,
        maxAbsDiff: 0,
        message: `re-executed ${cid} on the exact executor: outputs equal the proven ones`,
      }
    : {
        ok: false,
        maxAbsDiff: c.maxAbsDiff,
        message: `exact re-execution differs from the receipt: ${c.reason}`,
      };
}
