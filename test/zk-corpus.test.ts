/**
 * Models of the ezkl corpus proven end to end with Groth16 in the default suite: compile to a
 * circuit, set up, prove on the folder's input.json, verify; the circuit's outputs equal the
 * exact executor's integers and stay within the executor's reported error bound of onnxruntime's
 * float outputs; tampering is rejected.
 * The rest of the corpus is covered by `npm run bench:zk`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIELD_PRIME } from '../src/proof/zk/circuit.ts';
import { verify } from '../src/proof/zk/prove.ts';
import { releaseZk } from '../src/proof/zk/setup.ts';
import { ezklModels, loadEzklCase } from './helpers/ezkl.ts';
import { runZkCase, type ZkCaseResult } from './helpers/zk-case.ts';

/** Small enough for CI (each sets up and proves in a second or two). */
const proven = [
  '1l_mlp',
  '1l_conv',
  '2l_relu_fc',
  '1l_max_pool',
  '1l_relu',
  '1l_leakyrelu',
  '1l_batch_norm',
  '1l_div',
  '1l_flatten',
  '1l_identity',
  '1l_linear',
  '1l_reshape',
  '2l_relu_small',
  '1l_average',
  '1l_pad',
  '1l_concat',
  '1l_slice',
  '1l_upsample',
  '1l_downsample',
  'linear_regression',
  'sklearn_mlp',
  'rnn',
  'gru',
  'lstm',
  // nonlinear activations (piecewise approximations with a reported error)
  '1l_sigmoid',
  '1l_tanh',
  '1l_softmax',
  '1l_erf',
  '2l_relu_sigmoid_small',
  'hard_swish',
];

/** onnxruntime's own float32 rounding, on top of the executor's reported bound. */
const FLOAT_SLACK = 1e-5;

const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
const present = ezklModels().length > 0;

describe('ezkl corpus proven with Groth16', { skip: present ? false : 'ezkl corpus not found' }, () => {
  const work = mkdtempSync(join(tmpdir(), 'plumb-zk-corpus-'));
  const results = new Map<string, ZkCaseResult>();
  before(async () => {
    for (const name of proven)
      results.set(name, await runZkCase(loadEzklCase(name), { workRoot: work, ptauDir }));
  });
  after(async () => {
    await releaseZk();
    rmSync(work, { recursive: true, force: true });
  });

  for (const name of proven)
    it(name, async (t) => {
      const r = results.get(name)!;
      const a = r.artifacts;
      t.diagnostic(
        `${name}: ${a.constraints} constraints, setup ${((a.timings.compileMs + a.timings.ptauMs + a.timings.zkeyMs) / 1000).toFixed(1)} s, ` +
          `prove ${r.proof.proveMs.toFixed(0)} ms, verify ${r.verifyMs.toFixed(0)} ms, max |err| vs onnxruntime ${r.maxAbsError.toExponential(2)} (bound ${r.errorBound.bound?.toExponential(2)})`,
      );
      assert.equal(r.verified, true, 'the proof verifies');
      assert.deepEqual(r.exactMismatches, [], 'circuit outputs equal the exact executor');
      const { bound, unknownOps } = r.errorBound;
      assert.deepEqual(unknownOps, [], 'every op of a proven corpus model has an error rule');
      assert.ok(
        bound !== undefined && r.maxAbsError <= bound + FLOAT_SLACK,
        `error vs onnxruntime ${r.maxAbsError} > bound ${bound}`,
      );
      const flipped = r.proof.publicSignals.map((v, i) =>
        i === 0 ? ((BigInt(v) + 1n) % FIELD_PRIME).toString() : v,
      );
      assert.equal(
        await verify(a.vkey, r.proof.proof, flipped, a.circuit),
        false,
        'a flipped output is rejected',
      );
    });

  it('rejects a proof under another model with the same public layout, and a swapped input', async () => {
    // 1l_relu and 2l_relu_small: both map [1, 4]? Find any two with equal nPublic.
    const byPublic = new Map<number, string[]>();
    for (const [name, r] of results)
      byPublic.set(r.artifacts.vkey.nPublic, [...(byPublic.get(r.artifacts.vkey.nPublic) ?? []), name]);
    const pair = [...byPublic.values()].find((names) => names.length >= 2);
    assert.ok(pair, 'two proven models share a public layout');
    const [a, b] = pair.map((n) => results.get(n)!) as [ZkCaseResult, ZkCaseResult];
    assert.equal(
      await verify(b.artifacts.vkey, a.proof.proof, a.proof.publicSignals, b.artifacts.circuit),
      false,
    );
    // a's proof with b's public signals (different input and output)
    assert.equal(
      await verify(a.artifacts.vkey, a.proof.proof, b.proof.publicSignals, a.artifacts.circuit),
      false,
    );
  });
});
