/**
 * ONNX -> circom: a Groth16 circuit whose outputs are EXACTLY the outputs of Plumb's fixed-point
 * executor (src/runtime/exact), for graphs of Gemm, MatMul, Conv, ConvTranspose (conv-transpose.ts),
 * Add/Sub, Mul, Div, GlobalAveragePool / GlobalMaxPool,
 * BatchNormalization, Relu, LeakyRelu, MaxPool, AveragePool, Sigmoid, Tanh, Erf, Softplus, Gelu,
 * Softmax, LogSoftmax, ArgMax, Sqrt, LayerNormalization, Elu, Selu, Celu, Softsign, Reciprocal,
 * Exp, Log, ReduceL2, ReduceLogSumExp, InstanceNormalization, Div by a non-constant (nonlinear.ts);
 * Pow, Neg, Abs, Max, Min, Clip, PRelu, HardSigmoid,
 * HardSwish, ThresholdedRelu, Sum, Mean, Floor, Ceil, Sign, ReduceSum/Mean/Max/Min/L1/SumSquare/Prod, CumSum,
 * products of non-constant tensors in Mul / MatMul / Gemm (elementwise.ts); Less, Greater,
 * LessOrEqual, GreaterOrEqual, Equal, Not, And, Or, Xor, Where, Cast, integer MatMul, Gather by
 * computed indices, integer Add/Sub/Mul/Neg, Round (logic.ts); and rewiring ops: Identity, Flatten, Reshape, Concat, Dropout,
 * DepthToSpace, Expand, Gather, GatherElements, Pad, Resize / Upsample (nearest; linear: constant-weight taps), ScatterElements, ScatterND, Slice,
 * SpaceToDepth, Split, Squeeze, Tile, Transpose, Trilu, Unsqueeze (shape-ops.ts); RNN, GRU, LSTM (recurrent.ts: the executor's step function on affine
 * expressions, one Rescale per gate element, products of two signals by the product gadget).
 * Nodes whose inputs are all constants are folded at compile time
 * with the exact executor's own kernels (so Constant nodes and shape subgraphs work).
 *
 * Encoding
 * - Every value is a signed integer at scale 2^s, encoded in the BN254 scalar field as x mod p.
 * - Weights, biases and other constants are quantized exactly as the executor does and compiled
 *   in as circuit CONSTANTS, so the verification key identifies the model.
 * - Inputs and outputs are PUBLIC signals; circom orders public signals outputs first, then
 *   inputs (see `CompiledCircuit.outputs` / `.inputs` for the flat layout).
 * - Every input must lie in the signed range [-2^(I-1), 2^(I-1)) (I = `bits`, default 24: |x| <
 *   2048 at s = 12; wider ranges cost about one constraint per extra bit per requantization). Inputs are public, so the VERIFIER checks this (prove.ts `verify`)
 *   instead of the circuit: it saves I + 1 constraints per input (half the circuit of an MNIST
 *   CNN). A verifier that skips the check (e.g. a bare exported Solidity verifier) must only
 *   accept inputs it chose itself or checked the same way.
 * - Bit widths per value (bounds.ts): every value carries a bound on |value| that holds for any
 *   satisfying witness, derived from the input range and the constant weights; each range check
 *   below is B bits wide for the B its value needs (capped at `maxBits`, default 64), so a
 *   network's constraints follow its real value sizes (3l_relu_conv_fc: 52,000 -> 26,000).
 * - Dot products (Gemm, MatMul) are linear in the signals (constants x signals), accumulate at
 *   2^2s and are rounded ONCE by the Rescale gadget: with u = acc + 2^(s-1) + (2^(B-1) + c) * 2^s
 *   (c: the Gemm bias at 2^s), the prover supplies v and r with u = v * 2^s + r, r in [0, 2^s)
 *   and v in [0, 2^B) by bit decomposition; then y = v - 2^(B-1) = floor((acc + 2^(s-1)) / 2^s)
 *   + c, the executor's `rshiftRound(acc, s) + c`, and v's top bit is y's sign (y >= 0).
 * - Relu: y * [y >= 0] with the sign bit of a range decomposition (reused from Rescale).
 * - Division by a constant d > 0 (Div, AveragePool's divRound): the DivConst gadget, u = v * d + r
 *   with r and d - 1 - r both range-checked, so r in [0, d) and v = floor(u / d).
 * - LeakyRelu / MaxPool select between two range-checked values with a sign bit in one quadratic
 *   constraint (y = b + (a - b) * sign), so the result stays in the B-bit range.
 * - Sigmoid, Tanh, Erf, Softplus, Gelu, Softmax, LogSoftmax, ArgMax, Sqrt, LayerNormalization
 *   (nonlinear.ts): the executor defines them
 *   circuit-friendly (piecewise cubics on 32 segments, saturating; Softmax = piecewise exp and a
 *   division by the row sum); the circuit takes |x| and the segment from a bit decomposition, a
 *   one-hot selector makes the coefficients linear, 3 products and one rounding: ~120 constraints
 *   per element (s = 12). Non-constant divisors use DivSignal (q d + r = n, 0 <= r < d checked).
 * - Products of two non-constant values (Mul, MatMul, Pow, HardSwish): t = x * y in one
 *   quadratic constraint with |t| <= bound(x) * bound(y) < p/2, then Rescale (MatMul sums its
 *   products and rounds once). Clip / Max / Min / Abs select by a sign bit, min(a, b) = -max(-a, -b).
 * - Rewiring ops run the executor's own kernel on index tensors (shape-ops.ts): no constraint,
 *   one definition of their geometry. Comparisons give bits (sign bit; Equal by an is-zero
 *   gadget); bool and integer tensors (and integer inputs) are unscaled, marked `int`, and only
 *   comparisons, logic, Where, Cast and rewiring ops accept them.
 * - Soundness of the integer reading: at compile time every constrained affine expression is
 *   checked to stay below p/2 in absolute value for any values the range checks admit, so field
 *   equalities are integer equalities. Honest values only leave their width when the maxBits
 *   cap applies; they then have no proof.
 *
 * Modules: field.ts (BN254 helpers), lin.ts (affine expressions), bounds.ts (overflow checks),
 * gadgets.ts (circom templates and their emitter), ops.ts (op lowering, dispatching to nn.ts,
 * shape-ops.ts, elementwise.ts, logic.ts, nonlinear.ts), graph.ts (graph walk),
 * assemble.ts (public layout and source text). This file validates and orchestrates.
 */
import { PlumbError } from '../../core/errors.ts';
import { decodeModel } from '../../core/onnx/model.ts';
import { assembleSource, assignPublicOffsets } from './assemble.ts';
import { arithmeticCircuitOps } from './elementwise.ts';
import { Emitter } from './gadgets.ts';
import { lowerGraph } from './graph.ts';
import { logicCircuitOps } from './logic.ts';
import { nonlinearCircuitOps } from './nonlinear.ts';
import { recurrentCircuitOps } from './recurrent.ts';
import { shapeCircuitOps } from './shape-ops.ts';
import type { CircuitOptions, CompiledCircuit } from './types.ts';

export { FIELD_PRIME, fieldToSigned, signedToField } from './field.ts';
export type { CircuitOptions, CompiledCircuit, SignalLayout } from './types.ts';

/** Ops this circuit compiler lowers (plus any node whose inputs are all constants). */
export const circuitOps: readonly string[] = [
  'Add',
  'AveragePool',
  'BatchNormalization',
  'Constant',
  'ConstantOfShape',
  'Conv',
  'ConvTranspose',
  'Div',
  'Flatten',
  'Gemm',
  'Identity',
  'LeakyRelu',
  'MatMul',
  'MaxPool',
  'Mul',
  'Relu',
  'Reshape',
  'Shape',
  'Size',
  'Sub',
  ...shapeCircuitOps,
  ...arithmeticCircuitOps,
  ...logicCircuitOps,
  ...nonlinearCircuitOps,
  ...recurrentCircuitOps,
];

/** Compile an ONNX model to a circom circuit. Throws INVALID_MODEL listing unsupported ops. */
export function compileCircuit(bytes: Uint8Array, options: CircuitOptions = {}): CompiledCircuit {
  const scale = options.scale ?? 12;
  const bits = options.bits ?? 24;
  const maxBits = options.maxBits ?? 64;
  if (!Number.isInteger(scale) || scale < 1 || scale > 40)
    throw new PlumbError('INVALID_ARGUMENT', `scale must be an integer in 1..40, got ${scale}`);
  if (!Number.isInteger(maxBits) || maxBits < 8 || maxBits > 120)
    throw new PlumbError('INVALID_ARGUMENT', `maxBits must be an integer in 8..120, got ${maxBits}`);
  if (!Number.isInteger(bits) || bits < 2 || bits > maxBits)
    throw new PlumbError('INVALID_ARGUMENT', `bits must be an integer in 2..${maxBits}, got ${bits}`);
  const model = decodeModel(bytes);
  const graph = model.graph;
  if (!graph) throw new PlumbError('INVALID_MODEL', 'the model has no graph');
  const unsupported = graph.node.filter(
    (n) => (n.domain !== '' && n.domain !== 'ai.onnx') || !circuitOps.includes(n.opType),
  );
  if (unsupported.length > 0) {
    const types = [...new Set(unsupported.map((n) => n.opType))].sort();
    throw new PlumbError('INVALID_MODEL', `zk circuits do not support ${types.join(', ')}`, {
      metaMessages: [
        ...unsupported.map((n) => `node "${n.name}" (${n.opType})`),
        `supported: ${circuitOps.join(', ')}`,
      ],
    });
  }
  const opset = Math.max(
    0,
    ...model.opsetImport.filter((o) => o.domain === '' || o.domain === 'ai.onnx').map((o) => o.version),
  );

  const em = new Emitter(scale, maxBits, bits);
  const { decls, inputs, outputs } = lowerGraph(graph, opset, em);
  const nPublic = assignPublicOffsets(inputs, outputs);
  const source = assembleSource({
    graphName: graph.name,
    scale,
    bits,
    maxBits,
    inputs,
    outputs,
    decls,
    lines: em.lines,
    templates: [...em.templates.values()],
  });
  return { source, scale, bits, maxBits, inputs, outputs, nPublic, constraintEstimate: em.constraints };
}
