import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildModel, buildModelProto, type ModelSpec } from '../../../test/fixtures/onnx-builder.ts';
import { isPlumbError } from '../errors.ts';
import type { Manifest } from '../manifest.ts';
import { isDType } from '../tensor.ts';
import { extractManifest } from './manifest.ts';
import { encodeModel } from './model.ts';
import type { ModelProto } from './types.ts';

const corpus = fileURLToPath(new URL('../../../../shared/corpus', import.meta.url));
const corpusFiles = [
  ...globSync(`${corpus}/ezkl/*/network.onnx`),
  ...globSync(`${corpus}/onnx-backend/*/*/model.onnx`),
].sort();

function invalidModel(fn: () => unknown, pattern: RegExp = /^not a valid ONNX model: /): void {
  assert.throws(fn, (e: unknown) => isPlumbError(e, 'INVALID_MODEL') && pattern.test(e.shortMessage));
}

/** Run `fn`; anything thrown must be PlumbError INVALID_MODEL. */
function onlyInvalidModel(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isPlumbError(e, 'INVALID_MODEL'), `${what}: ${String(e)}`);
  }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

const addSpec: ModelSpec = {
  inputs: [
    { name: 'a', dtype: 'int64', shape: ['batch', 2] },
    { name: 'b', dtype: 'int64', shape: [null, 2] },
  ],
  outputs: [{ name: 'c', dtype: 'int64', shape: ['batch', 2] }],
  nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['c'] }],
};

function mutated(change: (m: ModelProto) => void, spec: ModelSpec = addSpec): Uint8Array {
  const model = buildModelProto(spec);
  change(model);
  return encodeModel(model);
}

describe('extractManifest on the corpus', () => {
  test('every corpus model extracts with sane fields', () => {
    assert.ok(corpusFiles.length > 100, `corpus not found at ${corpus}`);
    for (const file of corpusFiles) {
      const bytes = readFileSync(file);
      const m = extractManifest(bytes);
      assert.equal(m.format, 'onnx');
      assert.equal(m.size, bytes.length);
      assert.ok(m.irVersion >= 3 && m.irVersion <= 11, `${file}: ir ${m.irVersion}`);
      assert.ok((m.opsets[''] ?? 0) >= 1, file);
      assert.ok(m.outputs.length > 0 && m.nodeCount > 0 && m.ops.length > 0, file);
      assert.deepEqual(m.ops, [...new Set(m.ops)].sort());
      assert.ok(Number.isSafeInteger(m.parameterCount) && m.parameterCount >= 0);
      for (const info of [...m.inputs, ...m.outputs]) {
        assert.ok(info.name, file);
        assert.ok(
          isDType(info.dtype) || /^(sequence|map|optional|sparse_tensor)<|^unknown$/.test(info.dtype),
          file,
        );
        for (const d of info.shape ?? []) assert.ok(d === null || typeof d === 'string' || d >= 0, file);
      }
      assert.deepEqual(m.artifacts, {});
    }
  });

  test('known models', () => {
    const relu = extractManifest(
      readFileSync(`${corpus}/onnx-backend/simple/test_single_relu_model/model.onnx`),
    );
    assert.deepStrictEqual(relu, {
      format: 'onnx',
      size: 98,
      irVersion: 4,
      opsets: { '': 9 },
      producer: { name: 'backend-test', version: '' },
      graphName: 'SingleRelu',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
      ops: ['Relu'],
      nodeCount: 1,
      parameterCount: 0,
      artifacts: {},
    } satisfies Manifest);
    const seq = extractManifest(
      readFileSync(`${corpus}/onnx-backend/simple/test_sequence_model2/model.onnx`),
    );
    assert.deepStrictEqual(seq.ops, ['SequenceAt', 'SequenceConstruct', 'SequenceErase']);
    const mlp = extractManifest(readFileSync(`${corpus}/ezkl/1l_mlp/network.onnx`));
    assert.ok(mlp.parameterCount > 0);
    assert.ok(mlp.inputs.every((i) => !i.name.includes('weight')));
  });

  test('old models listing initializers as inputs: only the real inputs are inputs', () => {
    const old = corpusFiles.filter((f) => f.includes('pytorch-converted/test_Linear/'));
    assert.equal(old.length, 1);
    const m = extractManifest(readFileSync(old[0]!));
    assert.equal(m.inputs.length, 1);
    assert.equal(m.parameterCount, 8 * 10 + 8);
  });
});

describe('extractManifest on built models', () => {
  test('shapes, symbolic dims, unknown dims, initializers listed as inputs', () => {
    const bytes = buildModel({
      ...addSpec,
      inputs: [...addSpec.inputs, { name: 'noshape', dtype: 'float16', shape: null }],
      initializers: { k: { dtype: 'int64', shape: [2, 2], data: new BigInt64Array(4) } },
      initializersAsInputs: true,
      domains: { 'com.microsoft': 1, 'ai.onnx': 3 },
      nodes: [...addSpec.nodes, { op: 'Gelu', domain: 'com.microsoft', inputs: ['c'], outputs: ['d'] }],
    });
    const m = extractManifest(bytes);
    assert.deepStrictEqual(m.inputs, [
      { name: 'a', dtype: 'int64', shape: ['batch', 2] },
      { name: 'b', dtype: 'int64', shape: [null, 2] },
      { name: 'noshape', dtype: 'float16', shape: null },
    ]);
    assert.deepStrictEqual(m.opsets, { '': 17, 'com.microsoft': 1 });
    assert.deepStrictEqual(m.ops, ['Add', 'com.microsoft.Gelu']);
    assert.equal(m.parameterCount, 4);
    assert.equal(m.nodeCount, 2);
  });

  test('non-tensor and unsupported types get readable names', () => {
    const bytes = mutated((model) => {
      const [a, b] = model.graph!.input;
      a!.type = { sequenceType: { elemType: { tensorType: { elemType: 1 } } } };
      b!.type = {
        mapType: { keyType: 7, valueType: { optionalType: { elemType: { tensorType: { elemType: 16 } } } } },
      };
      model.graph!.output[0]!.type = { tensorType: { elemType: 16, shape: [{ value: 4 }] } };
    });
    const m = extractManifest(bytes);
    assert.deepStrictEqual(
      m.inputs.map((i) => [i.dtype, i.shape]),
      [
        ['sequence<float32>', null],
        ['map<int64,optional<bfloat16>>', null],
      ],
    );
    assert.deepStrictEqual(m.outputs[0], { name: 'c', dtype: 'bfloat16', shape: [4] });
  });

  test('ops inside subgraphs count', () => {
    const body = buildModelProto({
      inputs: [],
      outputs: [{ name: 'o', dtype: 'float32', shape: [] }],
      nodes: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['o'] }],
    }).graph!;
    const m = extractManifest(
      buildModel({
        inputs: [{ name: 'cond', dtype: 'bool', shape: [] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [] }],
        nodes: [
          {
            op: 'If',
            inputs: ['cond'],
            outputs: ['y'],
            attrs: { then_branch: { graph: body }, else_branch: { graph: body } },
          },
        ],
      }),
    );
    assert.deepStrictEqual(m.ops, ['If', 'Sigmoid']);
    assert.equal(m.nodeCount, 1);
  });
});

describe('extractManifest rejects what is not a usable model', () => {
  test('empty, no graph, no opset, no outputs, node without op_type, no ir_version', () => {
    invalidModel(() => extractManifest(new Uint8Array()), /the file is empty/);
    invalidModel(() => extractManifest(mutated((m) => delete m.graph)), /it has no graph/);
    invalidModel(() => extractManifest(mutated((m) => (m.opsetImport = []))), /opset_import is empty/);
    invalidModel(() => extractManifest(mutated((m) => (m.graph!.output = []))), /its graph has no outputs/);
    invalidModel(
      () => extractManifest(mutated((m) => (m.graph!.node[0]!.opType = ''))),
      /graph node 0 \("add_0"\) has no op_type/,
    );
    invalidModel(() => extractManifest(mutated((m) => (m.irVersion = 0))), /no ir_version/);
    invalidModel(
      () => extractManifest(mutated((m) => (m.graph!.input[0]!.name = ''))),
      /graph input 0 has no name/,
    );
    invalidModel(() => extractManifest(new TextEncoder().encode('{"not": "onnx"}')));
    const withWeight = {
      ...addSpec,
      initializers: { w: { dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) } },
    } satisfies ModelSpec;
    const weight = (m: ModelProto) => m.graph!.initializer[0]!;
    invalidModel(
      () => extractManifest(mutated((m) => (weight(m).dims = [3]), withWeight)),
      /initializer "w": raw_data has 8 bytes, dims \[3\] of float32 need 12/,
    );
    invalidModel(
      () => extractManifest(mutated((m) => (weight(m).dims = [-2]), withWeight)),
      /initializer "w": invalid dimension -2/,
    );
    invalidModel(
      () => extractManifest(mutated((m) => (weight(m).dataLocation = 1), withWeight)),
      /initializer "w": its data is stored in an external file/,
    );
    const bf16 = mutated((m) => (weight(m).dataType = 16), withWeight); // 8 raw bytes for 2 bfloat16: not checked
    assert.equal(extractManifest(bf16).parameterCount, 2);
  });

  test('truncated corpus models', () => {
    const small = readFileSync(`${corpus}/onnx-backend/simple/test_single_relu_model/model.onnx`);
    for (let cut = 1; cut < small.length; cut++) invalidModel(() => extractManifest(small.subarray(0, cut)));
    const big = readFileSync(`${corpus}/ezkl/variable_cnn/network.onnx`);
    for (const fraction of [0.001, 0.1, 0.25, 0.5, 0.6, 0.75, 0.9, 0.999])
      invalidModel(
        () => extractManifest(big.subarray(0, Math.floor(big.length * fraction))),
        /truncated at byte/,
      );
    invalidModel(() => extractManifest(big.subarray(0, big.length - 1)));
  });

  test('1000 random byte strings only ever throw INVALID_MODEL', () => {
    const next = lcg(7);
    for (let i = 0; i < 1000; i++) {
      const bytes = Uint8Array.from({ length: 1 + (next() % 4096) }, () => next() >>> 24);
      if (i % 2) bytes.set([0x08, 0x07, 0x3a], 0); // look like a model to get past the first field
      onlyInvalidModel(() => extractManifest(bytes), `random #${i}`);
    }
  });

  test('corrupted corpus models only ever throw INVALID_MODEL', () => {
    const next = lcg(11);
    const models = corpusFiles.map((f) => readFileSync(f));
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from(models[next() % models.length]!);
      for (let k = 1 + (next() % 4); k > 0; k--) bytes[next() % bytes.length] = next() >>> 24;
      onlyInvalidModel(() => extractManifest(bytes), `corrupted #${i}`);
    }
  });
});
