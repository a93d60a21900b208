/**
 * The API over a real socket (what `plumb node start` serves): responses of different sizes
 * on one keep-alive connection each carry their own, correct Content-Length.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Server, serve } from '../src/api/serve.ts';
import { pushModel } from '../src/node/push-model.ts';
import { buildMlp } from './fixtures/onnx-builder.ts';
import { createTestNode, type TestNode } from './helpers/node.ts';

let t: TestNode;
let server: Server;
before(async () => {
  t = await createTestNode({ maxJsonBytes: 4096, maxUploadBytes: 64 * 1024 });
  server = await serve(t.node);
  await pushModel(t.node, { source: buildMlp({ sizes: [2, 3], seed: 1 }).bytes, repo: 'small/m' });
  await pushModel(t.node, { source: buildMlp({ sizes: [64, 32, 16], seed: 2 }).bytes, repo: 'big/m' });
});
after(async () => {
  await server.close();
  await t.stop();
});

async function inferOver(model: string, n: number) {
  const res = await fetch(`${server.url}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      inputs: { input: { dtype: 'float32', shape: [1, n], data: new Array(n).fill(0.5) } },
    }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(text));
  return JSON.parse(text) as { id: string };
}

test('each response carries its own Content-Length', async () => {
  for (let i = 0; i < 3; i++) {
    await inferOver('small/m', 2);
    const big = await inferOver('big/m', 64);
    const stored = await fetch(`${server.url}/v1/receipts/${big.id}`);
    const text = await stored.text();
    assert.equal(Number(stored.headers.get('content-length')), Buffer.byteLength(text));
  }
});

test('health and node info over the socket', async () => {
  assert.deepEqual(await (await fetch(`${server.url}/health`)).json(), { status: 'ok' });
  const info = (await (await fetch(`${server.url}/v1/node`)).json()) as { address: string };
  assert.equal(info.address, t.node.key.address);
});

test('bodies read from the socket: upload, malformed JSON, over-limit JSON and upload', async () => {
  const bytes = buildMlp({ sizes: [3, 4], seed: 9 }).bytes;
  const pushed = await fetch(`${server.url}/v1/models?repo=socket/m`, { method: 'POST', body: bytes });
  assert.equal(pushed.status, 201);
  const post = (body: string) =>
    fetch(`${server.url}/v1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
  const malformed = await post('{"model":');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.headers.get('content-type'), 'application/problem+json');
  const big = await post(JSON.stringify({ model: 'socket/m', inputs: { pad: 'x'.repeat(5000) } }));
  assert.equal(big.status, 413);
  assert.equal(((await big.json()) as { code: string }).code, 'PAYLOAD_TOO_LARGE');
  const hugeUpload = await fetch(`${server.url}/v1/models?repo=socket/big`, {
    method: 'POST',
    body: new Blob([new Uint8Array(64 * 1024 + 1)]).stream(),
    duplex: 'half',
  } as RequestInit);
  assert.equal(hugeUpload.status, 413);
  assert.equal(
    (
      await post(
        JSON.stringify({
          model: 'socket/m',
          inputs: { input: { dtype: 'float32', shape: [1, 3], data: [1, 2, 3] } },
        }),
      )
    ).status,
    200,
  );
});
