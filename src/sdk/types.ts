/** Shapes of the node API's responses, as the SDK returns them. */
import type { Manifest } from '../core/manifest.ts';
import type { VerifyReceiptReturnType } from '../core/receipt.ts';
import type { ZkLayout } from '../proof/zk/artifacts.ts';
import type { ZkKey } from '../proof/zk/verify-receipt.ts';

export type Version = { repo: string; version: string; cid: string; description: string; createdAt: number };
export type Repository = {
  name: string;
  description: string;
  createdAt: number;
  latest?: string;
  versions: string[];
};
export type ModelFile = {
  cid: string;
  size: number;
  manifest: Manifest;
  createdAt: number;
  versions: Version[];
};
/** A `--zk` push's setup (or the artifacts it reused). */
export type ZkPushSummary = {
  reused: boolean;
  artifacts: Record<string, string>;
  layout: ZkLayout;
  /** max |circuit output - onnxruntime output| on the calibration input. */
  calibration?: { maxAbsError: number; outputs: number };
};
export type PushResult = {
  cid: string;
  size: number;
  repo: string;
  version: string;
  manifest: Manifest;
  zk?: ZkPushSummary;
};
/** A model's registered zk setup: what `verifyReceipt(receipt, { zk })` takes. */
export type ZkInfo = ZkKey & { artifacts: Record<string, string> };
export type { ZkLayout };
export type ReceiptSummary = { id: string; modelCid: string; createdAt: number };
export type VerifyResult = VerifyReceiptReturnType;
export type NodeInfo = {
  name: 'plumb';
  version: string;
  address: string;
  modes: string[];
  runtime: { onnxruntime: string; node: string; sessionsLoaded: number };
  counts: { files: number; repositories: number; versions: number; receipts: number };
  limits: { maxUploadBytes: number };
  zk: { concurrency: number; running: number; queued: number };
  /** The chain receipts are signed for and settled on; absent when the node has none. */
  chain?: { chainId: number; rpcUrl: string; devnet: boolean; settlement: string };
  startedAt: string;
};
