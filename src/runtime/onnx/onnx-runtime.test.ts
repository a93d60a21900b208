import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMlp } from '../../../test/fixtures/onnx-builder.ts';
import { isPlumbError } from '../../core/errors.ts';
import { tensorFromJson } from '../../core/tensor.ts';
import { OnnxRuntime } from './onnx-runtime.ts';

const models = [1, 2, 3].map((seed) => buildMlp({ sizes: [2, 3], seed }));
const x = { input: tensorFromJson({ dtype: 'float32', shape: [1, 2], data: [0.5, -1] }) };

test('sessions are cached per CID, bounded, least recently used first out', async () => {
  const runtime = new OnnxRuntime({ maxSessions: 2 });
  const loads: number[] = [];
  const load = (i: number) => async () => {
    loads.push(i);
    return models[i]!.bytes;
  };
  for (const i of [0, 1, 0, 2, 0, 1]) {
    const out = await runtime.run(`m${i}`, load(i), x);
    const expected = models[i]!.forward(Float32Array.from([0.5, -1]));
    for (const [k, v] of (out['output']!.data as Float32Array).entries())
      assert.ok(Math.abs(v - expected[k]!) < 1e-6);
  }
  // m0 stays (used most recently each time); m1 is evicted by m2 and loaded again.
  assert.deepEqual(loads, [0, 1, 2, 1]);
  assert.equal(runtime.size, 2);
  await runtime.stop();
  assert.equal(runtime.size, 0);
});

test('concurrent first requests share one load; a failed load is not cached', async () => {
  const runtime = new OnnxRuntime();
  let loads = 0;
  const slow = async () => {
    loads++;
    await new Promise((r) => setTimeout(r, 20));
    return models[0]!.bytes;
  };
  await Promise.all([1, 2, 3].map(() => runtime.run('same', slow, x)));
  assert.equal(loads, 1);
  const bad = async () => new Uint8Array([1, 2, 3]);
  await assert.rejects(runtime.run('bad', bad, x), (e: unknown) => isPlumbError(e, 'INVALID_MODEL'));
  assert.equal(runtime.size, 1, 'the failed model is not kept');
  await runtime.stop();
});

test('a run onnxruntime refuses is INFERENCE_FAILED, naming the model', async () => {
  const runtime = new OnnxRuntime();
  const wrong = { input: tensorFromJson({ dtype: 'float32', shape: [1, 5], data: [1, 2, 3, 4, 5] }) };
  await assert.rejects(
    runtime.run('m', async () => models[0]!.bytes, wrong),
    (e: unknown) => isPlumbError(e, 'INFERENCE_FAILED') && /model m/.test(e.shortMessage),
  );
  await runtime.stop();
});
