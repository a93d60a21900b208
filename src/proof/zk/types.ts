/** Public types of the ONNX -> circom compiler (re-exported by circuit.ts). */

export type CircuitOptions = {
  /** Fixed-point scale s (values are at 2^s), default 12 as the exact executor. */
  scale?: number;
  /**
   * Signed bit width of the public inputs, default 24 (|x| < 2^(23-s): 2048 at s = 12, enough for
   * normalized features and 0-255 pixels). The verifier checks it; every internal value's range
   * check is sized from the inputs' range, so wider input ranges cost constraints.
   */
  bits?: number;
  /** Widest internal range check, default 64 (values that would need more have no proof). */
  maxBits?: number;
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
  /** An integer (or bool) input: its values are taken unscaled, not at 2^s. */
  int?: boolean;
};

export type CompiledCircuit = {
  /** circom 2 source text (main template `PlumbModel`). */
  source: string;
  scale: number;
  /** Signed bit width of the inputs (checked by the verifier). */
  bits: number;
  /** Widest internal range check. */
  maxBits: number;
  inputs: SignalLayout[];
  outputs: SignalLayout[];
  nPublic: number;
  /** Constraint count estimate (the compiled R1CS count after --O1 is authoritative). */
  constraintEstimate: number;
};
