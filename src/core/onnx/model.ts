/**
 * Decode ONNX ModelProto / TensorProto bytes into the plain objects of ./types.ts.
 *
 * Strict: malformed protobuf throws (see ./protobuf.ts); fields not modelled are kept verbatim.
 * Fast on large models: initializer raw_data stays a view into the input buffer.
 */
import { PlumbError } from '../errors.ts';
import { ProtoError, ProtoReader } from '../protobuf/reader.ts';
import type {
  AttributeProto,
  DimensionProto,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetIdProto,
  SparseTensorProto,
  StringStringEntryProto,
  TensorProto,
  TypeProto,
  ValueInfoProto,
} from './types.ts';

export { encodeModel, encodeTensorProto } from './encode.ts';

type Read<T> = (r: ProtoReader) => T;

/** Read one embedded message with `read`. */
function sub<T>(r: ProtoReader, name: string, read: Read<T>): T {
  const saved = r.enter(name);
  const value = read(r);
  if (r.pos !== r.end) throw r.fail('message ended mid-field');
  r.leave(saved);
  return value;
}

function concat<A extends Float32Array | Float64Array>(chunks: A[]): A | undefined {
  if (chunks.length <= 1) return chunks[0]?.length ? chunks[0] : undefined;
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new (chunks[0]!.constructor as new (n: number) => A)(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return total ? out : undefined;
}

function keepUnknown<T extends { unknownFields?: Uint8Array[] }>(target: T, unknown: Uint8Array[]): T {
  if (unknown.length) target.unknownFields = unknown;
  return target;
}

const readEntry: Read<StringStringEntryProto> = (r) => {
  const e: StringStringEntryProto = { key: '', value: '' };
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) e.key = r.string();
    else if (f === 2) e.value = r.string();
    else unknown.push(r.skip());
  }
  return keepUnknown(e, unknown);
};

const readOpset: Read<OperatorSetIdProto> = (r) => {
  const o: OperatorSetIdProto = { domain: '', version: 0 };
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) o.domain = r.string();
    else if (f === 2) o.version = r.int64Number();
    else unknown.push(r.skip());
  }
  return keepUnknown(o, unknown);
};

const readTensor: Read<TensorProto> = (r) => {
  const t: TensorProto = {
    name: '',
    dataType: 0,
    dims: [],
    docString: '',
    dataLocation: 0,
    externalData: [],
  };
  const floats: Float32Array[] = [];
  const doubles: Float64Array[] = [];
  const int32s: number[] = [];
  const int64s: bigint[] = [];
  const uint64s: bigint[] = [];
  const strings: Uint8Array[] = [];
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) r.int64Numbers(t.dims);
    else if (f === 2) t.dataType = r.int32();
    else if (f === 4) floats.push(r.floats());
    else if (f === 5) r.int32s(int32s);
    else if (f === 6) strings.push(r.bytes());
    else if (f === 7) r.int64s(int64s);
    else if (f === 8) t.name = r.string();
    else if (f === 9) t.rawData = r.bytes();
    else if (f === 10) doubles.push(r.doubles());
    else if (f === 11) r.uint64s(uint64s);
    else if (f === 12) t.docString = r.string();
    else if (f === 13) t.externalData.push(sub(r, 'StringStringEntryProto', readEntry));
    else if (f === 14) t.dataLocation = r.int32();
    else unknown.push(r.skip());
  }
  const f32 = concat(floats);
  if (f32) t.floatData = f32;
  const f64 = concat(doubles);
  if (f64) t.doubleData = f64;
  if (int32s.length) t.int32Data = int32s;
  if (int64s.length) t.int64Data = int64s;
  if (uint64s.length) t.uint64Data = uint64s;
  if (strings.length) t.stringData = strings;
  return keepUnknown(t, unknown);
};

const readSparse: Read<SparseTensorProto> = (r) => {
  const s: SparseTensorProto = { dims: [] };
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) s.values = sub(r, 'TensorProto', readTensor);
    else if (f === 2) s.indices = sub(r, 'TensorProto', readTensor);
    else if (f === 3) r.int64Numbers(s.dims);
    else unknown.push(r.skip());
  }
  return keepUnknown(s, unknown);
};

const readDim: Read<DimensionProto> = (r) => {
  const d: DimensionProto = {};
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) d.value = r.int64Number();
    else if (f === 2) d.param = r.string();
    else if (f === 3) d.denotation = r.string();
    else unknown.push(r.skip());
  }
  return keepUnknown(d, unknown);
};

const readShape: Read<DimensionProto[]> = (r) => {
  const dims: DimensionProto[] = [];
  while (r.more()) {
    if (r.next() === 1) dims.push(sub(r, 'TensorShapeProto.Dimension', readDim));
    else r.skip();
  }
  return dims;
};

/** TypeProto.Tensor and TypeProto.SparseTensor share one layout. */
const readTensorType: Read<{ elemType: number; shape?: DimensionProto[] }> = (r) => {
  const t: { elemType: number; shape?: DimensionProto[]; unknownFields?: Uint8Array[] } = { elemType: 0 };
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) t.elemType = r.int32();
    else if (f === 2) t.shape = sub(r, 'TensorShapeProto', readShape);
    else unknown.push(r.skip());
  }
  return keepUnknown(t, unknown);
};

/** TypeProto.Sequence and TypeProto.Optional: one elem_type = 1. */
const readWrapped: Read<{ elemType?: TypeProto }> = (r) => {
  const t: { elemType?: TypeProto; unknownFields?: Uint8Array[] } = {};
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    if (r.next() === 1) t.elemType = sub(r, 'TypeProto', readType);
    else unknown.push(r.skip());
  }
  return keepUnknown(t, unknown);
};

const readMapType: Read<{ keyType: number; valueType?: TypeProto }> = (r) => {
  const t: { keyType: number; valueType?: TypeProto; unknownFields?: Uint8Array[] } = { keyType: 0 };
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) t.keyType = r.int32();
    else if (f === 2) t.valueType = sub(r, 'TypeProto', readType);
    else unknown.push(r.skip());
  }
  return keepUnknown(t, unknown);
};

const readType: Read<TypeProto> = (r) => {
  const t: TypeProto = {};
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) t.tensorType = sub(r, 'TypeProto.Tensor', readTensorType);
    else if (f === 4) t.sequenceType = sub(r, 'TypeProto.Sequence', readWrapped);
    else if (f === 5) t.mapType = sub(r, 'TypeProto.Map', readMapType);
    else if (f === 6) t.denotation = r.string();
    else if (f === 8) t.sparseTensorType = sub(r, 'TypeProto.SparseTensor', readTensorType);
    else if (f === 9) t.optionalType = sub(r, 'TypeProto.Optional', readWrapped);
    else unknown.push(r.skip());
  }
  return keepUnknown(t, unknown);
};

const readValueInfo: Read<ValueInfoProto> = (r) => {
  const v: ValueInfoProto = { name: '', docString: '' };
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) v.name = r.string();
    else if (f === 2) v.type = sub(r, 'TypeProto', readType);
    else if (f === 3) v.docString = r.string();
    else unknown.push(r.skip());
  }
  return keepUnknown(v, unknown);
};

const readAttribute: Read<AttributeProto> = (r) => {
  const a: AttributeProto = { name: '', type: 0 };
  const floats: Float32Array[] = [];
  const ints: bigint[] = [];
  const unknown: Uint8Array[] = [];
  const push = <T>(list: T[] | undefined, v: T): T[] => {
    if (!list) return [v];
    list.push(v);
    return list;
  };
  while (r.more()) {
    const f = r.next();
    if (f === 1) a.name = r.string();
    else if (f === 2) a.f = r.float();
    else if (f === 3) a.i = r.int64();
    else if (f === 4) a.s = r.bytes();
    else if (f === 5) a.t = sub(r, 'TensorProto', readTensor);
    else if (f === 6) a.g = sub(r, 'GraphProto', readGraph);
    else if (f === 7) floats.push(r.floats());
    else if (f === 8) r.int64s(ints);
    else if (f === 9) a.strings = push(a.strings, r.bytes());
    else if (f === 10) a.tensors = push(a.tensors, sub(r, 'TensorProto', readTensor));
    else if (f === 11) a.graphs = push(a.graphs, sub(r, 'GraphProto', readGraph));
    else if (f === 13) a.docString = r.string();
    else if (f === 14) a.tp = sub(r, 'TypeProto', readType);
    else if (f === 15) a.typeProtos = push(a.typeProtos, sub(r, 'TypeProto', readType));
    else if (f === 20) a.type = r.int32();
    else if (f === 21) a.refAttrName = r.string();
    else if (f === 22) a.sparseTensor = sub(r, 'SparseTensorProto', readSparse);
    else if (f === 23) a.sparseTensors = push(a.sparseTensors, sub(r, 'SparseTensorProto', readSparse));
    else unknown.push(r.skip());
  }
  const f32 = concat(floats);
  if (f32) a.floats = f32;
  if (ints.length) a.ints = ints;
  return keepUnknown(a, unknown);
};

const readNode: Read<NodeProto> = (r) => {
  const n: NodeProto = {
    input: [],
    output: [],
    name: '',
    opType: '',
    domain: '',
    attribute: [],
    docString: '',
  };
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) n.input.push(r.string());
    else if (f === 2) n.output.push(r.string());
    else if (f === 3) n.name = r.string();
    else if (f === 4) n.opType = r.string();
    else if (f === 5) n.attribute.push(sub(r, 'AttributeProto', readAttribute));
    else if (f === 6) n.docString = r.string();
    else if (f === 7) n.domain = r.string();
    else unknown.push(r.skip());
  }
  return keepUnknown(n, unknown);
};

function readGraph(r: ProtoReader): GraphProto {
  const g: GraphProto = {
    node: [],
    name: '',
    initializer: [],
    sparseInitializer: [],
    docString: '',
    input: [],
    output: [],
    valueInfo: [],
  };
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) g.node.push(sub(r, 'NodeProto', readNode));
    else if (f === 2) g.name = r.string();
    else if (f === 5) g.initializer.push(sub(r, 'TensorProto', readTensor));
    else if (f === 10) g.docString = r.string();
    else if (f === 11) g.input.push(sub(r, 'ValueInfoProto', readValueInfo));
    else if (f === 12) g.output.push(sub(r, 'ValueInfoProto', readValueInfo));
    else if (f === 13) g.valueInfo.push(sub(r, 'ValueInfoProto', readValueInfo));
    else if (f === 15) g.sparseInitializer.push(sub(r, 'SparseTensorProto', readSparse));
    else unknown.push(r.skip());
  }
  return keepUnknown(g, unknown);
}

const readModel: Read<ModelProto> = (r) => {
  const m: ModelProto = {
    irVersion: 0,
    opsetImport: [],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0n,
    docString: '',
    metadataProps: [],
    functions: [],
  };
  const unknown: Uint8Array[] = [];
  while (r.more()) {
    const f = r.next();
    if (f === 1) m.irVersion = r.int64Number();
    else if (f === 2) m.producerName = r.string();
    else if (f === 3) m.producerVersion = r.string();
    else if (f === 4) m.domain = r.string();
    else if (f === 5) m.modelVersion = r.int64();
    else if (f === 6) m.docString = r.string();
    else if (f === 7) m.graph = sub(r, 'GraphProto', readGraph);
    else if (f === 8) m.opsetImport.push(sub(r, 'OperatorSetIdProto', readOpset));
    else if (f === 14) m.metadataProps.push(sub(r, 'StringStringEntryProto', readEntry));
    else if (f === 25) m.functions.push(r.bytes());
    else unknown.push(r.skip());
  }
  return keepUnknown(m, unknown);
};

/** Decode a whole buffer as message `name`; throws `ProtoError` when malformed. */
function decodeRoot<T>(bytes: Uint8Array, name: string, read: Read<T>): T {
  const r = new ProtoReader(bytes);
  r.context = name;
  return read(r);
}

/**
 * Decode a ModelProto. Throws PlumbError INVALID_MODEL ("not a valid ONNX model: ...") when
 * the bytes are not well-formed protobuf for this schema. Checks structure only, not meaning
 * (see `extractManifest` for that).
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return decodeRoot(bytes, 'ModelProto', readModel);
  } catch (error) {
    if (error instanceof ProtoError)
      throw new PlumbError('INVALID_MODEL', `not a valid ONNX model: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Decode a bare TensorProto message; throws `ProtoError` when malformed. */
export function readTensorProto(bytes: Uint8Array): TensorProto {
  return decodeRoot(bytes, 'TensorProto', readTensor);
}
