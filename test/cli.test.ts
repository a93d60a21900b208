/**
 * The `plumb` command end to end, through `run()` (argv in, exit code and output out): on an
 * in-process node on a data directory, and against a running node with --node.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Server, serve } from '../src/api/serve.ts';
import { run } from '../src/cli/main.ts';
import { cidOf } from '../src/core/cid.ts';
import { encodeTensorProto } from '../src/core/onnx/model.ts';
import { tensorToProto } from '../src/core/onnx/tensor-proto.ts';
import { tensorFromJson } from '../src/core/tensor.ts';
import { buildMlp, buildModel } from './fixtures/onnx-builder.ts';
import { type CliResult, runPlumb } from './helpers/cli.ts';
import { createTestNode, type TestNode } from './helpers/node.ts';

const corpus = new URL('../../shared/corpus/ezkl/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'plumb-cli-'));
const dataDir = join(work, 'data');
after(() => rmSync(work, { recursive: true, force: true }));

const plumb = (...argv: string[]) =>
  runPlumb([...argv, ...(argv.includes('--node') ? [] : ['--data-dir', dataDir])], work);

function expectError(r: CliResult, pattern: RegExp, code = 1) {
  assert.equal(r.code, code, r.stdout + r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line on stderr: ${r.stderr}`);
  const first = r.stderr.split('\n')[0]!;
  assert.match(first, /^plumb: /);
  assert.match(first, pattern);
}

const receiptPath = join(work, 'receipt.json');

describe('local data directory', () => {
  test('model push prints the CID, version and manifest', async () => {
    const r = await plumb(
      'model',
      'push',
      join(corpus, '1l_mlp/network.onnx'),
      '--name',
      'acme/mlp',
      '--version',
      '1.2.0',
    );
    assert.equal(r.code, 0, r.stderr);
    const cid = cidOf(readFileSync(join(corpus, '1l_mlp/network.onnx')));
    assert.match(r.stdout, /pushed acme\/mlp@1\.2\.0/);
    assert.match(r.stdout, new RegExp(`cid\\s+${cid}`));
    assert.match(r.stdout, /input\s+input: float32 \[batch_size, 3\]/);
    assert.match(r.stdout, /ops\s+Gemm, Relu/);
  });

  test('model ls, show and pull (--json), and the pulled bytes have the CID', async () => {
    const ls = JSON.parse((await plumb('model', 'ls', '--json')).stdout) as {
      name: string;
      latest: string;
    }[];
    assert.deepEqual(
      ls.map((r) => [r.name, r.latest]),
      [['acme/mlp', '1.2.0']],
    );
    const show = JSON.parse((await plumb('model', 'show', 'acme/mlp@1.2.0', '--json')).stdout) as {
      cid: string;
    };
    const byCid = JSON.parse((await plumb('model', 'show', show.cid, '--json')).stdout) as { cid: string };
    assert.equal(byCid.cid, show.cid);
    const out = join(work, 'pulled.onnx');
    const pull = await plumb('model', 'pull', show.cid, '-o', out);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(cidOf(readFileSync(out)), show.cid);
  });

  test('infer on an ezkl input.json writes a receipt that verifies, also re-executed', async () => {
    const r = await plumb(
      'infer',
      'acme/mlp',
      '--input',
      join(corpus, '1l_mlp/input.json'),
      '--out',
      receiptPath,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^output: float32 \[1, 4\]/m);
    const v = await plumb('verify', receiptPath, '--reexecute');
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /ok {3}signature/);
    assert.match(v.stdout, /ok {3}reexecute: .* outputs match/);
  });

  test('infer takes ONNX TensorProto .pb inputs', async () => {
    const pb = join(work, 'input_0.pb');
    const t = tensorFromJson({ dtype: 'float32', shape: [1, 3], data: [1.5417295, 0.5346153, 1.2172532] });
    writeFileSync(pb, encodeTensorProto(tensorToProto(t)));
    const r = await plumb('infer', 'acme/mlp', '--input', pb, '--json');
    assert.equal(r.code, 0, r.stderr);
    const fromPb = JSON.parse(r.stdout) as { inputHash: string };
    const fromJson = JSON.parse(readFileSync(receiptPath, 'utf8')) as { inputHash: string };
    assert.equal(fromPb.inputHash, fromJson.inputHash);
  });

  // biome-ignore lint/suspicious/noExplicitAny: tampering pokes at arbitrary fields of the receipt JSON
  const tamper = (name: string, edit: (r: any) => void, pattern: RegExp) =>
    test(`verify fails on a tampered ${name}`, async () => {
      const receipt = JSON.parse(readFileSync(receiptPath, 'utf8'));
      edit(receipt);
      const path = join(work, `tampered-${name.replace(/\W/g, '-')}.json`);
      writeFileSync(path, JSON.stringify(receipt));
      expectError(await plumb('verify', path), pattern);
    });
  tamper('output value', (r) => (r.outputs.output.data[1] += 0.001), /outputs hash mismatch/);
  tamper('input value', (r) => (r.inputs.input.data[0] = 0), /inputs hash mismatch/);
  tamper('output hash', (r) => (r.outputHash = `0x${'ab'.repeat(32)}`), /outputs hash mismatch/);
  tamper(
    'model CID',
    (r) => (r.modelCid = 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4'),
    /signature check failed/,
  );
  tamper(
    'signature',
    (r) =>
      (r.evidence.signature = `${r.evidence.signature.slice(0, 10)}${r.evidence.signature[10] === 'a' ? 'b' : 'a'}${r.evidence.signature.slice(11)}`),
    /signature/,
  );
  tamper('timestamp', (r) => (r.timestamp += 1), /signature check failed/);
  tamper(
    'node address',
    (r) => (r.node = '0x0000000000000000000000000000000000000001'),
    /signature check failed/,
  );
  tamper('structure', (r) => delete r.evidence, /malformed receipt: evidence/);

  test('bad input exits non-zero with one readable line', async () => {
    const bad = (name: string, content: string | Uint8Array) => {
      const p = join(work, name);
      writeFileSync(p, content);
      return p;
    };
    expectError(await plumb('model', 'push', bad('empty.onnx', ''), '--name', 'x/y'), /the file is empty/);
    expectError(
      await plumb('model', 'push', bad('rand.onnx', new Uint8Array(300).fill(0xff)), '--name', 'x/y'),
      /not a valid ONNX model|onnxruntime/,
    );
    expectError(await plumb('model', 'push', join(work, 'missing.onnx'), '--name', 'x/y'), /no such file/);
    expectError(
      await plumb('infer', 'acme/nope', '--input', join(corpus, '1l_mlp/input.json')),
      /no model named acme\/nope/,
    );
    expectError(
      await plumb('infer', 'acme/mlp', '--input', bad('bad.json', '{"input_data": [[1, "x", 3]]}')),
      /input_data\[0\]\.data\[1\]: expected a number/,
    );
    expectError(
      await plumb('infer', 'acme/mlp', '--input', bad('short.json', '{"input_data": [[1, 2]]}')),
      /cannot tell the shape|needs 3/,
    );
    expectError(await plumb('verify', bad('notjson.json', '{')), /not valid JSON/);
    expectError(await plumb('model', 'pull', 'not-a-cid', '-o', join(work, 'x')), /CID|model reference/);
    expectError(await plumb('infer'), /missing model/, 2);
    expectError(await plumb('model', 'fly'), /unknown command "model fly"/, 2);
    expectError(await plumb('infer', 'acme/mlp', '--bogus'), /bogus/, 2);
    const ls = JSON.parse((await plumb('model', 'ls', '--json')).stdout) as unknown[];
    assert.equal(ls.length, 1, 'nothing half-written: no repository was created by the failures');
  });
});

describe('against a running node (--node)', () => {
  let t: TestNode;
  let server: Server;
  before(async () => {
    t = await createTestNode();
    server = await serve(t.node);
  });
  after(async () => {
    await server.close();
    await t.stop();
  });

  test('push, infer, verify over HTTP with progress-free --json output', async () => {
    const mlp = buildMlp({ sizes: [3, 5, 2], seed: 3 });
    const file = join(work, 'remote.onnx');
    writeFileSync(file, mlp.bytes);
    const push = JSON.parse(
      (await plumb('model', 'push', file, '--name', 'remote/mlp', '--node', server.url, '--json')).stdout,
    ) as { cid: string };
    assert.equal(push.cid, cidOf(mlp.bytes));
    const input = join(work, 'remote-input.json');
    writeFileSync(input, JSON.stringify({ input: { dtype: 'float32', shape: [1, 3], data: [1, 2, 3] } }));
    const out = join(work, 'remote-receipt.json');
    const r = await plumb('infer', 'remote/mlp', '--input', input, '--out', out, '--node', server.url);
    assert.equal(r.code, 0, r.stderr);
    const receipt = JSON.parse(readFileSync(out, 'utf8')) as {
      node: string;
      outputs: { output: { data: number[] } };
    };
    assert.equal(receipt.node, t.node.key.address);
    const expected = mlp.forward(Float32Array.from([1, 2, 3]));
    for (const [i, v] of receipt.outputs.output.data.entries()) assert.ok(Math.abs(v - expected[i]!) < 1e-5);
    // Re-execute locally: the model is fetched by CID from the node into the local store.
    const v = await plumb(
      'verify',
      out,
      '--reexecute',
      '--node',
      server.url,
      '--data-dir',
      join(work, 'verifier'),
    );
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /reexecute: .* outputs match/);
  });

  test('an unreachable node is a clear error', async () => {
    expectError(
      await plumb('model', 'ls', '--node', 'http://127.0.0.1:9'),
      /cannot reach the Plumb node at http:\/\/127\.0\.0\.1:9/,
    );
  });
});

test('several plumb processes on one data directory at once all succeed', async () => {
  const { spawn } = await import('node:child_process');
  const shared = join(work, 'shared-data');
  const bin = new URL('../src/cli/bin.ts', import.meta.url).pathname;
  const runOne = (i: number) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const file = join(work, `concurrent-${i}.onnx`);
      writeFileSync(file, buildMlp({ sizes: [2, 3], seed: 100 + i }).bytes);
      const child = spawn(process.execPath, [
        bin,
        'model',
        'push',
        file,
        '--name',
        `many/m${i}`,
        '--data-dir',
        shared,
      ]);
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('close', (code) => resolve({ code, err }));
    });
  const results = await Promise.all([0, 1, 2, 3].map(runOne));
  for (const r of results) assert.equal(r.code, 0, r.err);
  const ls = await run({
    argv: ['model', 'ls', '--json', '--data-dir', shared],
    cwd: work,
    env: {},
    stdout: { write: (s) => void writeFileSync(join(work, 'ls.json'), s) },
    stderr: { write: () => {} },
  });
  assert.equal(ls, 0);
  assert.equal((JSON.parse(readFileSync(join(work, 'ls.json'), 'utf8')) as unknown[]).length, 4);
});

test('model zk-report says what can be proven, before any work', async () => {
  const ok = await plumb('model', 'zk-report', join(corpus, '1l_mlp/network.onnx'), '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { provable: boolean }).provable, true);
  // Random sampling can never be proven: its output is not a function of the input.
  const random = join(work, 'random.onnx');
  writeFileSync(
    random,
    buildModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
      nodes: [
        { op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['h'] },
        { op: 'RandomUniformLike', name: 'noise', inputs: ['h'], outputs: ['y'] },
      ],
    }),
  );
  const no = await plumb('model', 'zk-report', random);
  assert.equal(no.code, 0);
  assert.match(no.stdout, /cannot be proven yet/);
  assert.match(no.stdout, /unsupported {2}RandomUniformLike at node "noise"/);
  expectError(await plumb('model', 'zk-report', join(work, 'nothing.onnx')), /no such file/);
});
