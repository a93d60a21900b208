/**
 * Send a contract call from the node's account the way every chain action does: simulate it
 * first (so a revert comes back as the contract's named error, before any gas is spent), send
 * it, and wait until it is mined. And deploy a compiled contract the same way.
 */
import {
  type Abi,
  type ContractFunctionArgs,
  type ContractFunctionName,
  getAddress,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { PlumbError } from '../core/errors.ts';
import type { ContractArtifact } from './compile.ts';
import type { ChainConnection } from './connect.ts';

export type ContractCall<
  abi extends Abi,
  name extends ContractFunctionName<abi, 'nonpayable' | 'payable'>,
> = {
  address: Hex;
  abi: abi;
  functionName: name;
  args?: ContractFunctionArgs<abi, 'nonpayable' | 'payable', name>;
  value?: bigint;
};

export async function sendContract<
  const abi extends Abi,
  name extends ContractFunctionName<abi, 'nonpayable' | 'payable'>,
>(conn: ChainConnection, call: ContractCall<abi, name>): Promise<TransactionReceipt> {
  const { request } = await conn.publicClient.simulateContract({ ...call, account: conn.account } as never);
  const hash = await conn.walletClient.writeContract(request as never);
  const receipt = await conn.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success')
    throw new PlumbError('CONFLICT', `${String(call.functionName)}: transaction ${hash} reverted`);
  return receipt;
}

/** Deploy `artifact` (named `name` in errors) with `args`; resolves to its address once mined. */
export async function deployArtifact(
  conn: ChainConnection,
  name: string,
  artifact: Pick<ContractArtifact, 'abi' | 'bytecode'>,
  args: readonly unknown[] = [],
): Promise<{ address: Hex; receipt: TransactionReceipt }> {
  const hash = await conn.walletClient.deployContract({
    abi: artifact.abi as Abi,
    bytecode: artifact.bytecode,
    args,
  });
  const receipt = await conn.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new PlumbError('UNAVAILABLE', `deploying ${name} failed (transaction ${hash})`);
  return { address: getAddress(receipt.contractAddress), receipt };
}
