/**
 * The bench models: two from the ezkl corpus and two MLPs built in code, pushed to the
 * in-process Plumb node and written out (ONNX file + request body) for the server children.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseInputs } from '../src/core/inputs.ts';
import type { TensorInfo } from '../src/core/manifest.ts';
import type { TensorMap } from '../src/core/tensor.ts';
import type { PlumbNode } from '../src/node/node.ts';
import { pushModel } from '../src/node/push-model.ts';
import { buildMlp, seededRandom } from '../test/fixtures/onnx-builder.ts';
import type { BenchModel } from './common.ts';

const corpusDir = '/work/shared/corpus/ezkl';

export type PreparedModel = BenchModel & {
  bytes: Uint8Array;
  cid: string;
  /** The request's inputs as Plumb parses them (for the bare in-process run). */
  tensors: TensorMap;
  body: string;
};

type ModelSource = {
  name: string;
  bytes: Uint8Array;
  inputsFor: (declared: readonly TensorInfo[]) => unknown;
};

function modelSources(): ModelSource[] {
  const corpus = (name: string): ModelSource => {
    const ezkl = JSON.parse(readFileSync(join(corpusDir, name, 'input.json'), 'utf8')) as {
      input_data: unknown[][];
    };
    return {
      name,
      bytes: new Uint8Array(readFileSync(join(corpusDir, name, 'network.onnx'))),
      // Plumb tensor-map form with the corpus values as written; shapes as Plumb resolves them.
      inputsFor: (declared) => {
        const parsed = parseInputs(ezkl, declared);
        return Object.fromEntries(
          declared.map((info, i) => [
            info.name,
            {
              dtype: info.dtype,
              shape: [...parsed[info.name]!.shape],
              data: ezkl.input_data[i]!.flat(Infinity),
            },
          ]),
        );
      },
    };
  };
  const mlp = buildMlp({ sizes: [784, 128, 10], seed: 1 });
  const wide = buildMlp({ sizes: [784, 2048, 2048, 10], seed: 2 });
  const random = seededRandom(42);
  const data = Array.from({ length: 784 }, () => Math.round(random() * 1e4) / 1e4);
  return [
    corpus('1l_mlp'),
    corpus('3l_relu_conv_fc'),
    {
      name: 'mlp-784-128-10',
      bytes: mlp.bytes,
      inputsFor: () => ({ [mlp.inputName]: { dtype: 'float32', shape: [1, 784], data } }),
    },
    {
      name: 'mlp-784-2048x2-10',
      bytes: wide.bytes,
      inputsFor: () => ({ [wide.inputName]: { dtype: 'float32', shape: [1, 784], data } }),
    },
  ];
}

export async function prepareModels(node: PlumbNode, dir: string): Promise<PreparedModel[]> {
  const out: PreparedModel[] = [];
  for (const source of modelSources()) {
    const repo = `bench/${source.name}`;
    const pushed = await pushModel(node, { source: source.bytes, repo });
    const inputs = source.inputsFor(pushed.manifest.inputs);
    const body = JSON.stringify({ model: repo, inputs });
    const path = join(dir, `${source.name}.onnx`);
    const bodyPath = join(dir, `${source.name}.body.json`);
    await writeFile(path, source.bytes);
    await writeFile(bodyPath, body);
    const tensors = parseInputs(inputs, pushed.manifest.inputs);
    out.push({
      name: source.name,
      repo,
      path,
      bodyPath,
      bytes: source.bytes,
      cid: pushed.cid,
      tensors,
      body,
    });
  }
  return out;
}
