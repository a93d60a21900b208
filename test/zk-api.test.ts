/**
 * zk mode end to end over the HTTP API (in-process `app.request()`) and the SDK: push with zk
 * (streamed setup progress), infer mode zk, verify on the node and offline, every tampering
 * rejected naming its check, bad input answered clearly while the node keeps serving, and
 * `stop()` leaving no worker process behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Receipt } from '../src/core/receipt.ts';
import { FIELD_PRIME } from '../src/proof/zk/circuit.ts';
import { writeDevPtau } from '../src/proof/zk/ptau.ts';
import {
  createClient,
  exportVerifier,
  getZkInfo,
  infer,
  inProcess,
  pushModel,
  uploadBlob,
  verifyReceipt,
  type ZkInfo,
} from '../src/sdk/index.ts';
import { buildMlp, buildUnprovable } from './fixtures/onnx-builder.ts';
import { createTestNode, type TestNode } from './helpers/node.ts';

const corpus = new URL('../../shared/corpus/ezkl/', import.meta.url).pathname;
const mlpBytes = readFileSync(join(corpus, '1l_mlp/network.onnx'));
const mlpInput = JSON.parse(readFileSync(join(corpus, '1l_mlp/input.json'), 'utf8')) as unknown;
// Another model with the same input and output sizes (3 -> 4).
const other = buildMlp({ sizes: [3, 4], seed: 11 });
const otherInputs = { input: { dtype: 'float32', shape: [1, 3], data: [0.5, -1.25, 2] } };
/** A model no circuit can prove (random ops). */
const unprovable = buildUnprovable();
const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
const work = mkdtempSync(join(tmpdir(), 'plumb-zk-api-'));

let t: TestNode;
let client: ReturnType<typeof createClient>;
let mlpCid: string;
let key: ZkInfo;
let otherKey: ZkInfo;
let receipt: Receipt;
let otherReceipt: Receipt;

before(async () => {
  t = await createTestNode({ zkPtauDir: ptauDir });
  client = createClient({ transport: inProcess((r) => t.app.fetch(r)) });
});
after(async () => {
  await t.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Every file under the blob store (temp files included). */
function blobFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  return walk(join(t.dir, 'blobs')).sort();
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const bump = (s: string) => ((BigInt(s) + 1n) % FIELD_PRIME).toString();

async function failsAt(r: unknown, k: ZkInfo | undefined, check: string, pattern: RegExp) {
  const v = await verifyReceipt(r, { zk: k });
  assert.equal(v.valid, false, `${check} should fail`);
  const failed = v.checks.find((c) => !c.ok)!;
  assert.equal(failed.check, check, JSON.stringify(v.checks));
  assert.match(failed.message, pattern);
}

describe('zk over HTTP and the SDK', { timeout: 120_000 }, () => {
  test('push with zk streams the setup stages, stores the artifacts and links them to the model', async () => {
    const stages: string[] = [];
    let health = 0;
    const pushing = pushModel(client, {
      data: mlpBytes,
      repo: 'acme/mlp',
      zk: { calibrate: mlpInput, onProgress: (p) => stages.push(p.stage) },
    });
    // The node keeps serving while the setup runs (it runs on a worker process).
    let done = false;
    void pushing.finally(() => {
      done = true;
    });
    while (!done) {
      const started = performance.now();
      const res = await t.app.request('/health');
      assert.equal(res.status, 200);
      assert.ok(performance.now() - started < 500, 'health answers promptly during a setup');
      health++;
      await new Promise((r) => setTimeout(r, 50));
    }
    const result = await pushing;
    assert.ok(health > 3, `health answered ${health} times during the setup`);
    assert.deepEqual(stages, ['compile', 'ptau', 'zkey']);
    mlpCid = result.cid;
    assert.ok(result.zk);
    assert.equal(result.zk.reused, false);
    assert.ok(result.zk.layout.constraints > 0);
    assert.match(result.zk.layout.warning, /development/);
    assert.ok(result.zk.calibration && result.zk.calibration.maxAbsError < 0.01);
    for (const role of ['zk.circuit', 'zk.wasm', 'zk.zkey', 'zk.vkey', 'zk.layout'])
      assert.match(result.manifest.artifacts[role] ?? '', /^baf/, role);
    assert.equal(result.zk.layout.calibration?.maxAbsError, result.zk.calibration.maxAbsError);
    // Linked persistently: the model file shows them, and every artifact is a stored blob.
    const file = (await (await t.app.request(`/v1/files/${mlpCid}`)).json()) as {
      manifest: { artifacts: Record<string, string> };
    };
    assert.deepEqual(file.manifest.artifacts, result.manifest.artifacts);
    for (const cid of Object.values(file.manifest.artifacts)) assert.ok(await t.node.hub.blobs.has(cid));
    key = await getZkInfo(client, { ref: 'acme/mlp' });
    assert.equal(key.vkeyCid, result.manifest.artifacts['zk.vkey']);
    assert.equal(key.vkey['protocol'], 'groth16');
  });

  test('pushing the same model with zk again reuses its artifacts', async () => {
    const again = await pushModel(client, { data: mlpBytes, repo: 'acme/mlp2', zk: true });
    assert.equal(again.zk?.reused, true);
    assert.deepEqual(again.manifest.artifacts, key.artifacts);
  });

  test('two zk pushes of one new model at once run one setup; the second reuses it', async () => {
    const twin = buildMlp({ sizes: [3, 3], seed: 41 });
    const [a, b] = await Promise.all([
      pushModel(client, { data: twin.bytes, repo: 'acme/twin-a', zk: true }),
      pushModel(client, { data: twin.bytes, repo: 'acme/twin-b', zk: true }),
    ]);
    assert.deepEqual([a.zk?.reused, b.zk?.reused].sort(), [false, true]);
    assert.deepEqual(a.manifest.artifacts, b.manifest.artifacts);
    const info = (await (await t.app.request('/v1/node')).json()) as { zk: { concurrency: number } };
    assert.equal(info.zk.concurrency, 1);
  });

  test('infer mode zk answers the circuit outputs with a proof that verifies, on the node and offline', async () => {
    otherKey = await pushModel(client, { data: other.bytes, repo: 'acme/other', zk: true }).then(() =>
      getZkInfo(client, { ref: 'acme/other' }),
    );
    receipt = await infer(client, { model: 'acme/mlp', inputs: mlpInput, mode: 'zk' });
    otherReceipt = await infer(client, { model: 'acme/other', inputs: otherInputs, mode: 'zk' });
    assert.equal(receipt.mode, 'zk');
    assert.ok(receipt.inputs, 'a zk receipt carries its inputs');
    assert.equal(receipt.evidence.zk?.verificationKey, key.vkeyCid);
    assert.deepEqual(receipt.outputs['output']?.shape, [1, 4]);
    const values = receipt.outputs['output']!.data as number[];
    for (const v of values) assert.equal(v * 4096, Math.round(v * 4096), 'outputs are at 2^12');
    const onNode = (await (
      await t.app.request('/v1/verify', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ receipt }),
      })
    ).json()) as { valid: boolean; checks: { check: string; ok: boolean }[] };
    assert.equal(onNode.valid, true, JSON.stringify(onNode));
    assert.deepEqual(
      onNode.checks.map((c) => c.check),
      [
        'format',
        'modelCid',
        'inputHash',
        'outputHash',
        'signature',
        'zkKey',
        'zkSignals',
        'zkInputs',
        'zkOutputs',
        'zkProof',
      ],
    );
    const offline = await verifyReceipt(receipt, { zk: key });
    assert.equal(offline.valid, true, offline.reason);
    const resolved = await verifyReceipt(otherReceipt, {
      zk: (cid) => getZkInfo(client, { ref: cid }),
    });
    assert.equal(resolved.valid, true, resolved.reason);
  });

  test('two proofs at once queue behind the concurrency bound and both verify; health answers meanwhile', async () => {
    const proving = Promise.all([
      infer(client, { model: 'acme/mlp', inputs: mlpInput, mode: 'zk' }),
      infer(client, { model: 'acme/other', inputs: otherInputs, mode: 'zk' }),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    const load = t.node.zk.load;
    assert.ok(load.running <= 1, 'at most one proof at a time');
    const started = performance.now();
    assert.equal((await t.app.request('/health')).status, 200);
    assert.ok(performance.now() - started < 200, 'health answers promptly during proofs');
    const [a, b] = await proving;
    assert.equal((await verifyReceipt(a, { zk: key })).valid, true);
    assert.equal((await verifyReceipt(b, { zk: otherKey })).valid, true);
    assert.ok(t.node.zk.pids.length <= 1, 'default concurrency 1: one worker');
  });

  test('tampering is rejected, naming the check', async () => {
    const flippedOut = clone(receipt);
    flippedOut.evidence.zk!.publicSignals[0] = bump(flippedOut.evidence.zk!.publicSignals[0]!);
    await failsAt(flippedOut, key, 'zkOutputs', /output "output" element 0/);

    const changedOutput = clone(receipt);
    (changedOutput.outputs['output']!.data as number[])[0] = 0.5;
    await failsAt(changedOutput, key, 'outputHash', /outputs hash mismatch/);

    const inputAt = key.layout.inputs[0]!.publicOffset;
    const swappedIn = clone(receipt);
    swappedIn.evidence.zk!.publicSignals[inputAt] = bump(swappedIn.evidence.zk!.publicSignals[inputAt]!);
    await failsAt(swappedIn, key, 'zkInputs', /not input "input" element 0/);

    const swappedInputs = clone(receipt);
    (swappedInputs.inputs!['input']!.data as number[])[0] = 0.125;
    await failsAt(swappedInputs, key, 'inputHash', /inputs hash mismatch/);

    const foreign = clone(receipt);
    foreign.evidence.zk = clone(otherReceipt.evidence.zk!);
    await failsAt(foreign, key, 'zkKey', /the proof is for verification key .* registered .* is/);

    const foreignProof = clone(receipt);
    foreignProof.evidence.zk!.proof = clone(otherReceipt.evidence.zk!.proof);
    await failsAt(foreignProof, key, 'zkProof', /does not verify/);

    const truncated = clone(receipt);
    truncated.evidence.zk!.proof.pi_a = truncated.evidence.zk!.proof.pi_a.slice(0, 2);
    await failsAt(truncated, key, 'zkProof', /malformed proof/);

    const garbage = clone(receipt);
    garbage.evidence.zk!.proof.pi_a = ['1', '2', '1'];
    await failsAt(garbage, key, 'zkProof', /malformed proof|does not verify/);

    await failsAt(receipt, otherKey, 'zkKey', /registered for model .*, not the receipt's model/);
    await failsAt(receipt, { ...otherKey, modelCid: mlpCid }, 'zkKey', /does not hash|proof is for/);
    await failsAt(receipt, { ...key, vkey: otherKey.vkey }, 'zkKey', /does not hash to its CID/);
    await failsAt(receipt, undefined, 'zkKey', /no verification key is registered .* --zk/);
  });

  test('a malformed proof sent to the node is answered clearly, and the node keeps serving', async () => {
    const bad = clone(receipt) as unknown as { evidence: { zk: { proof: { pi_a: unknown } } } };
    bad.evidence.zk.proof.pi_a = 'garbage';
    const res = await t.app.request('/v1/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ receipt: bad }),
    });
    assert.equal(res.status, 422);
    assert.match(((await res.json()) as { title: string }).title, /evidence\.zk\.proof\.pi_a/);
    const truncated = clone(receipt);
    truncated.evidence.zk!.proof.pi_c = [];
    const v = (await (
      await t.app.request('/v1/verify', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ receipt: truncated }),
      })
    ).json()) as { valid: boolean; reason: string };
    assert.equal(v.valid, false);
    assert.match(v.reason, /malformed proof/);
    assert.equal((await t.app.request('/health')).status, 200);
  });

  test('the verification key and a Solidity verifier are served per model', async () => {
    const info = (await (await t.app.request(`/v1/files/${mlpCid}/zk`)).json()) as ZkInfo;
    assert.equal(info.vkeyCid, key.vkeyCid);
    const sol = await exportVerifier(client, { ref: 'acme/mlp' });
    assert.match(sol, /contract \w+/);
    assert.match(sol, /function verifyProof\(/);
    assert.match(sol, /uint\[7\] calldata _pubSignals/);
    const spec = (await (await t.app.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    for (const p of ['/v1/blobs', '/v1/files/{cid}/zk', '/v1/files/{cid}/zk/verifier.sol'])
      assert.ok(spec.paths[p], p);
  });

  test('the input range: beyond the default 24 bits is refused naming the value; a 32-bit setup proves it', async () => {
    const wide = buildMlp({ sizes: [3, 2], seed: 77 });
    const big = { input: { dtype: 'float32', shape: [1, 3], data: [3000, -0.5, 1] } };
    await pushModel(client, { data: wide.bytes, repo: 'acme/narrow', zk: true });
    await assert.rejects(
      infer(client, { model: 'acme/narrow', inputs: big, mode: 'zk' }),
      (e: { code: string; shortMessage: string }) =>
        e.code === 'INVALID_INPUT' &&
        /element 0 is 3000, the circuit takes \|x\| < 2048/.test(e.shortMessage),
    );
    // One model, one verification key: another range for the same model is a conflict.
    await assert.rejects(
      pushModel(client, { data: wide.bytes, repo: 'acme/wide', zk: { inputBits: 32 } }),
      (e: { code: string }) => e.code === 'CONFLICT',
    );
    const wider = buildMlp({ sizes: [3, 2], seed: 78 });
    const pushed = await pushModel(client, { data: wider.bytes, repo: 'acme/wide', zk: { inputBits: 32 } });
    assert.equal(pushed.zk?.layout.bits, 32);
    const r = await infer(client, { model: 'acme/wide', inputs: big, mode: 'zk' });
    const check = await verifyReceipt(r, { zk: await getZkInfo(client, { ref: 'acme/wide' }) });
    assert.equal(check.valid, true, check.reason);
    const bad = await t.app.request('/v1/models?repo=acme/x&zk=true&inputBits=99', {
      method: 'POST',
      body: wide.bytes,
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /inputBits/);
  });

  test('zk mode on a model pushed without zk is refused with what to do', async () => {
    const plain = buildMlp({ sizes: [3, 2], seed: 5 });
    await pushModel(client, { data: plain.bytes, repo: 'acme/plain' });
    await assert.rejects(
      infer(client, { model: 'acme/plain', inputs: otherInputs, mode: 'zk' }),
      (e: { code: string; shortMessage: string; metaMessages: string[] }) =>
        e.code === 'INVALID_ARGUMENT' &&
        /no zk setup: it was pushed without --zk/.test(e.shortMessage) &&
        /--zk/.test(e.metaMessages.join(' ')),
    );
    await assert.rejects(getZkInfo(client, { ref: 'acme/plain' }), /no zk setup/);
    const signed = await infer(client, { model: 'acme/plain', inputs: otherInputs });
    assert.equal((await verifyReceipt(signed)).valid, true);
  });

  test('an unsupported model is refused at a zk push, listing the op, and nothing is recorded; a plain push works', async () => {
    const erf = unprovable;
    const before = t.node.hub.meta.counts();
    const blobs = blobFiles();
    await assert.rejects(
      pushModel(client, { data: erf, repo: 'acme/random', zk: true }),
      (e: { code: string; shortMessage: string; metaMessages: string[] }) =>
        e.code === 'INVALID_MODEL' &&
        /unsupported ops: RandomNormalLike, RandomUniformLike/.test(e.shortMessage) &&
        e.metaMessages.some((m) => /RandomUniformLike at node "noise_u"/.test(m)) &&
        e.metaMessages.some((m) => /RandomNormalLike at node "noise_n"/.test(m)),
    );
    assert.deepEqual(t.node.hub.meta.counts(), before);
    assert.deepEqual(blobFiles(), blobs, 'no blob left behind');
    const plain = await pushModel(client, { data: erf, repo: 'acme/random' });
    assert.equal(plain.zk, undefined);
  });

  test('a supplied ptau: garbage and too small are refused clearly, and nothing is recorded', async () => {
    const before = t.node.hub.meta.counts();
    await assert.rejects(
      pushModel(client, {
        data: other.bytes,
        repo: 'acme/p1',
        zk: { ptau: new TextEncoder().encode('not a ptau') },
      }),
      /not a usable powers-of-tau file: it does not start with "ptau"/,
    );
    const small = join(work, 'pot3.ptau');
    await writeDevPtau(small, 3);
    const uploaded = await uploadBlob(client, { data: readFileSync(small) });
    const fresh = buildMlp({ sizes: [3, 5], seed: 21 });
    const blobs = blobFiles();
    await assert.rejects(
      pushModel(client, { data: fresh.bytes, repo: 'acme/p2', zk: { ptau: { cid: uploaded.cid } } }),
      /has power 3 .*needs power \d+ or more/,
    );
    assert.deepEqual(blobFiles(), blobs, 'a failed setup leaves no blob behind');
    assert.deepEqual(t.node.hub.meta.counts(), before);
    assert.equal((await t.app.request('/health')).status, 200);
  });

  test('stop() ends the zk worker processes', async () => {
    const pids = t.node.zk.pids;
    assert.ok(pids.length > 0);
    await t.stop();
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});
