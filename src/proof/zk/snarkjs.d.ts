/** Minimal typings for the parts of snarkjs 0.7 that Plumb's zk mode uses. */
declare module 'snarkjs' {
  export type Groth16Proof = {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  };
  export type VerificationKey = Record<string, unknown> & {
    protocol: string;
    curve: string;
    nPublic: number;
  };
  export type Curve = { terminate(): Promise<void> };

  export const curves: {
    getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<Curve>;
  };
  export const powersOfTau: {
    newAccumulator(curve: Curve, power: number, fileName: string, logger?: unknown): Promise<unknown>;
    contribute(
      oldPtau: string,
      newPtau: string,
      name: string,
      entropy: string,
      logger?: unknown,
    ): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: unknown): Promise<unknown>;
    verify(ptau: string, logger?: unknown): Promise<boolean>;
  };
  export const r1cs: {
    info(
      r1csName: string,
      logger?: unknown,
    ): Promise<{ nConstraints: number; nPubInputs: number; nOutputs: number; nVars: number }>;
  };
  export const zKey: {
    newZKey(r1csName: string, ptauName: string, zkeyName: string, logger?: unknown): Promise<unknown>;
    contribute(
      oldZkey: string,
      newZkey: string,
      name: string,
      entropy: string,
      logger?: unknown,
    ): Promise<unknown>;
    exportVerificationKey(zkeyName: string, logger?: unknown): Promise<VerificationKey>;
    exportSolidityVerifier(
      zkeyName: string,
      templates: Record<string, string>,
      logger?: unknown,
    ): Promise<string>;
  };
  export const wtns: {
    calculate(input: Record<string, unknown>, wasmFile: string, wtnsFile: string): Promise<void>;
    exportJson(wtnsFile: string): Promise<bigint[]>;
  };
  export const groth16: {
    /** The proof and public signals as Solidity calldata text: `[a],[[b]],[c],[signals]`. */
    exportSolidityCallData(proof: Groth16Proof, publicSignals: readonly string[]): Promise<string>;
    fullProve(
      input: Record<string, unknown>,
      wasmFile: string,
      zkeyFile: string,
      logger?: unknown,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(
      vkey: VerificationKey,
      publicSignals: readonly string[],
      proof: Groth16Proof,
      logger?: unknown,
    ): Promise<boolean>;
  };
}
