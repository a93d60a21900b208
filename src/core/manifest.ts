/**
 * The manifest: what a model file is, read from the file itself. Stored with each version and
 * returned by the API; later issues add derived artifacts (circuits, keys) under `artifacts`.
 */
import type { DType } from './tensor.ts';

/** One dimension: a fixed size, a symbolic name (e.g. "batch"), or null when unknown. */
export type Dim = number | string | null;

export type TensorInfo = {
  name: string;
  /**
   * Plumb dtype for tensor values; for anything else (sequences, maps, optional, dtypes Plumb
   * does not carry such as bfloat16) a readable type string, e.g. "sequence<float32>".
   */
  dtype: DType | string;
  /** null when the model declares no shape at all. */
  shape: Dim[] | null;
};

export type Manifest = {
  format: 'onnx';
  /** Size of the model file in bytes. */
  size: number;
  irVersion: number;
  /** Opset per domain; "" is the default ONNX domain ("ai.onnx"). */
  opsets: Record<string, number>;
  producer: { name: string; version: string };
  graphName: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Distinct operator types, domain-qualified when not in the default domain ("com.microsoft.Gelu"). */
  ops: string[];
  nodeCount: number;
  /** Number of weights (initializer elements). */
  parameterCount: number;
  /** CIDs of derived artifacts (circuits, keys, ...), by role. */
  artifacts: Record<string, string>;
};
