/**
 * Inference inputs: the accepted document forms, and the check of inputs against a model's
 * declared inputs (names, dtypes, shapes) before anything runs.
 *
 * Forms accepted (detected by shape):
 * - Plumb's tensor map: `{ "x": { "dtype", "shape", "data" } }`
 * - ezkl's input.json: `{ "input_data": [[...flat values of input 0...], ...], "input_shapes"?: [...] }`
 *   Values are taken in the model's input order and dtypes; shapes come from the model,
 *   resolving symbolic dimensions from the value count or from `input_shapes`.
 * (ONNX TensorProto `.pb` files are read by `decodeTensorProto` in `core/onnx`.)
 */
import { PlumbError } from './errors.ts';
import type { Dim, TensorInfo } from './manifest.ts';
import { elementCount, isDType, type TensorMap, tensorFromJson, tensorMapFromJson } from './tensor.ts';

function invalid(message: string, meta?: string[]): PlumbError {
  return new PlumbError('INVALID_INPUT', message, { metaMessages: meta });
}

export function formatShape(shape: readonly Dim[] | null): string {
  if (shape === null) return '[?]';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

export function describeInput(info: TensorInfo): string {
  return `"${info.name}" (${info.dtype} ${formatShape(info.shape)})`;
}

export function isEzklInput(json: unknown): json is { input_data: unknown } {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && 'input_data' in json;
}

/** Choose a concrete shape for `count` values of a declared input. */
function resolveShape(info: TensorInfo, count: number, hint: unknown, path: string): number[] {
  const hinted =
    Array.isArray(hint) && hint.every((d) => Number.isSafeInteger(d) && d >= 0)
      ? (hint as number[])
      : undefined;
  const declared = info.shape;
  if (declared === null) {
    if (hinted && elementCount(hinted) === count) return hinted;
    return [count];
  }
  const unknown = declared.flatMap((d, i) => (typeof d === 'number' ? [] : [i]));
  const known = declared.reduce<number>((n, d) => (typeof d === 'number' ? n * d : n), 1);
  if (unknown.length === 0) {
    if (known !== count)
      throw invalid(`${path}: has ${count} values, input ${describeInput(info)} needs ${known}`);
    return declared as number[];
  }
  if (hinted && hinted.length === declared.length && elementCount(hinted) === count) {
    const agrees = declared.every((d, i) => typeof d !== 'number' || d === hinted[i]);
    if (agrees) return hinted;
  }
  if (unknown.length === 1 && known > 0 && count % known === 0) {
    return declared.map((d) => (typeof d === 'number' ? d : count / known));
  }
  throw invalid(`${path}: cannot tell the shape of input ${describeInput(info)} from ${count} values`, [
    'Give "input_shapes" in the file, or use the tensor form {"dtype", "shape", "data"}.',
  ]);
}

/** Convert an ezkl input.json document to tensors, using the model's declared inputs. */
export function tensorsFromEzkl(json: unknown, inputs: readonly TensorInfo[]): TensorMap {
  const doc = json as { input_data?: unknown; input_shapes?: unknown };
  const data = doc.input_data;
  if (!Array.isArray(data) || !data.every(Array.isArray))
    throw invalid('input_data: expected an array with one array of values per model input');
  if (data.length !== inputs.length)
    throw invalid(`input_data: has ${data.length} arrays, the model takes ${inputs.length} inputs`, [
      `Model inputs: ${inputs.map(describeInput).join(', ')}`,
    ]);
  const shapes = Array.isArray(doc.input_shapes) ? doc.input_shapes : [];
  const out: TensorMap = {};
  inputs.forEach((info, i) => {
    const path = `input_data[${i}]`;
    if (!isDType(info.dtype))
      throw invalid(`${path}: input ${describeInput(info)} is not a tensor Plumb can carry`);
    const values = (data[i] as unknown[]).flat(Number.POSITIVE_INFINITY);
    const shape = resolveShape(info, values.length, shapes[i], path);
    // ezkl writes booleans as 0/1.
    const coerced = info.dtype === 'bool' ? values.map((v) => (v === 0 || v === 1 ? v === 1 : v)) : values;
    out[info.name] = tensorFromJson({ dtype: info.dtype, shape, data: coerced }, path);
  });
  return out;
}

/** Parse an inputs document in any accepted JSON form. */
export function parseInputs(json: unknown, inputs: readonly TensorInfo[]): TensorMap {
  return isEzklInput(json) ? tensorsFromEzkl(json, inputs) : tensorMapFromJson(json);
}

/**
 * Check tensors against the model's declared inputs: every input present, no unknown names,
 * dtypes equal, ranks equal, fixed dimensions equal, and a symbolic dimension the same size
 * wherever it appears. Throws INVALID_INPUT naming the first problem.
 */
export function checkInputs(declared: readonly TensorInfo[], tensors: TensorMap): void {
  const names = new Set(declared.map((d) => d.name));
  for (const name of Object.keys(tensors)) {
    if (!names.has(name))
      throw invalid(`unknown input "${name}"`, [
        `The model takes: ${declared.map(describeInput).join(', ')}`,
      ]);
  }
  const symbols = new Map<string, { size: number; where: string }>();
  for (const info of declared) {
    const t = tensors[info.name];
    if (!t) throw invalid(`missing input ${describeInput(info)}`);
    if (t.dtype !== info.dtype)
      throw invalid(`input "${info.name}": dtype ${t.dtype}, the model wants ${info.dtype}`);
    if (info.shape === null) continue;
    if (t.shape.length !== info.shape.length)
      throw invalid(
        `input "${info.name}": shape [${t.shape.join(', ')}] has rank ${t.shape.length}, the model wants ${formatShape(info.shape)}`,
      );
    info.shape.forEach((d, i) => {
      const got = t.shape[i]!;
      if (typeof d === 'number' && d !== got)
        throw invalid(
          `input "${info.name}": shape [${t.shape.join(', ')}] differs from the model's ${formatShape(info.shape)} at dimension ${i}`,
        );
      if (typeof d === 'string') {
        const seen = symbols.get(d);
        if (seen && seen.size !== got)
          throw invalid(
            `input "${info.name}": dimension "${d}" is ${got} here but ${seen.size} in ${seen.where}`,
          );
        symbols.set(d, { size: got, where: `input "${info.name}"` });
      }
    });
  }
}
