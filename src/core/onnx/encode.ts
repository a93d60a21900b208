/**
 * Encode the plain objects of ./types.ts back to ONNX protobuf bytes.
 *
 * Singular fields holding their default ("" / 0) are omitted, optional fields are written when
 * present (so a dimension of value 0 survives), repeated scalars use the wire layout of
 * onnx.proto (packed only where it declares `[packed = true]`), and kept unknown fields are
 * appended verbatim. decodeModel(encodeModel(m)) deep-equals m.
 */
import { ProtoWriter } from '../protobuf/reader.ts';
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

type Write<T> = (w: ProtoWriter, value: T) => void;

function str(w: ProtoWriter, field: number, value: string): void {
  if (value !== '') w.string(field, value);
}

function int(w: ProtoWriter, field: number, value: number | bigint): void {
  if (value !== 0 && value !== 0n) w.int(field, value);
}

function messages<T>(w: ProtoWriter, field: number, list: readonly T[] | undefined, write: Write<T>): void {
  for (const item of list ?? []) w.message(field, () => write(w, item));
}

function unknown(w: ProtoWriter, value: { unknownFields?: Uint8Array[] }): void {
  for (const raw of value.unknownFields ?? []) w.raw(raw);
}

const writeEntry: Write<StringStringEntryProto> = (w, e) => {
  str(w, 1, e.key);
  str(w, 2, e.value);
  unknown(w, e);
};

const writeOpset: Write<OperatorSetIdProto> = (w, o) => {
  str(w, 1, o.domain);
  int(w, 2, o.version);
  unknown(w, o);
};

const writeTensor: Write<TensorProto> = (w, t) => {
  for (const d of t.dims) w.int(1, d);
  int(w, 2, t.dataType);
  if (t.floatData) w.packedFloats(4, t.floatData);
  if (t.int32Data) w.packedInts(5, t.int32Data);
  for (const s of t.stringData ?? []) w.bytes(6, s);
  if (t.int64Data) w.packedInts(7, t.int64Data);
  str(w, 8, t.name);
  if (t.rawData) w.bytes(9, t.rawData);
  if (t.doubleData) w.packedDoubles(10, t.doubleData);
  if (t.uint64Data) w.packedInts(11, t.uint64Data);
  str(w, 12, t.docString);
  messages(w, 13, t.externalData, writeEntry);
  int(w, 14, t.dataLocation);
  unknown(w, t);
};

const writeSparse: Write<SparseTensorProto> = (w, s) => {
  if (s.values) w.message(1, () => writeTensor(w, s.values!));
  if (s.indices) w.message(2, () => writeTensor(w, s.indices!));
  for (const d of s.dims) w.int(3, d);
  unknown(w, s);
};

const writeDim: Write<DimensionProto> = (w, d) => {
  if (d.value !== undefined) w.int(1, d.value);
  if (d.param !== undefined) w.string(2, d.param);
  if (d.denotation !== undefined) w.string(3, d.denotation);
  unknown(w, d);
};

const writeTensorType: Write<{ elemType: number; shape?: DimensionProto[]; unknownFields?: Uint8Array[] }> = (
  w,
  t,
) => {
  int(w, 1, t.elemType);
  if (t.shape) w.message(2, () => messages(w, 1, t.shape, writeDim));
  unknown(w, t);
};

const writeWrapped: Write<{ elemType?: TypeProto; unknownFields?: Uint8Array[] }> = (w, t) => {
  if (t.elemType) w.message(1, () => writeType(w, t.elemType!));
  unknown(w, t);
};

const writeType: Write<TypeProto> = (w, t) => {
  if (t.tensorType) w.message(1, () => writeTensorType(w, t.tensorType!));
  if (t.sequenceType) w.message(4, () => writeWrapped(w, t.sequenceType!));
  if (t.mapType) {
    const m = t.mapType;
    w.message(5, () => {
      int(w, 1, m.keyType);
      if (m.valueType) w.message(2, () => writeType(w, m.valueType!));
      unknown(w, m);
    });
  }
  if (t.denotation !== undefined) w.string(6, t.denotation);
  if (t.sparseTensorType) w.message(8, () => writeTensorType(w, t.sparseTensorType!));
  if (t.optionalType) w.message(9, () => writeWrapped(w, t.optionalType!));
  unknown(w, t);
};

const writeValueInfo: Write<ValueInfoProto> = (w, v) => {
  str(w, 1, v.name);
  if (v.type) w.message(2, () => writeType(w, v.type!));
  str(w, 3, v.docString);
  unknown(w, v);
};

const writeAttribute: Write<AttributeProto> = (w, a) => {
  str(w, 1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s) w.bytes(4, a.s);
  if (a.t) w.message(5, () => writeTensor(w, a.t!));
  if (a.g) w.message(6, () => writeGraph(w, a.g!));
  for (const f of a.floats ?? []) w.float(7, f);
  for (const i of a.ints ?? []) w.int(8, i);
  for (const s of a.strings ?? []) w.bytes(9, s);
  messages(w, 10, a.tensors, writeTensor);
  messages(w, 11, a.graphs, writeGraph);
  if (a.docString !== undefined) w.string(13, a.docString);
  if (a.tp) w.message(14, () => writeType(w, a.tp!));
  messages(w, 15, a.typeProtos, writeType);
  int(w, 20, a.type);
  if (a.refAttrName !== undefined) w.string(21, a.refAttrName);
  if (a.sparseTensor) w.message(22, () => writeSparse(w, a.sparseTensor!));
  messages(w, 23, a.sparseTensors, writeSparse);
  unknown(w, a);
};

const writeNode: Write<NodeProto> = (w, n) => {
  for (const s of n.input) w.string(1, s);
  for (const s of n.output) w.string(2, s);
  str(w, 3, n.name);
  str(w, 4, n.opType);
  messages(w, 5, n.attribute, writeAttribute);
  str(w, 6, n.docString);
  str(w, 7, n.domain);
  unknown(w, n);
};

function writeGraph(w: ProtoWriter, g: GraphProto): void {
  messages(w, 1, g.node, writeNode);
  str(w, 2, g.name);
  messages(w, 5, g.initializer, writeTensor);
  str(w, 10, g.docString);
  messages(w, 11, g.input, writeValueInfo);
  messages(w, 12, g.output, writeValueInfo);
  messages(w, 13, g.valueInfo, writeValueInfo);
  messages(w, 15, g.sparseInitializer, writeSparse);
  unknown(w, g);
}

/** Encode a ModelProto to bytes (an `.onnx` file). */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  int(w, 1, model.irVersion);
  str(w, 2, model.producerName);
  str(w, 3, model.producerVersion);
  str(w, 4, model.domain);
  int(w, 5, model.modelVersion);
  str(w, 6, model.docString);
  if (model.graph) w.message(7, () => writeGraph(w, model.graph!));
  messages(w, 8, model.opsetImport, writeOpset);
  messages(w, 14, model.metadataProps, writeEntry);
  for (const f of model.functions) w.bytes(25, f);
  unknown(w, model);
  return w.finish();
}

/** Encode a bare TensorProto (the format of ONNX backend-test `.pb` files). */
export function encodeTensorProto(tensor: TensorProto): Uint8Array {
  const w = new ProtoWriter();
  writeTensor(w, tensor);
  return w.finish();
}
