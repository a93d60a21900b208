/**
 * The HTTP API end to end, in-process through `app.request()`: push, list, show, download,
 * infer, receipts, verify, and every kind of bad input answered with a 4xx problem+json while
 * nothing is half-written and the node keeps serving.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cidOf } from '../src/core/cid.ts';
import { verifyReceipt } from '../src/core/receipt.ts';
import { buildMlp, buildModel } from './fixtures/onnx-builder.ts';
import { createTestNode, type TestNode } from './helpers/node.ts';

const mlp = buildMlp({ sizes: [4, 8, 3], seed: 7, batch: 'batch' });
const input = Float32Array.from([0.5, -1, 2, 0.25]);
const inputs = { input: { dtype: 'float32', shape: [1, 4], data: Array.from(input) } };

let t: TestNode;
const maxUploadBytes = 64 * 1024;

before(async () => {
  t = await createTestNode({ maxUploadBytes });
});
after(() => t.stop());

const call = async (path: string, init?: RequestInit): Promise<Response> => t.app.request(path, init);
const postJson = (path: string, body: unknown) =>
  call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const push = (bytes: Uint8Array, query: string) =>
  call(`/v1/models?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });

async function problem(response: Response, status: number, code: string, pattern: RegExp) {
  assert.equal(response.status, status, await response.clone().text());
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  const body = (await response.json()) as { code: string; title: string; status: number };
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.match(body.title, pattern);
}

/** Blob files on disk (temp files included) and metadata rows: what a failed request must not change. */
function storeState() {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
    );
  return { files: files(join(t.dir, 'blobs')).sort(), counts: t.node.hub.meta.counts() };
}

describe('models', () => {
  test('push answers the CID, version and the manifest read from the file', async () => {
    const res = await push(mlp.bytes, 'repo=acme/mlp&description=tiny');
    assert.equal(res.status, 201);
    const body = (await res.json()) as {
      cid: string;
      version: string;
      manifest: { inputs: unknown; ops: string[] };
    };
    assert.equal(body.cid, cidOf(mlp.bytes));
    assert.equal(body.version, '1.0.0');
    assert.deepEqual(body.manifest.inputs, [{ name: 'input', dtype: 'float32', shape: ['batch', 4] }]);
    assert.deepEqual(body.manifest.ops, ['Gemm', 'Relu']);
    // Same bytes again: next patch version, same CID.
    const again = (await (await push(mlp.bytes, 'repo=acme/mlp')).json()) as { version: string };
    assert.equal(again.version, '1.0.1');
  });

  test('list, repository, version and file by CID agree', async () => {
    const cid = cidOf(mlp.bytes);
    const list = (await (await call('/v1/models')).json()) as {
      repositories: { name: string; latest: string }[];
    };
    assert.deepEqual(
      list.repositories.map((r) => [r.name, r.latest]),
      [['acme/mlp', '1.0.1']],
    );
    const version = (await (await call('/v1/models/acme/mlp/versions/1.0.0')).json()) as { cid: string };
    assert.equal(version.cid, cid);
    const file = (await (await call(`/v1/files/${cid}`)).json()) as { versions: unknown[]; size: number };
    assert.equal(file.size, mlp.bytes.length);
    assert.equal(file.versions.length, 2);
  });

  test('download by CID returns the exact bytes', async () => {
    const res = await call(`/v1/files/${cidOf(mlp.bytes)}/content`);
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), mlp.bytes);
  });

  test('a version is immutable', async () => {
    const other = buildMlp({ sizes: [4, 8, 3], seed: 8 }).bytes;
    await problem(await push(other, 'repo=acme/mlp&version=1.0.0'), 409, 'CONFLICT', /already exists/);
  });
});

describe('inference', () => {
  test('infer answers outputs equal to a reference forward pass, in a receipt that verifies', async () => {
    const res = await postJson('/v1/infer', { model: 'acme/mlp@1.0.0', inputs });
    assert.equal(res.status, 200);
    const receipt = (await res.json()) as {
      outputs: { output: { data: number[] } };
      id: string;
      node: string;
    };
    const expected = mlp.forward(input);
    for (const [i, v] of receipt.outputs.output.data.entries()) assert.ok(Math.abs(v - expected[i]!) < 1e-5);
    assert.equal(verifyReceipt(receipt).valid, true);
    assert.equal(receipt.node, t.node.key.address);
    assert.equal('inputs' in receipt, false, 'inputs are not echoed unless asked for');
    // The client checks the inputs it sent against the signed inputHash.
    assert.equal(verifyReceipt({ ...receipt, inputs }).valid, true);
    const other = { input: { ...inputs.input, data: [9, 9, 9, 9] } };
    assert.match(verifyReceipt({ ...receipt, inputs: other }).reason ?? '', /inputs hash mismatch/);
    const stored = await (await call(`/v1/receipts/${receipt.id}`)).json();
    assert.deepEqual(stored, receipt);
    const listed = (await (await call('/v1/receipts?limit=5')).json()) as { receipts: { id: string }[] };
    assert.equal(listed.receipts[0]?.id, receipt.id);
  });

  test('int64 tensors round-trip without precision loss', async () => {
    const add = buildModel({
      inputs: [
        { name: 'a', dtype: 'int64', shape: [2] },
        { name: 'b', dtype: 'int64', shape: [2] },
      ],
      outputs: [{ name: 'sum', dtype: 'int64', shape: [2] }],
      nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['sum'] }],
    });
    assert.equal((await push(add, 'repo=acme/add64')).status, 201);
    const res = await postJson('/v1/infer', {
      model: 'acme/add64',
      inputs: {
        a: { dtype: 'int64', shape: [2], data: ['9007199254740993', '-9223372036854775807'] },
        b: { dtype: 'int64', shape: [2], data: [1, -1] },
      },
    });
    const receipt = (await res.json()) as { outputs: { sum: { data: string[] } } };
    assert.deepEqual(receipt.outputs.sum.data, ['9007199254740994', '-9223372036854775808']);
  });

  test('verify reports tampering and re-executes on request', async () => {
    const receipt = (await (
      await postJson('/v1/infer', { model: 'acme/mlp', inputs, includeInputs: true })
    ).json()) as {
      outputs: { output: { data: number[] } };
    };
    const ok = (await (await postJson('/v1/verify', { receipt, reexecute: true })).json()) as {
      valid: boolean;
      checks: { check: string }[];
    };
    assert.equal(ok.valid, true);
    assert.ok(ok.checks.some((c) => c.check === 'reexecute'));
    receipt.outputs.output.data[0]! += 1;
    const bad = (await (await postJson('/v1/verify', { receipt })).json()) as {
      valid: boolean;
      reason: string;
    };
    assert.equal(bad.valid, false);
    assert.match(bad.reason, /outputs hash mismatch/);
  });
});

describe('bad input gets a 4xx problem and leaves nothing behind', () => {
  const corpusModel = readFileSync(new URL('../../shared/corpus/ezkl/1l_mlp/network.onnx', import.meta.url));
  const random = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
  const cases: [string, () => Promise<Response>, number, string, RegExp][] = [
    [
      'truncated ONNX',
      () => push(corpusModel.subarray(0, 200), 'repo=bad/m'),
      422,
      'INVALID_MODEL',
      /ONNX|onnxruntime/,
    ],
    ['random bytes', () => push(random, 'repo=bad/m'), 422, 'INVALID_MODEL', /ONNX|onnxruntime/],
    ['empty file', () => push(new Uint8Array(0), 'repo=bad/m'), 422, 'INVALID_MODEL', /empty/],
    [
      'over the size limit',
      () => push(new Uint8Array(maxUploadBytes + 1), 'repo=bad/m'),
      413,
      'PAYLOAD_TOO_LARGE',
      /limit/,
    ],
    [
      'over the size limit, streamed without a length',
      () =>
        call('/v1/models?repo=bad/m', {
          method: 'POST',
          body: new Blob([new Uint8Array(maxUploadBytes + 1)]).stream(),
          duplex: 'half',
        } as RequestInit),
      413,
      'PAYLOAD_TOO_LARGE',
      /limit/,
    ],
    [
      'bad repository name',
      () => push(mlp.bytes, 'repo=no-slash'),
      400,
      'INVALID_ARGUMENT',
      /repository name/,
    ],
    ['bad version', () => push(mlp.bytes, 'repo=bad/m&version=one'), 400, 'INVALID_ARGUMENT', /semver/],
    [
      'unknown model name',
      () => postJson('/v1/infer', { model: 'nobody/none', inputs }),
      404,
      'MODEL_NOT_FOUND',
      /nobody\/none/,
    ],
    [
      'unknown CID',
      () =>
        postJson('/v1/infer', {
          model: 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4',
          inputs,
        }),
      404,
      'MODEL_NOT_FOUND',
      /no model with CID/,
    ],
    [
      'unknown CID download',
      () => call('/v1/files/bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4/content'),
      404,
      'BLOB_NOT_FOUND',
      /bafkrei/,
    ],
    [
      'missing input',
      () => postJson('/v1/infer', { model: 'acme/mlp', inputs: {} }),
      422,
      'INVALID_INPUT',
      /missing input "input"/,
    ],
    [
      'wrong dtype',
      () =>
        postJson('/v1/infer', {
          model: 'acme/mlp',
          inputs: { input: { ...inputs.input, dtype: 'int32', data: [1, 2, 3, 4] } },
        }),
      422,
      'INVALID_INPUT',
      /dtype int32, the model wants float32/,
    ],
    [
      'wrong shape',
      () =>
        postJson('/v1/infer', {
          model: 'acme/mlp',
          inputs: { input: { dtype: 'float32', shape: [1, 3], data: [1, 2, 3] } },
        }),
      422,
      'INVALID_INPUT',
      /differs from the model's \[batch, 4\]/,
    ],
    [
      'non-numeric value',
      () =>
        postJson('/v1/infer', {
          model: 'acme/mlp',
          inputs: { input: { ...inputs.input, data: [1, 'two', 3, 4] } },
        }),
      422,
      'INVALID_INPUT',
      /inputs\.input\.data\[1\]: expected a number, got "two"/,
    ],
    [
      'malformed receipt',
      () => postJson('/v1/verify', { receipt: { version: 1, id: 'nope' } }),
      422,
      'INVALID_RECEIPT',
      /malformed receipt: id/,
    ],
    [
      'malformed JSON body',
      () =>
        call('/v1/infer', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"model":',
        }),
      400,
      'INVALID_ARGUMENT',
      /JSON/i,
    ],
    [
      'bad nonce',
      () => postJson('/v1/infer', { model: 'acme/mlp', inputs, nonce: '0x12' }),
      400,
      'INVALID_ARGUMENT',
      /nonce/,
    ],
    ['unknown route', () => call('/v1/nope'), 404, 'NOT_FOUND', /no route GET \/v1\/nope/],
  ];
  for (const [name, send, status, code, pattern] of cases) {
    test(name, async () => {
      const state = storeState();
      await problem(await send(), status, code, pattern);
      assert.deepEqual(storeState(), state, 'store changed');
    });
  }

  test('the node still serves after all of the above', async () => {
    assert.equal((await call('/health')).status, 200);
    assert.equal((await postJson('/v1/infer', { model: 'acme/mlp', inputs })).status, 200);
  });
});

test('openapi.json documents every route from the validating schemas', async () => {
  const doc = (await (await call('/openapi.json')).json()) as {
    paths: Record<string, unknown>;
    components: { schemas: Record<string, unknown> };
  };
  for (const path of [
    '/v1/models',
    '/v1/infer',
    '/v1/verify',
    '/v1/files/{cid}/content',
    '/v1/receipts/{id}',
    '/health',
  ])
    assert.ok(doc.paths[path], path);
  for (const schema of ['InferRequest', 'Receipt', 'Problem', 'Manifest'])
    assert.ok(doc.components.schemas[schema], schema);
});
