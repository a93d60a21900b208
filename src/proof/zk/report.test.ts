import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildMlp, buildModel } from '../../../test/fixtures/onnx-builder.ts';
import { zkReport } from './report.ts';

test('a supported model is provable, with a constraint estimate and its ptau size', () => {
  const r = zkReport(buildMlp({ sizes: [4, 8, 3], seed: 1 }).bytes);
  assert.equal(r.provable, true);
  assert.deepEqual(r.unsupported, []);
  assert.ok(r.constraints! > 0);
  assert.ok(2 ** r.ptauPower! > r.constraints!);
  assert.deepEqual(r.ops, { Gemm: 2, Relu: 1 });
});

test('every unsupported node is listed by op and node name', () => {
  const bytes = buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
    outputs: [{ name: 'z', dtype: 'float32', shape: [1, 2] }],
    nodes: [
      { op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] },
      { op: 'RandomNormalLike', name: 'noise', inputs: ['y'], outputs: ['z'] },
    ],
  });
  const r = zkReport(bytes);
  assert.equal(r.provable, false);
  assert.deepEqual(r.unsupported, [{ op: 'RandomNormalLike', node: 'noise' }]);
  assert.match(r.reason!, /RandomNormalLike/);
});

test('the corpus LSTM is provable, with a constraint estimate', () => {
  const r = zkReport(
    readFileSync(new URL('../../../../shared/corpus/ezkl/lstm/network.onnx', import.meta.url)),
  );
  assert.equal(r.provable, true);
  assert.deepEqual(r.unsupported, []);
  assert.ok(r.constraints! > 0 && r.ptauPower! > 0);
});

test('a model too large to set up is refused with its size, before any work', () => {
  // ezkl multihead_attention: every op lowers, but ~4.7M constraints need a 2^23 ptau.
  const r = zkReport(
    readFileSync(new URL('../../../../shared/corpus/ezkl/multihead_attention/network.onnx', import.meta.url)),
  );
  assert.equal(r.provable, false);
  assert.deepEqual(r.unsupported, []);
  assert.ok(r.ptauPower! > 20 && r.constraints! > 2 ** 20);
  assert.match(
    r.reason!,
    /too large to set up: ~[\d,]+ constraints need a 2\^2\d powers-of-tau; setups go up to 2\^20/,
  );
});
