/**
 * Read a Manifest (src/core/manifest.ts) from the bytes of an ONNX model, validating that the
 * file is a usable model: well-formed protobuf, a graph, an opset import, outputs, and an
 * op_type on every node. Anything else throws PlumbError INVALID_MODEL in one sentence.
 */
import { PlumbError } from '../errors.ts';
import type { Dim, Manifest, TensorInfo } from '../manifest.ts';
import { decodeModel } from './model.ts';
import { onnxTypeName, tensorProtoProblem } from './tensor-proto.ts';
import type { DimensionProto, GraphProto, TensorProto, TypeProto, ValueInfoProto } from './types.ts';

function invalid(message: string): PlumbError {
  return new PlumbError('INVALID_MODEL', `not a valid ONNX model: ${message}`);
}

/** A readable type string: the dtype for tensors, else e.g. "sequence<float32>", "map<int64,float32>". */
export function typeName(type: TypeProto | undefined): string {
  if (!type) return 'unknown';
  if (type.tensorType) return onnxTypeName(type.tensorType.elemType);
  if (type.sparseTensorType) return `sparse_tensor<${onnxTypeName(type.sparseTensorType.elemType)}>`;
  if (type.sequenceType) return `sequence<${typeName(type.sequenceType.elemType)}>`;
  if (type.optionalType) return `optional<${typeName(type.optionalType.elemType)}>`;
  if (type.mapType) return `map<${onnxTypeName(type.mapType.keyType)},${typeName(type.mapType.valueType)}>`;
  return 'unknown';
}

function dim(d: DimensionProto): Dim {
  if (d.value !== undefined && d.value >= 0) return d.value;
  if (d.param) return d.param;
  return null;
}

/** Name, dtype and shape of a graph input or output. */
export function tensorInfo(value: ValueInfoProto): TensorInfo {
  const tensor = value.type?.tensorType ?? value.type?.sparseTensorType;
  return {
    name: value.name,
    dtype: typeName(value.type),
    shape: tensor?.shape ? tensor.shape.map(dim) : null,
  };
}

/** Visit every node of `graph` and of the subgraphs in its attributes (If, Loop, Scan bodies). */
function forEachNode(
  graph: GraphProto,
  visit: (node: GraphProto['node'][number], index: number, path: string) => void,
  path = 'graph',
): void {
  graph.node.forEach((node, i) => {
    visit(node, i, path);
    for (const a of node.attribute) {
      const where = `${path} node ${i} attribute "${a.name}"`;
      if (a.g) forEachNode(a.g, visit, where);
      for (const g of a.graphs ?? []) forEachNode(g, visit, where);
    }
  });
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/**
 * Extract the Manifest of an ONNX model file. `inputs` are the graph inputs that are not
 * initializers (old exporters list weights as inputs too); `ops` are the distinct op types of
 * the graph and its subgraphs, sorted, domain-qualified outside the default domain;
 * `parameterCount` sums the element counts of the initializers (stored values for sparse ones).
 * Throws PlumbError INVALID_MODEL for anything that is not a usable ONNX model.
 */
export function extractManifest(bytes: Uint8Array): Manifest {
  if (bytes.length === 0) throw invalid('the file is empty');
  const model = decodeModel(bytes);
  const graph = model.graph;
  if (!graph) throw invalid('it has no graph');
  if (model.irVersion <= 0) throw invalid('it has no ir_version');
  if (model.opsetImport.length === 0) throw invalid('it imports no operator set (opset_import is empty)');
  if (graph.output.length === 0) throw invalid('its graph has no outputs');

  const opsets: Record<string, number> = {};
  for (const o of model.opsetImport) {
    const domain = o.domain === 'ai.onnx' ? '' : o.domain;
    opsets[domain] = Math.max(opsets[domain] ?? 0, o.version);
  }

  const ops = new Set<string>();
  forEachNode(graph, (node, i, path) => {
    if (!node.opType)
      throw invalid(`${path} node ${i}${node.name ? ` ("${node.name}")` : ''} has no op_type`);
    const qualified = node.domain === '' || node.domain === 'ai.onnx';
    ops.add(qualified ? node.opType : `${node.domain}.${node.opType}`);
  });

  const initializers = new Set<string>();
  let parameterCount = 0;
  const addInitializer = (t: TensorProto, what: string) => {
    const problem = tensorProtoProblem(t, true);
    if (problem) throw invalid(`${what} "${t.name}": ${problem}`);
    initializers.add(t.name);
    parameterCount += elementCount(t.dims);
  };
  for (const t of graph.initializer) addInitializer(t, 'initializer');
  for (const s of graph.sparseInitializer) if (s.values) addInitializer(s.values, 'sparse initializer');
  if (!Number.isSafeInteger(parameterCount)) throw invalid('its initializers have implausibly many elements');

  const named = (list: ValueInfoProto[], what: string) =>
    list.map((v, i) => {
      if (!v.name) throw invalid(`graph ${what} ${i} has no name`);
      return tensorInfo(v);
    });

  return {
    format: 'onnx',
    size: bytes.length,
    irVersion: model.irVersion,
    opsets,
    producer: { name: model.producerName, version: model.producerVersion },
    graphName: graph.name,
    inputs: named(
      graph.input.filter((v) => !initializers.has(v.name)),
      'input',
    ),
    outputs: named(graph.output, 'output'),
    ops: [...ops].sort(),
    nodeCount: graph.node.length,
    parameterCount,
    artifacts: {},
  };
}
