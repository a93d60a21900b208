/** Public types of the ONNX -> circom compiler (re-exported by circuit.ts). */

export type CircuitOptions = {
  /** Fixed-point scale s (values are at 2^s), default 12 as the exact executor. */
  scale?: number;
  /** Signed bit width B of every range-checked value, default 64. */
  bits?: number;
};

/** Where one ONNX tensor lives in the circuit. */
export type SignalLayout = {
  /** ONNX value name. */
  name: string;
  /** circom signal array name. */
  signal: string;
  shape: number[];
  size: number;
  /** Index of its first element in the public signals. */
  publicOffset: number;
};

export type CompiledCircuit = {
  /** circom 2 source text (main template `PlumbModel`). */
  source: string;
  scale: number;
  bits: number;
  inputs: SignalLayout[];
  outputs: SignalLayout[];
  nPublic: number;
  /** Constraint count estimate (the compiled R1CS count after --O1 is authoritative). */
  constraintEstimate: number;
};
