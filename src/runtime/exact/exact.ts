/**
 * Exact (fixed-point, integer-only) executor of ONNX graphs: the reference meaning of Plumb's
 * zero-knowledge circuits and of replicated execution. Bit-exact on every machine.
 *
 * Design
 * - Values are integers at a fixed scale 2^s (default s = 12, option `scale`): the real x is
 *   represented by X ~ round(x * 2^s). Tensors that are integers in ONNX (int64 shapes, axes,
 *   indices, int inputs) are carried unscaled ("int" kind) and never rescaled.
 * - Quantization (inputs, initializers, Constant values, float attributes such as alpha):
 *   X = round_half_away_from_zero(x * 2^s), computed EXACTLY from the float32/float64 bits
 *   (sign, exponent, mantissa decoded and shifted as BigInt; no float multiply). See fixed.ts.
 * - Rescaling rule (one helper, `rshiftRound`): a product of two scaled values has scale 2^2s and
 *   is brought back with floor((P + 2^(s-1)) / 2^s), i.e. round half up, on BigInt (arithmetic
 *   shift = floor, so negatives are exact). Dot products (Gemm, MatMul, Conv) accumulate at 2^2s
 *   and round ONCE. Divisions (Div, AveragePool) use `divRound` = floor(a/d + 1/2), same rule.
 * - Representation: plain `bigint[]` per tensor: arbitrary precision, so no silent wrap-around;
 *   the trace encoding checks every value fits int64.
 * - Sigmoid, Tanh, Erf, Softplus: piecewise cubics on 32 segments of a clamped range (saturating
 *   beyond, odd / sigmoid symmetry), coefficients built with BigInt series only, one exact Horner
 *   sum and one rounding (piecewise.ts): circuit-friendly; max error `activationMaxError` (about
 *   1.3e-4 at s = 12, dominated by the final rounding 2^-(s+1)). Softmax: max, piecewise exp at
 *   2^(s+8), divRound by the row sum (`softmaxMaxError`); LogSoftmax: ln of the sum from its bit
 *   length and a piecewise ln(1 + f) (`logSoftmaxMaxError`); Gelu: erf / tanh at 2^(s+4)
 *   (`geluMaxError`); LayerNormalization: std by isqrt at 2^(s+8), one divRound per element
 *   (`layerNormMaxError`), InstanceNormalization the same per channel; Elu, Selu, Celu:
 *   piecewise exp (`expUnitMaxError`); Softsign, Reciprocal: divRound; Exp: 2^k (exact) times
 *   a piecewise 2^f (`expMaxError`, relative ~2^-(s+8)); Log: (k - s) ln2 + piecewise
 *   ln(1 + f) (`logMaxError`); ReduceL2, ReduceLogSumExp likewise. Sqrt: isqrt(X * 2^s).
 *   See ops/nonlinear.ts.
 * - BatchNormalization (inference) is folded at compile time to y = x*a + b from the exact
 *   float32 parameters (integer square root with 96-bit precision).
 * - More ops, same rules: Pow (integer exponents: repeated rounded products), Clip, PRelu,
 *   HardSigmoid (rshiftRound(alpha x) + beta, clamped), HardSwish, Neg, Abs, Max, Min,
 *   Sum, Mean, Floor, Ceil, Round, Sign, ThresholdedRelu, CumSum (ops/math.ts); ReduceSum / Mean
 *   (divRound) / Max / Min / L1 / SumSquare / Prod, GlobalAveragePool / GlobalMaxPool
 *   (ops/reduce.ts); ConvTranspose as Conv (ops/conv-transpose.ts); comparisons, Not,
 *   And, Or, Xor, Where with bool results as unscaled 0/1 (ops/logic.ts); Cast (float <-> double
 *   is the identity, to integers truncates; ops/cast.ts); Expand, Tile, Split, DepthToSpace /
 *   SpaceToDepth, GatherElements, ScatterElements / ScatterND, Trilu, Dropout (inference), Resize / Upsample in nearest and (bi)linear
 *   mode with onnxruntime's float32 coordinates and weights (ops/layout.ts); Pad in every mode.
 * - RNN, GRU, LSTM (ops/recurrent.ts): each gate's X W^T + H R^T (+ P C) accumulates at 2^2s and is
 *   rounded once, then Wb + Rb (as Gemm); piecewise Sigmoid / Tanh; sums of products of two values
 *   (f C + i c~, z (H - h~), ...) rounded once; error rule in recurrent-error.ts.
 * - Outputs: scaled tensors are dequantized to float32 (X / 2^s) for display; `raw` holds the
 *   canonical integers. With `trace`, every node's outputs are hashed: sha256 over, per output,
 *   int64 LE rank, int64 LE dims, then every value as int64 LE (two's complement).
 */
import { createHash } from 'node:crypto';
import { PlumbError } from '../../core/errors.ts';
import { decodeModel } from '../../core/onnx/model.ts';
import type { ModelProto, NodeProto, TensorProto } from '../../core/onnx/types.ts';
import type { TensorMap } from '../../core/tensor.ts';
import { nodeError } from './attributes.ts';
import { dequantize, encodeCanonical } from './canonical.ts';
import type { CompileContext, Inputs, Kernel } from './ops/op.ts';
import { registry } from './ops/registry.ts';
import { constProto, fromTensor } from './tensor.ts';
import type {
  ExactModel,
  ExactOptions,
  ExactResult,
  RunOptions,
  TraceEntry,
  Unsupported,
  XTensor,
} from './types.ts';

export { dequantize, encodeCanonical } from './canonical.ts';
export type {
  ExactModel,
  ExactOptions,
  ExactResult,
  RunOptions,
  TraceEntry,
  Unsupported,
  XTensor,
} from './types.ts';

export const supportedOps: readonly string[] = [...registry.keys()].sort();

/** Every node the exact executor cannot run (empty when the model is supported), without running. */
export function checkSupport(model: ModelProto | Uint8Array): Unsupported[] {
  const m = model instanceof Uint8Array ? decodeModel(model) : model;
  const out: Unsupported[] = [];
  for (const node of m.graph?.node ?? []) {
    if (node.domain !== '' && node.domain !== 'ai.onnx')
      out.push({ opType: node.opType, node: node.name, reason: `domain "${node.domain}" is not supported` });
    else if (!registry.has(node.opType))
      out.push({ opType: node.opType, node: node.name, reason: 'op is not supported by the exact executor' });
  }
  return out;
}

type Env = Map<string, XTensor>;
type Step = { node: NodeProto; kernel: Kernel };

/** The node's inputs read from `env`, failing on a missing or not yet computed value. */
function inputsOf(node: NodeProto, env: Env): Inputs {
  const get = (i: number): XTensor => {
    const name = node.input[i];
    if (!name) throw nodeError(node, `input ${i} is missing`);
    const v = env.get(name);
    if (!v) throw nodeError(node, `input "${name}" has no value`);
    return v;
  };
  return { get, opt: (i) => (node.input[i] ? get(i) : undefined) };
}

/** Compile an ONNX model into the exact executor. Throws INVALID_MODEL listing unsupported ops. */
export function compileExact(bytes: Uint8Array, options: ExactOptions = {}): ExactModel {
  const scale = options.scale ?? 12;
  if (!Number.isInteger(scale) || scale < 1 || scale > 40)
    throw new PlumbError('INVALID_ARGUMENT', `scale must be an integer in 1..40, got ${scale}`);
  const s = BigInt(scale);
  const model = decodeModel(bytes);
  const graph = model.graph;
  if (!graph) throw new PlumbError('INVALID_MODEL', 'the model has no graph');
  const unsupported = checkSupport(model);
  if (unsupported.length > 0) {
    const types = [...new Set(unsupported.map((u) => u.opType))].sort();
    throw new PlumbError('INVALID_MODEL', `the exact executor does not support ${types.join(', ')}`, {
      metaMessages: unsupported.map((u) => `node "${u.node}" (${u.opType}): ${u.reason}`),
    });
  }
  const opset = Math.max(
    0,
    ...model.opsetImport.filter((o) => o.domain === '' || o.domain === 'ai.onnx').map((o) => o.version),
  );

  const constants: Env = new Map();
  const initializers = new Map<string, TensorProto>();
  for (const t of graph.initializer) {
    constants.set(t.name, constProto(t, scale));
    initializers.set(t.name, t);
  }
  const inputNames = graph.input.map((i) => i.name).filter((n) => !constants.has(n));
  const outputNames = graph.output.map((o) => o.name);

  const steps: Step[] = graph.node.map((node) => {
    const impl = registry.get(node.opType);
    if (!impl) throw nodeError(node, 'op is not supported by the exact executor');
    const ctx: CompileContext = { node, scale, s, opset, initializers };
    return { node, kernel: impl(ctx) };
  });

  function run(inputs: TensorMap, runOptions: RunOptions = {}): ExactResult {
    const env: Env = new Map(constants);
    for (const name of inputNames) {
      const t = inputs[name];
      if (!t) throw new PlumbError('INVALID_INPUT', `missing input "${name}"`);
      env.set(name, fromTensor(t, scale, `input "${name}"`));
    }
    const trace: TraceEntry[] | undefined = runOptions.trace ? [] : undefined;
    for (const { node, kernel } of steps) {
      const outs = kernel(inputsOf(node, env));
      node.output.forEach((name, i) => {
        const v = outs[i];
        if (name && v) env.set(name, v);
      });
      if (trace) {
        const hash = createHash('sha256');
        for (const v of outs) hash.update(encodeCanonical(v));
        trace.push({
          node: node.name,
          opType: node.opType,
          outputs: [...node.output],
          sha256: hash.digest('hex'),
        });
      }
    }
    const outputs: TensorMap = {};
    const raw = new Map<string, bigint[]>();
    for (const name of outputNames) {
      const v = env.get(name);
      if (!v) throw new PlumbError('INFERENCE_FAILED', `output "${name}" was not computed`);
      raw.set(name, v.data);
      outputs[name] = v.int
        ? { dtype: 'int64', shape: v.shape, data: BigInt64Array.from(v.data) }
        : { dtype: 'float32', shape: v.shape, data: dequantize(v.data, scale) };
    }
    const result: ExactResult = { outputs, raw };
    if (trace) result.trace = trace;
    if (runOptions.values) result.values = env;
    return result;
  }

  return { scale, inputNames, outputNames, run };
}
