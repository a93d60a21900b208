import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { isPlumbError } from '../errors.ts';
import { ProtoWriter } from '../protobuf/reader.ts';
import { decodeModel, encodeModel, encodeTensorProto, readTensorProto } from './model.ts';
import { AttributeType, type GraphProto, type ModelProto, type TensorProto } from './types.ts';

const corpus = fileURLToPath(new URL('../../../../shared/corpus', import.meta.url));
const utf8 = new TextEncoder();

function tensor(name: string, fields: Partial<TensorProto>): TensorProto {
  return { name, dataType: 1, dims: [], docString: '', dataLocation: 0, externalData: [], ...fields };
}

function graph(fields: Partial<GraphProto>): GraphProto {
  return {
    node: [],
    name: '',
    initializer: [],
    sparseInitializer: [],
    docString: '',
    input: [],
    output: [],
    valueInfo: [],
    ...fields,
  };
}

/** A model touching every modelled field, including unknown ones kept verbatim. */
function everythingModel(): ModelProto {
  const body = graph({
    name: 'body',
    node: [
      { input: ['a'], output: ['b'], name: 'n', opType: 'Neg', domain: '', attribute: [], docString: '' },
    ],
  });
  const unknownField = new ProtoWriter();
  unknownField.string(999, 'kept');
  return {
    irVersion: 9,
    opsetImport: [
      { domain: '', version: 18 },
      { domain: 'com.microsoft', version: 1 },
    ],
    producerName: 'test',
    producerVersion: '1.0',
    domain: 'org.example',
    modelVersion: 2n ** 62n,
    docString: 'doc ✓',
    metadataProps: [{ key: 'k', value: 'v' }],
    functions: [Uint8Array.of(0x0a, 0x01, 0x66)],
    unknownFields: [unknownField.finish()],
    graph: graph({
      name: 'main',
      docString: 'graph doc',
      node: [
        {
          input: ['x', '', 'w'],
          output: ['y'],
          name: 'node0',
          opType: 'Custom',
          domain: 'com.microsoft',
          docString: 'node doc',
          attribute: [
            { name: 'f', type: AttributeType.FLOAT, f: 0 },
            { name: 'i', type: AttributeType.INT, i: 2n ** 63n - 1n },
            { name: 'neg', type: AttributeType.INT, i: -3n },
            { name: 's', type: AttributeType.STRING, s: utf8.encode('text') },
            {
              name: 't',
              type: AttributeType.TENSOR,
              t: tensor('c', { dims: [2], floatData: Float32Array.of(1, 2) }),
            },
            { name: 'g', type: AttributeType.GRAPH, g: body },
            { name: 'fs', type: AttributeType.FLOATS, floats: Float32Array.of(0.5, -0.25) },
            { name: 'is', type: AttributeType.INTS, ints: [1n, -1n, -(2n ** 63n)] },
            { name: 'ss', type: AttributeType.STRINGS, strings: [utf8.encode('a'), new Uint8Array()] },
            {
              name: 'ts',
              type: AttributeType.TENSORS,
              tensors: [tensor('', { dataType: 7, int64Data: [5n] })],
            },
            { name: 'gs', type: AttributeType.GRAPHS, graphs: [body, body] },
            { name: 'tp', type: AttributeType.TYPE_PROTO, tp: { tensorType: { elemType: 1 } } },
            { name: 'ref', type: AttributeType.FLOAT, refAttrName: 'alpha', docString: 'ref doc' },
          ],
        },
      ],
      initializer: [
        tensor('w', { dims: [2, 2], rawData: Uint8Array.of(...new Array(16).fill(1)) }),
        tensor('d', { dataType: 11, dims: [1], doubleData: Float64Array.of(Math.E) }),
        tensor('h', { dataType: 10, dims: [3], int32Data: [0, 0x3c00, 0xffff] }),
        tensor('u', { dataType: 13, dims: [1], uint64Data: [2n ** 64n - 1n] }),
        tensor('s', { dataType: 8, dims: [2], stringData: [utf8.encode('x'), utf8.encode('')] }),
        tensor('e', {
          dims: [4],
          dataLocation: 1,
          externalData: [{ key: 'location', value: 'weights.bin' }],
        }),
      ],
      sparseInitializer: [
        {
          values: tensor('sp', { dims: [2], floatData: Float32Array.of(3, 4) }),
          indices: tensor('', { dataType: 7, dims: [2], int64Data: [0n, 5n] }),
          dims: [2, 3],
        },
      ],
      input: [
        {
          name: 'x',
          docString: 'input doc',
          type: {
            tensorType: {
              elemType: 1,
              shape: [{ value: 0 }, { param: 'batch' }, {}, { value: 3, denotation: 'C' }],
            },
            denotation: 'IMAGE',
          },
        },
        { name: 'scalar', docString: '', type: { tensorType: { elemType: 7, shape: [] } } },
        { name: 'unranked', docString: '', type: { tensorType: { elemType: 16 } } },
      ],
      output: [
        { name: 'y', docString: '', type: { sequenceType: { elemType: { tensorType: { elemType: 1 } } } } },
        {
          name: 'm',
          docString: '',
          type: { mapType: { keyType: 7, valueType: { tensorType: { elemType: 1 } } } },
        },
        { name: 'o', docString: '', type: { optionalType: { elemType: { tensorType: { elemType: 6 } } } } },
        { name: 'sp', docString: '', type: { sparseTensorType: { elemType: 1, shape: [{ value: 2 }] } } },
        { name: 'untyped', docString: '' },
      ],
      valueInfo: [{ name: 'b', docString: '', type: { tensorType: { elemType: 1, shape: [{ value: 1 }] } } }],
    }),
  };
}

describe('decodeModel / encodeModel', () => {
  test('round-trips every modelled field', () => {
    const model = everythingModel();
    const bytes = encodeModel(model);
    assert.deepStrictEqual(decodeModel(bytes), model);
    assert.deepStrictEqual(encodeModel(decodeModel(bytes)), bytes);
  });

  test('round-trips every corpus model', () => {
    const files = [
      ...globSync(`${corpus}/ezkl/*/network.onnx`),
      ...globSync(`${corpus}/onnx-backend/*/*/model.onnx`),
    ];
    assert.ok(files.length > 100, `corpus not found from ${process.cwd()}`);
    for (const file of files) {
      const decoded = decodeModel(readFileSync(file));
      assert.deepStrictEqual(decodeModel(encodeModel(decoded)), decoded, file);
    }
  });

  test('re-encoded corpus models still load in onnxruntime', async () => {
    const options = { logSeverityLevel: 4 as const };
    let loaded = 0;
    for (const file of globSync(`${corpus}/onnx-backend/*/*/model.onnx`)) {
      const bytes = readFileSync(file);
      try {
        await (await ort.InferenceSession.create(bytes, options)).release();
      } catch {
        continue; // onnxruntime does not load the original either (old opset, unsupported op)
      }
      await (await ort.InferenceSession.create(encodeModel(decodeModel(bytes)), options)).release();
      loaded++;
    }
    assert.ok(loaded > 50, `only ${loaded} corpus models loaded`);
  });

  test('keeps unknown fields at every level', () => {
    const w = new ProtoWriter();
    w.int(1, 8);
    w.message(7, () => {
      w.message(1, () => {
        w.string(4, 'Relu');
        w.int(8, 1); // NodeProto.overload is not modelled
      });
      w.message(14, () => w.string(1, 'annotation')); // quantization_annotation
    });
    w.message(20, () => w.string(1, 'training'));
    const bytes = w.finish();
    const model = decodeModel(bytes);
    assert.equal(model.graph?.node[0]?.opType, 'Relu');
    assert.equal(model.graph?.node[0]?.unknownFields?.length, 1);
    assert.equal(model.graph?.unknownFields?.length, 1);
    assert.equal(model.unknownFields?.length, 1);
    assert.deepStrictEqual(encodeModel(model), bytes);
  });

  test('raw_data stays a view into the input buffer', () => {
    const bytes = readFileSync(`${corpus}/ezkl/1l_mlp/network.onnx`);
    const model = decodeModel(bytes);
    const raw = model.graph?.initializer.find((t) => t.rawData)?.rawData;
    assert.ok(raw);
    assert.equal(raw.buffer, bytes.buffer);
    assert.equal(Object.getPrototypeOf(raw), Uint8Array.prototype);
  });

  test('float_data may be packed or unpacked', () => {
    const w = new ProtoWriter();
    w.int(1, 3);
    for (const v of [1, 2, 3]) w.float(4, v);
    w.int(2, 1);
    const unpacked = readTensorProto(w.finish());
    const packed = readTensorProto(encodeTensorProto(unpacked));
    assert.deepStrictEqual(unpacked.floatData, Float32Array.of(1, 2, 3));
    assert.deepStrictEqual(packed, unpacked);
  });

  test('malformed bytes throw INVALID_MODEL naming the problem', () => {
    const bytes = readFileSync(`${corpus}/onnx-backend/simple/test_single_relu_model/model.onnx`);
    assert.throws(
      () => decodeModel(bytes.subarray(0, 40)),
      (e: unknown) =>
        isPlumbError(e, 'INVALID_MODEL') &&
        /^not a valid ONNX model: truncated at byte 40/.test(e.shortMessage),
    );
    assert.throws(
      () => decodeModel(Uint8Array.of(0x3a, 0x02, 0x08, 0x01)), // graph field holding a varint field 1
      (e: unknown) =>
        isPlumbError(e, 'INVALID_MODEL') && /in NodeProto|wire type 0, expected 2/.test(e.shortMessage),
    );
  });

  test('decodes a 100 MB model quickly', () => {
    const layer = new Uint8Array(100_000);
    const initializer = Array.from({ length: 1000 }, (_, i) =>
      tensor(`w${i}`, { dims: [25_000], rawData: layer }),
    );
    const node = initializer.map((t, i) => ({
      input: [i ? `h${i - 1}` : 'x', t.name],
      output: [`h${i}`],
      name: `add${i}`,
      opType: 'Add',
      domain: '',
      attribute: [],
      docString: '',
    }));
    const model = everythingModel();
    model.graph = graph({ node, initializer, output: [{ name: 'h999', docString: '' }] });
    const bytes = encodeModel(model);
    assert.ok(bytes.length > 100_000_000);
    const start = performance.now();
    const decoded = decodeModel(bytes);
    const ms = performance.now() - start;
    assert.equal(decoded.graph?.initializer.length, 1000);
    assert.equal(decoded.graph?.initializer[999]?.rawData?.buffer, bytes.buffer);
    assert.ok(ms < 1000, `decoding took ${ms.toFixed(0)} ms`);
  });
});
