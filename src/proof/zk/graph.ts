/**
 * Graph walk: binds initializers as constants, declares the graph inputs (public), folds
 * all-constant nodes with the exact executor's own kernels, lowers the rest (ops.ts) and
 * constrains the graph outputs.
 */
import { PlumbError } from '../../core/errors.ts';
import type { GraphProto, NodeProto, TensorProto } from '../../core/onnx/types.ts';
import { nodeError } from '../../runtime/exact/attributes.ts';
import { registry } from '../../runtime/exact/ops/registry.ts';
import { shapeOnlyOps, shapeOnlyValue } from '../../runtime/exact/ops/shape-of.ts';
import { constProto, size } from '../../runtime/exact/tensor.ts';
import type { Emitter } from './gadgets.ts';
import { type Lin, symOf, type Val } from './lin.ts';
import { lowerNode } from './ops.ts';
import type { SignalLayout } from './types.ts';

export type LoweredGraph = {
  /** Signal declarations of the main template (inputs, then outputs). */
  decls: string[];
  /** Layouts with `publicOffset` still 0 (see assemble.ts). */
  inputs: SignalLayout[];
  outputs: SignalLayout[];
};

type Env = Map<string, Val>;

/** Shape of a graph input: symbolic dimensions (e.g. batch) are taken as 1. */
function inputShape(name: string, dims: readonly { value?: number; param?: string }[] | undefined): number[] {
  if (!dims) throw new PlumbError('INVALID_MODEL', `input "${name}" has no declared shape`);
  return dims.map((d) => (d.value !== undefined && d.value > 0 ? d.value : 1));
}

/** ONNX element types of integer and bool inputs (int8..int64, uint8..uint64, bool). */
const INT_ELEM_TYPES = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);

function declareInputs(graph: GraphProto, env: Env, em: Emitter, decls: string[]): SignalLayout[] {
  const inputs: SignalLayout[] = [];
  for (const info of graph.input) {
    if (env.has(info.name)) continue;
    const tt = info.type?.tensorType;
    // float / double inputs are at 2^s; integer and bool ones unscaled (see logic.ts).
    const int = tt ? INT_ELEM_TYPES.has(tt.elemType) : false;
    if (!tt || (tt.elemType !== 1 && tt.elemType !== 11 && !int))
      throw new PlumbError(
        'INVALID_MODEL',
        `input "${info.name}": zk circuits take float32/float64, integer and bool inputs only`,
      );
    const shape = inputShape(info.name, tt.shape);
    const signal = `in${inputs.length}`;
    const n = size(shape);
    decls.push(`    signal input ${signal}[${n}];`);
    // Public inputs are range-checked by the verifier (prove.ts `verify`), not in the circuit.
    const data: Lin[] = [];
    for (let i = 0; i < n; i++) data.push(em.input(`${signal}[${i}]`));
    env.set(info.name, { kind: 'sym', shape, data, ...(int ? { int: true } : {}) });
    inputs.push({ name: info.name, signal, shape, size: n, publicOffset: 0, ...(int ? { int: true } : {}) });
  }
  return inputs;
}

type FoldContext = { scale: number; s: bigint; opset: number; initializers: Map<string, TensorProto> };

/** Constant folding with the exact executor's own kernel: identical semantics. */
function foldConstant(node: NodeProto, get: (i: number) => Val, env: Env, ctx: FoldContext): void {
  const impl = registry.get(node.opType);
  if (!impl) throw nodeError(node, 'op is not supported');
  const kernel = impl({ node, ...ctx });
  const consts = (i: number) => {
    const v = get(i);
    if (v.kind !== 'const') throw nodeError(node, 'expected a constant');
    return v.t;
  };
  const res = kernel({ get: consts, opt: (i) => (node.input[i] ? consts(i) : undefined) });
  node.output.forEach((name, i) => {
    const t = res[i];
    if (name && t) env.set(name, { kind: 'const', t });
  });
}

function walkNodes(graph: GraphProto, env: Env, em: Emitter, ctx: FoldContext): void {
  for (const node of graph.node) {
    const get = (i: number): Val => {
      const name = node.input[i];
      const v = name ? env.get(name) : undefined;
      if (!v) throw nodeError(node, `input ${i} ("${name ?? ''}") has no value`);
      return v;
    };
    const opt = (i: number): Val | undefined => (node.input[i] ? get(i) : undefined);
    const first = node.input[0] ? env.get(node.input[0]) : undefined;
    if (shapeOnlyOps.includes(node.opType) && first?.kind === 'sym') {
      // Shapes are static: Shape/Size of a non-constant tensor is a constant.
      const out = node.output[0];
      if (out) env.set(out, { kind: 'const', t: shapeOnlyValue(node, first.shape) });
      continue;
    }
    const present = node.input.flatMap((n, i) => (n === '' ? [] : [get(i)]));
    if (present.every((v) => v.kind === 'const')) {
      foldConstant(node, get, env, ctx);
      continue;
    }
    const value = lowerNode(node, get, opt, em, ctx);
    const values = Array.isArray(value) ? value : [value];
    node.output.forEach((out, i) => {
      const v = values[i];
      if (out && v) env.set(out, v);
    });
  }
}

function constrainOutputs(
  graph: GraphProto,
  env: Env,
  em: Emitter,
  decls: string[],
  s: bigint,
): SignalLayout[] {
  const outputs: SignalLayout[] = [];
  for (const info of graph.output) {
    const v = env.get(info.name);
    if (!v) throw new PlumbError('INVALID_MODEL', `output "${info.name}" is not computed by the graph`);
    const x = symOf(v, s);
    const signal = `out${outputs.length}`;
    const n = size(x.shape);
    decls.push(`    signal output ${signal}[${n}];`);
    x.data.forEach((l, i) => {
      em.output(`${signal}[${i}]`, l, `output "${info.name}"`);
    });
    // integer / bool results (ArgMax, comparisons) are unscaled, as the executor's int64 tensors
    const int = v.kind === 'sym' && (v as { int?: boolean }).int === true;
    outputs.push({
      name: info.name,
      signal,
      shape: x.shape,
      size: n,
      publicOffset: 0,
      ...(int ? { int: true } : {}),
    });
  }
  return outputs;
}

/** Lower a graph (ops already checked supported) into `em`, at the emitter's scale. */
export function lowerGraph(graph: GraphProto, opset: number, em: Emitter): LoweredGraph {
  const scale = em.s;
  const s = BigInt(scale);
  const env: Env = new Map();
  const initializers = new Map<string, TensorProto>();
  for (const t of graph.initializer) {
    env.set(t.name, { kind: 'const', t: constProto(t, scale) });
    initializers.set(t.name, t);
  }
  const decls: string[] = [];
  const inputs = declareInputs(graph, env, em, decls);
  walkNodes(graph, env, em, { scale, s, opset, initializers });
  const outputs = constrainOutputs(graph, env, em, decls, s);
  return { decls, inputs, outputs };
}
