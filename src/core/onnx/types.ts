/**
 * Plain typed mirrors of the ONNX protobuf messages (onnx/onnx.proto), camelCased.
 *
 * Conventions: singular strings default to "" and repeated fields to [] when absent; fields
 * whose absence means something (a dimension's value, an attribute's value, a tensor's
 * raw_data, a type's shape) are optional and only present when the file has them. int64
 * values that can exceed 2^53 in real models (attribute ints, tensor int64 data, model
 * version) are bigints; structural int64s (versions, dims) are numbers. Fields this codec does
 * not model are kept verbatim in `unknownFields` (tag included) and written back by the
 * encoder, so decode -> encode preserves them.
 */

/** Raw protobuf fields (tag + value) the codec does not interpret. */
export type UnknownFields = { unknownFields?: Uint8Array[] };

export type StringStringEntryProto = { key: string; value: string } & UnknownFields;

export type OperatorSetIdProto = { domain: string; version: number } & UnknownFields;

export type TensorProto = {
  name: string;
  /** TensorProto.DataType code (see `onnxDataType` in core/tensor.ts). */
  dataType: number;
  dims: number[];
  /** Little-endian element bytes; a view into the decoded buffer. */
  rawData?: Uint8Array;
  floatData?: Float32Array;
  /** int32, int16, int8, uint16, uint8, bool and float16 (as bits). */
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: bigint[];
  doubleData?: Float64Array;
  /** uint32 and uint64. */
  uint64Data?: bigint[];
  docString: string;
  /** 0 = DEFAULT (in this message), 1 = EXTERNAL (see externalData). */
  dataLocation: number;
  externalData: StringStringEntryProto[];
} & UnknownFields;

export type SparseTensorProto = {
  values?: TensorProto;
  indices?: TensorProto;
  dims: number[];
} & UnknownFields;

/** One dimension: `value` (fixed size), `param` (symbolic name), or neither (unknown). */
export type DimensionProto = { value?: number; param?: string; denotation?: string } & UnknownFields;

export type TypeProto = {
  tensorType?: { elemType: number; shape?: DimensionProto[] } & UnknownFields;
  sparseTensorType?: { elemType: number; shape?: DimensionProto[] } & UnknownFields;
  sequenceType?: { elemType?: TypeProto } & UnknownFields;
  mapType?: { keyType: number; valueType?: TypeProto } & UnknownFields;
  optionalType?: { elemType?: TypeProto } & UnknownFields;
  denotation?: string;
} & UnknownFields;

export type ValueInfoProto = { name: string; type?: TypeProto; docString: string } & UnknownFields;

/** AttributeProto.AttributeType codes. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

export type AttributeProto = {
  name: string;
  /** AttributeType code; 0 in IR v1 files, where the present value field says the type. */
  type: number;
  refAttrName?: string;
  docString?: string;
  f?: number;
  i?: bigint;
  /** Bytes (usually UTF-8 text). */
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparseTensor?: SparseTensorProto;
  tp?: TypeProto;
  floats?: Float32Array;
  ints?: bigint[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparseTensors?: SparseTensorProto[];
  typeProtos?: TypeProto[];
} & UnknownFields;

export type NodeProto = {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: AttributeProto[];
  docString: string;
} & UnknownFields;

export type GraphProto = {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  sparseInitializer: SparseTensorProto[];
  docString: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
} & UnknownFields;

export type ModelProto = {
  irVersion: number;
  opsetImport: OperatorSetIdProto[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: bigint;
  docString: string;
  graph?: GraphProto;
  metadataProps: StringStringEntryProto[];
  /** FunctionProto messages, kept as raw bytes (not interpreted). */
  functions: Uint8Array[];
} & UnknownFields;
