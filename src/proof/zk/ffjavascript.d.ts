/** Minimal typings for the parts of ffjavascript 0.3 and @iden3/binfileutils 1 that ptau.ts uses. */
declare module 'ffjavascript' {
  /** A scalar-field element: 32 bytes, Montgomery form (the curve engine's native layout). */
  export type FrElement = Uint8Array;
  export type Task = Array<
    | { cmd: 'ALLOCSET'; var: number; buff: Uint8Array }
    | { cmd: 'ALLOC'; var: number; len: number }
    | { cmd: 'CALL'; fnName: string; params: Array<{ var: number; offset?: number } | { val: number }> }
    | { cmd: 'GET'; out: number; var: number; len: number }
  >;
  export type Field = {
    n8: number;
    e(value: bigint | number | string): FrElement;
    mul(a: FrElement, b: FrElement): FrElement;
    isZero(a: FrElement): boolean;
    fromMontgomery(a: FrElement): Uint8Array;
    one: FrElement;
    zero: FrElement;
    ifft(buff: Uint8Array): Promise<Uint8Array>;
  };
  export type Group = {
    F: { n8: number };
    /** Generator, Jacobian. */
    g: Uint8Array;
    /** Generator, affine (Montgomery LE, as stored in ptau files). */
    oneAffine: Uint8Array;
    timesFr(a: Uint8Array, s: FrElement): Uint8Array;
    toAffine(a: Uint8Array): Uint8Array;
    toUncompressed(a: Uint8Array): Uint8Array;
    toRprLEM(buff: Uint8Array, pos: number, a: Uint8Array): void;
    toRprUncompressed(buff: Uint8Array, pos: number, a: Uint8Array): void;
    fromRng(rng: ChaCha): Uint8Array;
    batchLEMtoU(buff: Uint8Array): Promise<Uint8Array>;
    batchLEMtoC(buff: Uint8Array): Promise<Uint8Array>;
  };
  export type Curve = {
    q: bigint;
    r: bigint;
    Fr: Field;
    F1: { n8: number; n64: number };
    G1: Group;
    G2: Group;
    tm: { concurrency: number; queueAction(task: Task): Promise<Uint8Array[]> };
    terminate(): Promise<void>;
  };
  export function buildBn128(singleThread?: boolean): Promise<Curve>;
  export class ChaCha {
    constructor(seed: number[]);
  }
  export const Scalar: {
    toRprLE(buff: Uint8Array, offset: number, value: bigint, n8: number): void;
  };
}

declare module '@iden3/binfileutils' {
  export type BinFile = {
    pos: number;
    write(buff: Uint8Array, pos?: number): Promise<void>;
    writeULE32(value: number, pos?: number): Promise<void>;
    close(): Promise<void>;
  };
  export function createBinFile(
    fileName: string,
    type: string,
    version: number,
    nSections: number,
  ): Promise<BinFile>;
  export function startWriteSection(fd: BinFile, idSection: number): Promise<void>;
  export function endWriteSection(fd: BinFile): Promise<void>;
}
