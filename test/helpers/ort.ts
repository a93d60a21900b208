/**
 * Run a model straight on onnxruntime-node, outside Plumb's runtime, as a reference for
 * tests: Plumb tensors in, Plumb tensors out, with its own conversions so that a bug in
 * `src/runtime/onnx` cannot hide by being on both sides of a comparison.
 */
import * as ort from 'onnxruntime-node';
import { errorMessage } from '../../src/core/errors.ts';
import { allocTensor, isDType, type Tensor, type TensorMap, toFloat16Bits } from '../../src/core/tensor.ts';

export { ort };

/** The first line of an error's message, trimmed to `max` characters. */
export function firstLine(error: unknown, max = 400): string {
  const line = errorMessage(error).split('\n')[0]!.trim();
  return line.length > max ? `${line.slice(0, max)}...` : line;
}

/** A Plumb tensor as an onnxruntime tensor (the data is copied). */
export function toOrtTensor(t: Tensor): ort.Tensor {
  const dims = [...t.shape];
  switch (t.dtype) {
    case 'string':
      return new ort.Tensor('string', [...t.data], dims);
    case 'bool':
      return new ort.Tensor(
        'bool',
        Uint8Array.from(t.data, (v) => (v ? 1 : 0)),
        dims,
      );
    case 'float16':
      return new ort.Tensor('float16', Uint16Array.from(t.data), dims);
    default:
      return new ort.Tensor(t.dtype, t.data.slice() as never, dims);
  }
}

/** An onnxruntime tensor as a Plumb tensor (copied); throws for types Plumb does not carry. */
export function fromOrtTensor(value: ort.Tensor, name = 'tensor'): Tensor {
  const type = value.type as string;
  if (!isDType(type)) throw new Error(`${name}: onnxruntime type ${type} has no Plumb dtype`);
  const shape = value.dims.map(Number);
  const out = allocTensor(type, shape);
  let data = value.data as ArrayLike<unknown>;
  // float16 comes as raw bits (Uint16Array), or as values where Float16Array exists.
  if (out.dtype === 'float16' && !(data instanceof Uint16Array))
    data = Uint16Array.from(data as ArrayLike<number>, toFloat16Bits);
  if (data.length !== out.data.length)
    throw new Error(`${name}: ${data.length} values for shape [${shape.join(', ')}]`);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (out.dtype === 'string') out.data[i] = String(v);
    else if (out.dtype === 'bool') out.data[i] = v ? 1 : 0;
    else (out.data as unknown as Record<number, unknown>)[i] = v;
  }
  return out as Tensor;
}

export type DirectRun =
  | { ok: true; outputs: TensorMap; inputNames: readonly string[]; outputNames: readonly string[] }
  | { ok: false; stage: 'create' | 'run' | 'output'; error: string };

/**
 * Create an onnxruntime session on `bytes` (default session options) and run it on `inputs`.
 * Never throws: says at which stage onnxruntime failed and why. The session is released.
 */
export async function runDirect(bytes: Uint8Array, inputs: TensorMap): Promise<DirectRun> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes);
  } catch (error) {
    return { ok: false, stage: 'create', error: firstLine(error) };
  }
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) feeds[name] = toOrtTensor(t);
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(feeds);
    } catch (error) {
      return { ok: false, stage: 'run', error: firstLine(error) };
    }
    const outputs: TensorMap = {};
    for (const name of session.outputNames) {
      const value = results[name];
      if (!(value instanceof ort.Tensor))
        return { ok: false, stage: 'output', error: `output "${name}" is not a tensor` };
      try {
        outputs[name] = fromOrtTensor(value, name);
      } catch (error) {
        return { ok: false, stage: 'output', error: firstLine(error) };
      }
    }
    return { ok: true, outputs, inputNames: session.inputNames, outputNames: session.outputNames };
  } finally {
    await session.release();
  }
}

/** `runDirect`'s outputs by name; throws (naming the stage) when onnxruntime fails. */
export async function ortOutputs(bytes: Uint8Array, inputs: TensorMap): Promise<TensorMap> {
  const r = await runDirect(bytes, inputs);
  if (!r.ok) throw new Error(`onnxruntime ${r.stage}: ${r.error}`);
  return r.outputs;
}

/** The data of onnxruntime's outputs by name (a Float32Array for float32 outputs); throws on failure. */
export async function ortRun(bytes: Uint8Array, inputs: TensorMap): Promise<Record<string, Float32Array>> {
  const outputs = await ortOutputs(bytes, inputs);
  return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, t.data as Float32Array]));
}

/** Only check that onnxruntime can create a session for `bytes`; the error's first line if not. */
export async function ortLoadError(bytes: Uint8Array): Promise<string | undefined> {
  try {
    const session = await ort.InferenceSession.create(bytes);
    await session.release();
    return undefined;
  } catch (error) {
    return firstLine(error);
  }
}
