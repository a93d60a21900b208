/**
 * Plumb SDK: a client for a Plumb node's HTTP API, and offline receipt verification.
 *
 *   import { createClient, infer, verifyReceipt } from 'plumb/sdk'
 *   const client = createClient({ url: 'http://127.0.0.1:7070' })
 *   const receipt = await infer(client, { model: 'acme/mlp', inputs })
 *   await verifyReceipt(receipt) // { valid: true, checks: [...] }
 *   // zk receipts: against the verification key registered for the model
 *   await verifyReceipt(zkReceipt, { zk: await getZkInfo(client, { ref: zkReceipt.modelCid }) })
 */

export { hashTensors } from '../core/encoding.ts';
export { type ErrorCode, isPlumbError, PlumbError } from '../core/errors.ts';
export type { InferRequest, Receipt, ZkEvidence } from '../core/receipt.ts';
export { type Tensor, type TensorJson, tensorFromJson, tensorToJson } from '../core/tensor.ts';
export { releaseZk } from '../proof/zk/setup.ts';
export {
  type VerifyReceiptOptions,
  verifyReceipt,
  type ZkKey,
  type ZkKeySource,
} from '../proof/zk/verify-receipt.ts';
export {
  type ChainStatus,
  type ChallengeReturnType,
  challenge,
  getChainStatus,
  getSettlement,
  type RegisterModelReturnType,
  registerModelOnchain,
  type SettlementProof,
  type SettleReturnType,
  type StakeParameters,
  settle,
  stake,
} from './actions/chain.ts';
export { exportVerifier } from './actions/exportVerifier.ts';
export { getModel } from './actions/getModel.ts';
export { getNodeInfo } from './actions/getNodeInfo.ts';
export { getReceipt, listReceipts } from './actions/getReceipt.ts';
export { getZkInfo } from './actions/getZkInfo.ts';
export { infer } from './actions/infer.ts';
export { listModels } from './actions/listModels.ts';
export { pullModel } from './actions/pullModel.ts';
export { type PushZkOptions, pushModel, type ZkSetupProgress } from './actions/pushModel.ts';
export { uploadBlob } from './actions/uploadBlob.ts';
export { type VerifyOnchainParameters, verifyOnchain } from './actions/verifyOnchain.ts';
export { verifyOnNode } from './actions/verifyOnNode.ts';
export { type Client, createClient, http, inProcess, type Transport } from './client.ts';
export type * from './types.ts';
