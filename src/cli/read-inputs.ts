/**
 * Read `--input` files into the JSON the API takes: `.json` files (Plumb tensor map or ezkl
 * input.json) pass through; ONNX TensorProto `.pb` files are decoded and named by their own
 * name field, else by position among the model's declared inputs.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { PlumbError } from '../core/errors.ts';
import type { TensorInfo } from '../core/manifest.ts';
import { decodeNamedTensorProto } from '../core/onnx/tensor-proto.ts';
import { type TensorMapJson, tensorToJson } from '../core/tensor.ts';

export async function readInputFiles(
  cwd: string,
  files: string[],
  declared: () => Promise<readonly TensorInfo[]>,
): Promise<unknown> {
  if (files.length === 0)
    throw new PlumbError('INVALID_ARGUMENT', 'missing --input FILE (a .json or .pb file)');
  const isPb = files.map((f) => extname(f).toLowerCase() === '.pb');
  if (!isPb.some(Boolean)) {
    if (files.length > 1)
      throw new PlumbError(
        'INVALID_ARGUMENT',
        'give one --input .json file (several --input are for .pb tensors)',
      );
    return readJson(resolve(cwd, files[0]!));
  }
  if (!isPb.every(Boolean))
    throw new PlumbError('INVALID_ARGUMENT', 'do not mix .json and .pb --input files');
  const inputs = await declared();
  const out: TensorMapJson = {};
  for (const [i, file] of files.entries()) {
    const bytes = await readBytes(resolve(cwd, file));
    let decoded: ReturnType<typeof decodeNamedTensorProto>;
    try {
      decoded = decodeNamedTensorProto(bytes);
    } catch (error) {
      throw new PlumbError(
        'INVALID_INPUT',
        `${file}: ${(error as PlumbError).shortMessage ?? String(error)}`,
      );
    }
    const name = decoded.name || inputs[i]?.name;
    if (!name)
      throw new PlumbError(
        'INVALID_INPUT',
        `${file}: tensor has no name and the model has only ${inputs.length} inputs`,
      );
    out[name] = tensorToJson(decoded.tensor);
  }
  return out;
}

export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `cannot read ${path}${code === 'ENOENT' ? ': no such file' : code ? ` (${code})` : ''}`,
    );
  }
}

export async function readJson(path: string): Promise<unknown> {
  const text = Buffer.from(await readBytes(path)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PlumbError('INVALID_ARGUMENT', `${path} is not valid JSON: ${(error as Error).message}`);
  }
}
