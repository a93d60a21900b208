/** Public types of the exact executor. */
import type { TensorMap } from '../../core/tensor.ts';

/** A tensor of the exact executor: `int` tensors are unscaled integers, others are at 2^s. */
export type XTensor = { shape: number[]; data: bigint[]; int: boolean };

export type ExactOptions = { scale?: number };
export type RunOptions = {
  trace?: boolean;
  /** Also return every intermediate tensor by name (for error analysis). */
  values?: boolean;
};
export type TraceEntry = { node: string; opType: string; outputs: string[]; sha256: string };
export type ExactResult = {
  outputs: TensorMap;
  raw: Map<string, bigint[]>;
  trace?: TraceEntry[];
  /** Every value of the run (inputs, initializers, node outputs), with `values: true`. */
  values?: ReadonlyMap<string, XTensor>;
};

export type ExactModel = {
  readonly scale: number;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(inputs: TensorMap, options?: RunOptions): ExactResult;
};

export type Unsupported = { opType: string; node: string; reason: string };
