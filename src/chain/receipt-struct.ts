/** A receipt as Plumb's contracts take it: the Solidity `Settlement.Receipt` struct. */
import { getAddress, type Hex } from 'viem';
import { cidToBytes } from '../core/cid.ts';
import { toHex } from '../core/hash.ts';
import type { Receipt } from '../core/receipt.ts';

export type OnchainReceipt = {
  /** The binary CID. */
  modelCid: Hex;
  inputHash: Hex;
  outputHash: Hex;
  mode: string;
  node: Hex;
  /** Unix milliseconds. */
  timestamp: bigint;
  nonce: Hex;
};

export function receiptStruct(
  r: Pick<Receipt, 'modelCid' | 'inputHash' | 'outputHash' | 'mode' | 'node' | 'timestamp' | 'nonce'>,
): OnchainReceipt {
  return {
    modelCid: toHex(cidToBytes(r.modelCid)) as Hex,
    inputHash: r.inputHash as Hex,
    outputHash: r.outputHash as Hex,
    mode: r.mode,
    node: getAddress(r.node),
    timestamp: BigInt(r.timestamp),
    nonce: r.nonce as Hex,
  };
}
