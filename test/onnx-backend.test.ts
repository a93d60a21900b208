/**
 * The ONNX backend conformance cases (../shared/corpus/onnx-backend/{simple,pytorch-converted,
 * pytorch-operator}, see the corpus README) through Plumb: push each model into a node, decode
 * the test data sets' TensorProto inputs, infer through the node (manifest input checks,
 * onnxruntime via Plumb's runtime, signed receipt), and compare the outputs with the expected
 * ones under the ONNX backend tolerances.
 *
 * A case is skipped, with the reason printed, only when it cannot run for a reason outside
 * Plumb: onnxruntime-node itself (run directly, without Plumb) cannot create a session or run
 * it, or the model takes or returns values that are not tensors, which Plumb does not carry.
 * Everything else that goes wrong fails the case, and so does any output mismatch.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compareTensors, onnxTolerance } from '../src/core/compare.ts';
import { errorMessage } from '../src/core/errors.ts';
import type { Manifest } from '../src/core/manifest.ts';
import { extractManifest } from '../src/core/onnx/manifest.ts';
import { decodeNamedTensorProto } from '../src/core/onnx/tensor-proto.ts';
import { verifyReceipt } from '../src/core/receipt.ts';
import { isDType, type TensorMap, tensorMapToJson } from '../src/core/tensor.ts';
import { infer } from '../src/node/infer.ts';
import { pushModel } from '../src/node/push-model.ts';
import { createTestNode, type TestNode } from './helpers/node.ts';
import { ort, runDirect } from './helpers/ort.ts';

// Legacy opset warnings would bury the report; failures are reported by the tests themselves.
ort.env.logLevel = 'fatal';

const root = path.resolve(import.meta.dirname, '../../shared/corpus/onnx-backend');
const expectedSuites = ['simple', 'pytorch-converted', 'pytorch-operator'];

type Case = { suite: string; name: string; dir: string };
type DataSet = { name: string; inputs: TensorMap; expected: TensorMap };

function subdirs(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

function discover(): Case[] {
  const cases: Case[] = [];
  for (const suite of subdirs(root))
    for (const name of subdirs(path.join(root, suite)))
      cases.push({ suite, name, dir: path.join(root, suite, name) });
  return cases;
}

/** `prefix_N.pb` files of a data set, in N order. */
function numbered(dir: string, prefix: string): string[] {
  const re = new RegExp(`^${prefix}_(\\d+)\\.pb$`);
  return fs
    .readdirSync(dir)
    .flatMap((f) => {
      const m = re.exec(f);
      return m ? [{ f, n: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.n - b.n)
    .map(({ f }) => path.join(dir, f));
}

/**
 * Decode `prefix_N.pb` files to a tensor map: each tensor under its TensorProto name, else
 * under the name of the model's N-th declared input (or output).
 */
function decodeAll(files: string[], declared: Manifest['inputs'], what: string): TensorMap {
  const out: TensorMap = {};
  files.forEach((file, i) => {
    const { name, tensor } = decodeNamedTensorProto(new Uint8Array(fs.readFileSync(file)));
    const key = name || declared[i]?.name;
    assert.ok(
      key !== undefined,
      `${path.basename(file)}: unnamed, and the model declares only ${declared.length} ${what}s`,
    );
    assert.ok(
      declared.some((d) => d.name === key),
      `${path.basename(file)}: tensor "${key}" is not a ${what} of the model (${declared.map((d) => d.name).join(', ')})`,
    );
    assert.ok(!(key in out), `${path.basename(file)}: ${what} "${key}" given twice`);
    out[key] = tensor;
  });
  return out;
}

function dataSets(dir: string, manifest: Manifest): DataSet[] {
  const sets = subdirs(dir).filter((d) => d.startsWith('test_data_set_'));
  return sets.map((name) => {
    const d = path.join(dir, name);
    return {
      name,
      inputs: decodeAll(numbered(d, 'input'), manifest.inputs, 'input'),
      expected: decodeAll(numbered(d, 'output'), manifest.outputs, 'output'),
    };
  });
}

/** Why Plumb cannot carry this model's inputs or outputs, if so. */
function nonTensorReason(manifest: Manifest): string | undefined {
  for (const [what, list] of [
    ['input', manifest.inputs],
    ['output', manifest.outputs],
  ] as const)
    for (const v of list)
      if (!isDType(v.dtype))
        return `model ${what} "${v.name}" is ${v.dtype}: Plumb carries tensors of its dtypes only`;
  return undefined;
}

const present = fs.existsSync(root);

describe('onnx-backend conformance cases through Plumb', {
  skip: present ? false : `corpus not found at ${root}`,
}, () => {
  const cases = present ? discover() : [];
  const passed: string[] = [];
  const skipped = new Map<string, string>();
  let tn: TestNode;

  before(async () => {
    tn = await createTestNode();
  });
  after(async () => {
    await tn?.stop();
  });

  test('the corpus has the three suites', () => {
    for (const suite of expectedSuites) {
      const n = cases.filter((c) => c.suite === suite).length;
      assert.ok(n > 0, `no cases in ${path.join(root, suite)}`);
    }
  });

  for (const c of cases) {
    const id = `${c.suite}/${c.name}`;
    test(id, async (t) => {
      const skip = (reason: string) => {
        skipped.set(id, reason);
        t.diagnostic(`skipped ${id}: ${reason}`);
        t.skip(reason);
      };
      const bytes = new Uint8Array(fs.readFileSync(path.join(c.dir, 'model.onnx')));
      const manifest = extractManifest(bytes);
      const nonTensor = nonTensorReason(manifest);
      if (nonTensor) return skip(nonTensor);
      const sets = dataSets(c.dir, manifest);
      assert.ok(sets.length > 0, `${id} has no test_data_set_*`);

      let cid: string;
      try {
        ({ cid } = await pushModel(tn.node, { source: bytes, repo: id }));
      } catch (error) {
        const direct = await runDirect(bytes, sets[0]!.inputs);
        if (!direct.ok && direct.stage === 'create')
          return skip(`onnxruntime-node ${ort.env.versions.common} cannot create a session: ${direct.error}`);
        assert.fail(`Plumb cannot push ${id}, yet onnxruntime loads it: ${errorMessage(error)}`);
      }

      const problems: string[] = [];
      for (const set of sets) {
        let result: Awaited<ReturnType<typeof infer>>;
        try {
          result = await infer(tn.node, { model: cid, inputs: tensorMapToJson(set.inputs) });
        } catch (error) {
          // Skip only if onnxruntime fails the same way without Plumb in between.
          const direct = await runDirect(bytes, set.inputs);
          if (!direct.ok)
            return skip(
              `onnxruntime-node ${ort.env.versions.common} cannot ${direct.stage === 'create' ? 'create a session' : 'run it'}: ${direct.error}`,
            );
          assert.fail(`${set.name}: Plumb fails where onnxruntime runs the case: ${errorMessage(error)}`);
        }
        const cmp = compareTensors(set.expected, result.outputs, onnxTolerance);
        if (!cmp.ok) problems.push(`${set.name}: outputs differ from the expected ones: ${cmp.reason}`);
        const verdict = verifyReceipt(JSON.parse(result.json));
        if (!verdict.valid) problems.push(`${set.name}: the receipt does not verify: ${verdict.reason}`);
      }
      assert.deepEqual(problems, [], problems.join('; '));
      passed.push(id);
    });
  }

  test('summary', (t) => {
    const groups = new Map<string, string[]>();
    for (const [id, reason] of skipped) groups.set(reason, [...(groups.get(reason) ?? []), id]);
    const grouped = [...groups].sort((a, b) => b[1].length - a[1].length);
    const short = new Map<string, number>();
    for (const [reason, ids] of grouped)
      short.set(shortReason(reason), (short.get(shortReason(reason)) ?? 0) + ids.length);
    const failed = cases.length - passed.length - skipped.size;
    t.diagnostic(
      `onnx-backend: ${passed.length} passed, ${skipped.size} skipped (${[...short].map(([r, n]) => `${n} ${r}`).join('; ')}), ${failed} failed, of ${cases.length} cases`,
    );
    for (const [reason, ids] of grouped) {
      t.diagnostic(`skipped ${ids.length}: ${reason}`);
      for (const id of ids) t.diagnostic(`  - ${id}`);
    }
  });
});

/** A few words for a skip reason, for the one-line summary (the full reasons follow it). */
function shortReason(reason: string): string {
  const kernel = /Could not find an implementation for (\S+) node/.exec(reason);
  if (kernel) return `no onnxruntime kernel for ${kernel[1]}`;
  const locale = /Failed to construct locale with name:([^:]+)/.exec(reason);
  if (locale) return `onnxruntime StringNormalizer needs locale ${locale[1]}, not installed here`;
  const op = /(\S+) is not a registered function\/op/.exec(reason);
  if (op) return `${op[1]} is not an onnxruntime op`;
  return reason.length > 80 ? `${reason.slice(0, 80)}...` : reason;
}
