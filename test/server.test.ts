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
  t = await createTestNode();
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
