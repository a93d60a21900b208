/**
 * Every model of the ezkl example corpus (../shared/corpus/ezkl, see its README) end to end
 * through the HTTP API of one node: push the raw bytes, infer on the folder's input.json,
 * verify the receipt offline, and check the receipt's outputs against onnxruntime-node run
 * directly (outside Plumb) on the same input tensors.
 *
 * A model that cannot be pushed or run fails the test, unless it is listed in
 * `knownUnsupported` with the reason; a listed model is still checked to fail in onnxruntime
 * itself, and fails the test once it works, so the list cannot go stale.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compareTensors, type Tolerance } from '../src/core/compare.ts';
import { type Receipt, receiptOutputs, verifyReceipt } from '../src/core/receipt.ts';
import { type TensorMap, tensorMapFromJson, tensorValues } from '../src/core/tensor.ts';
import { createTestNode, pushBytes, requestJson, type TestNode } from './helpers/node.ts';
import { ort, ortLoadError, runDirect } from './helpers/ort.ts';

ort.env.logLevel = 'error';

const corpus = path.resolve(import.meta.dirname, '../../shared/corpus/ezkl');

/**
 * Models onnxruntime-node itself cannot load, by folder name. Only list a model after checking
 * that `ort.InferenceSession.create` fails on it; the test re-checks that on every run.
 */
const knownUnsupported: Record<string, string> = {
  decision_tree:
    'onnxruntime rejects the model: it applies MatMul to int8 tensors, which the ONNX MatMul ' +
    'type constraints do not allow ("Type \'tensor(int8)\' of input parameter (onnx::MatMul_11) of operator (MatMul) ... is invalid")',
};

/**
 * Plumb and the reference run are the same engine on the same float32 tensors, so outputs
 * should agree to the last bits; the margin only absorbs differences between session options.
 */
const tight: Tolerance = { rtol: 1e-6, atol: 1e-7 };

type PushBody = {
  cid: string;
  repo: string;
  version: string;
  manifest: { inputs: { name: string; dtype: string }[] };
};
type Problem = { code?: string; title?: string; detail?: string };
type EzklInput = { input_data: unknown[][]; input_shapes?: number[][] };

function describeProblem(body: unknown): string {
  const p = body as Problem | null;
  return p && typeof p === 'object'
    ? `${p.code ?? '?'}: ${p.title ?? ''}${p.detail ? ` (${p.detail})` : ''}`
    : String(body);
}

function modelFolders(): string[] {
  return fs
    .readdirSync(corpus, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** The tensors Plumb fed must hold the values of input.json, in the model's input order. */
function assertInputsMatchFile(doc: EzklInput, names: readonly string[], inputs: TensorMap): void {
  assert.equal(Object.keys(inputs).length, doc.input_data.length, 'one input tensor per input_data array');
  doc.input_data.forEach((values, i) => {
    const name = names[i]!;
    const t = inputs[name];
    assert.ok(t, `input "${name}" is in the receipt`);
    const flat = (values as unknown[]).flat(Number.POSITIVE_INFINITY).map(Number);
    const got = tensorValues(t);
    assert.equal(got.length, flat.length, `input "${name}" has ${flat.length} values`);
    const round = t.dtype === 'float32' ? Math.fround : (v: number) => v;
    for (let j = 0; j < flat.length; j++)
      if (got[j] !== round(flat[j]!))
        assert.fail(`input "${name}"[${j}] is ${got[j]}, input.json has ${flat[j]}`);
  });
}

const present = fs.existsSync(corpus);

describe('ezkl corpus: push, infer over HTTP, verify, compare with onnxruntime', {
  skip: present ? false : `corpus not found at ${corpus}`,
}, () => {
  const folders = present ? modelFolders() : [];
  const passed: string[] = [];
  const skipped: string[] = [];
  let tn: TestNode;

  before(async () => {
    tn = await createTestNode();
  });
  after(async () => {
    await tn?.stop();
  });

  test('the corpus has models', () => {
    assert.ok(folders.length > 0, `no model folders in ${corpus}`);
    for (const name of Object.keys(knownUnsupported))
      assert.ok(folders.includes(name), `knownUnsupported lists "${name}", which is not in the corpus`);
  });

  for (const name of folders) {
    test(name, async (t) => {
      const dir = path.join(corpus, name);
      const bytes = new Uint8Array(fs.readFileSync(path.join(dir, 'network.onnx')));
      const doc = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8')) as EzklInput;
      const repo = `ezkl/${name}`;
      const known = knownUnsupported[name];

      const push = await pushBytes<PushBody>(tn.app, repo, bytes);
      if (known !== undefined) {
        assert.notEqual(
          push.status,
          201,
          `${name} is listed in knownUnsupported but now pushes: remove it from the list`,
        );
        const ortError = await ortLoadError(bytes);
        assert.ok(
          ortError,
          `${name} is listed in knownUnsupported but onnxruntime loads it: remove it from the list`,
        );
        t.diagnostic(`skipped ${name}: ${known}`);
        t.diagnostic(`  push: ${push.status} ${describeProblem(push.body)}`);
        skipped.push(`${name}: ${known}`);
        t.skip(known);
        return;
      }
      assert.equal(push.status, 201, `push ${repo}: ${push.status} ${describeProblem(push.body)}`);
      const { cid, manifest } = push.body;

      const res = await requestJson<Receipt>(tn.app, 'POST', '/v1/infer', {
        model: repo,
        inputs: doc,
        includeInputs: true,
      });
      assert.equal(res.status, 200, `infer ${repo}: ${res.status} ${describeProblem(res.body)}`);
      const receipt = res.body;

      const verdict = verifyReceipt(receipt);
      assert.equal(verdict.valid, true, `receipt does not verify: ${verdict.reason}`);
      assert.equal(receipt.modelCid, cid);
      assert.equal(receipt.model?.repo, repo);
      assert.ok(receipt.inputs, 'the receipt carries its inputs');

      const inputs = tensorMapFromJson(receipt.inputs, 'receipt.inputs');
      assertInputsMatchFile(
        doc,
        manifest.inputs.map((i) => i.name),
        inputs,
      );

      const direct = await runDirect(bytes, inputs);
      if (!direct.ok)
        assert.fail(
          `Plumb ran ${name} but onnxruntime run directly fails (${direct.stage}): ${direct.error}`,
        );
      const outputs = receiptOutputs(receipt);
      const cmp = compareTensors(direct.outputs, outputs, tight);
      assert.ok(cmp.ok, `${name}: outputs differ from onnxruntime's: ${cmp.ok ? '' : cmp.reason}`);
      const shapes = Object.entries(outputs).map(([k, v]) => `${k}: ${v.dtype}[${v.shape.join(',')}]`);
      t.diagnostic(`${name}: ${shapes.join(', ')}; max |diff| vs onnxruntime ${cmp.maxAbsDiff}`);
      passed.push(name);
    });
  }

  test('summary', (t) => {
    t.diagnostic(
      `ezkl: ${passed.length} passed, ${skipped.length} skipped (known unsupported) of ${folders.length}`,
    );
    for (const s of skipped) t.diagnostic(`  skipped ${s}`);
  });
});
