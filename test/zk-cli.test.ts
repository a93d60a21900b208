/**
 * zk mode through the `plumb` command (`run()` in-process): push --zk with calibration and a
 * supplied ptau, infer --mode zk, verify (local data directory and --node), export-verifier and
 * vkey, and the clear errors: unsupported ops, missing or too-small ptau, zk mode on a plain
 * model, a tampered receipt, a receipt whose model has no registered key.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Server, serve } from '../src/api/serve.ts';
import type { Receipt } from '../src/core/receipt.ts';
import { FIELD_PRIME } from '../src/proof/zk/circuit.ts';
import { writeDevPtau } from '../src/proof/zk/ptau.ts';
import { ensurePtau, releaseZk } from '../src/proof/zk/setup.ts';
import { buildMlp, buildUnprovable } from './fixtures/onnx-builder.ts';
import { type CliResult, runPlumb } from './helpers/cli.ts';
import { createTestNode, type TestNode } from './helpers/node.ts';

const corpus = new URL('../../shared/corpus/ezkl/', import.meta.url).pathname;
/** A model no circuit can prove (random ops). */
const unprovable = buildUnprovable();
const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
const work = mkdtempSync(join(tmpdir(), 'plumb-zk-cli-'));
const dataDir = join(work, 'data');
const model = join(corpus, '1l_mlp/network.onnx');
const input = join(corpus, '1l_mlp/input.json');
after(async () => {
  await releaseZk(); // the curve threads of ptau generation in this process, if any
  rmSync(work, { recursive: true, force: true });
});

const plumb = (...argv: string[]) =>
  runPlumb(
    [...argv, ...(argv.includes('--node') || argv.includes('--data-dir') ? [] : ['--data-dir', dataDir])],
    work,
    { PLUMB_ZK_PTAU_DIR: ptauDir },
  );

function lastError(r: CliResult): string {
  const lines = r.stderr.trimEnd().split('\n');
  return lines[lines.length - 1]!;
}

describe('plumb with --zk', { timeout: 120_000 }, () => {
  test('model push --zk --calibrate prints stages, constraints, times, the dev warning and the error', async () => {
    const r = await plumb('model', 'push', model, '--name', 'acme/mlp', '--zk', '--calibrate', input);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /zk setup: compile: /);
    assert.match(r.stderr, /zk setup: ptau: .*powers-of-tau/);
    assert.match(r.stderr, /zk setup: zkey: /);
    assert.match(r.stdout, /zk\s+Groth16 \(bn128\), \d+ constraints, domain 2\^\d+/);
    assert.match(r.stdout, /setup\s+compile \d+\.\d s, ptau \d+\.\d s, zkey \d+\.\d s/);
    assert.match(r.stdout, /error\s+max \|circuit - onnxruntime\| = [0-9.e-]+ over 4 outputs/);
    assert.match(r.stdout, /WARNING\s+development setup only/);
    const again = await plumb('model', 'push', model, '--name', 'acme/mlp', '--zk');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /reused the stored setup/);
  });

  test('infer --mode zk writes a receipt with its proof, and verify checks it', async () => {
    const r = await plumb('infer', 'acme/mlp', '--input', input, '--mode', 'zk', '--out', 'zk.json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mode zk, signed by 0x/);
    assert.match(r.stdout, /proof groth16 \(bn128\), 7 public signals, verification key baf/);
    const v = await plumb('verify', 'zk.json');
    assert.equal(v.code, 0, v.stderr);
    for (const check of ['zkKey', 'zkInputs', 'zkOutputs', 'zkProof'])
      assert.match(v.stdout, new RegExp(`ok   ${check}: `));
    assert.match(v.stdout, /receipt verified/);
  });

  test('verify fails a tampered zk receipt naming the check, and one whose model has no key here', async () => {
    const receipt = JSON.parse(readFileSync(join(work, 'zk.json'), 'utf8')) as Receipt;
    const zk = receipt.evidence.zk!;
    zk.publicSignals[0] = ((BigInt(zk.publicSignals[0]!) + 1n) % FIELD_PRIME).toString();
    writeFileSync(join(work, 'tampered.json'), JSON.stringify(receipt));
    const t = await plumb('verify', 'tampered.json');
    assert.equal(t.code, 1);
    assert.match(t.stdout, /FAIL zkOutputs: output "output" element 0/);
    assert.match(lastError(t), /^plumb: receipt does not verify: output "output" element 0/);

    const elsewhere = await plumb('verify', 'zk.json', '--data-dir', join(work, 'empty'));
    assert.equal(elsewhere.code, 1);
    assert.match(
      elsewhere.stdout,
      /FAIL zkKey: .*no verification key is registered for model baf\w+ in the local data directory/,
    );
  });

  test('an unsupported model is refused at push --zk listing its ops by node; without --zk it pushes', async () => {
    const random = join(work, 'random.onnx');
    writeFileSync(random, unprovable);
    const r = await plumb('model', 'push', random, '--name', 'acme/random', '--zk');
    assert.equal(r.code, 1);
    assert.match(
      lastError(r),
      /^plumb: model cannot be proven in zk mode: unsupported ops: RandomNormalLike, RandomUniformLike - unsupported: RandomUniformLike at node "noise_u" unsupported: RandomNormalLike at node "noise_n"/,
    );
    const ls = await plumb('model', 'ls');
    assert.doesNotMatch(ls.stdout, /acme\/random/);
    const plain = await plumb('model', 'push', random, '--name', 'acme/random');
    assert.equal(plain.code, 0, plain.stderr);
    writeFileSync(
      join(work, 'x.json'),
      JSON.stringify({ x: { dtype: 'float32', shape: [1, 3], data: [1, 2, 3] } }),
    );
    const z = await plumb('infer', 'acme/random', '--input', 'x.json', '--mode', 'zk');
    assert.equal(z.code, 1);
    assert.match(lastError(z), /no zk setup: it was pushed without --zk - Push it again with --zk/);
  });

  test('--ptau: a missing file, a non-ptau and a too-small ceremony are clear errors; a good one is noted as user-supplied', async () => {
    const small = buildMlp({ sizes: [3, 4], seed: 31 });
    writeFileSync(join(work, 'small.onnx'), small.bytes);
    const pushSmall = (ptau: string) =>
      plumb('model', 'push', 'small.onnx', '--name', 'acme/small', '--zk', '--ptau', ptau);
    const missing = await pushSmall('nope.ptau');
    assert.equal(missing.code, 1);
    assert.match(lastError(missing), /cannot read nope\.ptau: no such file/);
    const notPtau = await pushSmall('small.onnx');
    assert.match(lastError(notPtau), /small\.onnx is not a usable powers-of-tau file/);
    await writeDevPtau(join(work, 'pot4.ptau'), 4);
    const tooSmall = await pushSmall('pot4.ptau');
    assert.equal(tooSmall.code, 1);
    assert.match(lastError(tooSmall), /has power 4 .*needs power \d+ or more/);
    const ls = await plumb('model', 'ls');
    assert.doesNotMatch(ls.stdout, /acme\/small/);
    // A "ceremony" file (here a cached development one standing in for it).
    copyFileSync(await ensurePtau(ptauDir, 8), join(work, 'ceremony.ptau'));
    const ok = await pushSmall('ceremony.ptau');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /zk setup: ptau: checking the supplied powers-of-tau/);
    assert.match(ok.stdout, /note\s+ptau user-supplied \(2\^\d+\); the phase-2 contribution is still local/);
    assert.doesNotMatch(ok.stdout, /WARNING/);
  });

  test('zk export-verifier writes a Solidity contract; zk vkey prints the key', async () => {
    const r = await plumb('zk', 'export-verifier', 'acme/mlp', '-o', 'Verifier.sol');
    assert.equal(r.code, 0, r.stderr);
    const sol = readFileSync(join(work, 'Verifier.sol'), 'utf8');
    assert.match(sol, /contract Groth16Verifier/);
    assert.match(sol, /function verifyProof\(/);
    const k = await plumb('zk', 'vkey', 'acme/mlp', '--json');
    assert.equal(k.code, 0, k.stderr);
    const info = JSON.parse(k.stdout) as {
      vkey: { protocol: string };
      vkeyCid: string;
      layout: { nPublic: number };
    };
    assert.equal(info.vkey.protocol, 'groth16');
    assert.equal(info.layout.nPublic, 7);
    const none = await plumb('zk', 'vkey', 'acme/random');
    assert.match(lastError(none), /no zk setup/);
  });
});

describe('plumb --node with zk', { timeout: 120_000 }, () => {
  let t: TestNode;
  let server: Server;
  before(async () => {
    t = await createTestNode({ zkPtauDir: ptauDir });
    server = await serve(t.node);
  });
  after(async () => {
    await server.close();
    await t.stop();
  });

  test('push --zk, infer --mode zk and verify against a running node', async () => {
    const push = await plumb('model', 'push', model, '--name', 'acme/mlp', '--zk', '--node', server.url);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stderr, /zk setup: zkey: /);
    const r = await plumb(
      'infer',
      'acme/mlp',
      '--input',
      input,
      '--mode',
      'zk',
      '--out',
      'remote.json',
      '--node',
      server.url,
    );
    assert.equal(r.code, 0, r.stderr);
    const v = await plumb('verify', 'remote.json', '--node', server.url);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /ok {3}zkProof: /);
    const sol = await plumb('zk', 'export-verifier', 'acme/mlp', '-o', 'Remote.sol', '--node', server.url);
    assert.equal(sol.code, 0, sol.stderr);
    assert.match(readFileSync(join(work, 'Remote.sol'), 'utf8'), /verifyProof/);
  });
});
