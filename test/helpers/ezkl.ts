/**
 * The ezkl example corpus (../shared/corpus/ezkl, see its README): model folders and their
 * input.json as Plumb tensors, for tests and benchmarks.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseInputs } from '../../src/core/inputs.ts';
import { extractManifest } from '../../src/core/onnx/manifest.ts';
import type { TensorMap } from '../../src/core/tensor.ts';

export const ezklCorpus = resolve(import.meta.dirname, '../../../shared/corpus/ezkl');

export type EzklCase = { name: string; bytes: Uint8Array; inputs: TensorMap };

/** Model folder names, sorted (empty when the corpus is absent). */
export function ezklModels(): string[] {
  if (!existsSync(ezklCorpus)) return [];
  return readdirSync(ezklCorpus, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** A corpus model's bytes and its input.json parsed against the model's declared inputs. */
export function loadEzklCase(name: string): EzklCase {
  const dir = join(ezklCorpus, name);
  const bytes = new Uint8Array(readFileSync(join(dir, 'network.onnx')));
  const doc: unknown = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8'));
  return { name, bytes, inputs: parseInputs(doc, extractManifest(bytes).inputs) };
}
