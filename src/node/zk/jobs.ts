/** Messages between the node and its zk threads (structured-cloned). */
import type { TensorMap } from '../../core/tensor.ts';
import type { CompiledCircuit } from '../../proof/zk/circuit.ts';
import type { ZkProof } from '../../proof/zk/prove.ts';
import type { SetupProgress, ZkArtifacts } from '../../proof/zk/setup.ts';

export type SetupJob = {
  kind: 'setup';
  bytes: Uint8Array;
  workDir: string;
  ptauDir: string;
  ptauFile?: string | undefined;
  ptauName?: string | undefined;
  scale?: number;
  bits?: number;
};

export type ProveJob = {
  kind: 'prove';
  circuit: Pick<CompiledCircuit, 'inputs' | 'outputs' | 'bits' | 'scale'>;
  wasmPath: string;
  zkeyPath: string;
  inputs: TensorMap;
};

export type SolidityJob = { kind: 'solidity'; zkeyPath: string };
export type ReleaseJob = { kind: 'release' };
export type ZkJob = SetupJob | ProveJob | SolidityJob | ReleaseJob;

export type SetupOutcome = Omit<ZkArtifacts, 'circuit'> & { circuit: Omit<CompiledCircuit, 'source'> };
export type ProveOutcome = { proof: ZkProof; publicSignals: string[]; proveMs: number };
export type { SetupProgress };
