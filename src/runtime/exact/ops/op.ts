/** The contract between the executor and an op implementation. */
import type { NodeProto, TensorProto } from '../../../core/onnx/types.ts';
import type { XTensor } from '../types.ts';

/** What an op may use when it is compiled (once per node). */
export type CompileContext = {
  readonly node: NodeProto;
  /** Fixed-point scale s (values are at 2^s). */
  readonly scale: number;
  /** The same scale as a BigInt shift. */
  readonly s: bigint;
  /** Default-domain opset version of the model. */
  readonly opset: number;
  /** Raw initializers by name (for ops folding float parameters at compile time). */
  readonly initializers: ReadonlyMap<string, TensorProto>;
};

/** The node's input values at run time. */
export type Inputs = {
  /** Input i; throws when it is absent or has no value. */
  get(i: number): XTensor;
  /** Input i, or undefined when the node leaves it empty. */
  opt(i: number): XTensor | undefined;
};

/** A compiled node: computes its outputs, in order, from its inputs. */
export type Kernel = (inputs: Inputs) => XTensor[];

/** An op implementation: validates and precomputes what it can, then returns the kernel. */
export type OpImpl = (ctx: CompileContext) => Kernel;
