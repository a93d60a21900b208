/**
 * Compare tensors the way ONNX conformance tests do: |actual - expected| <= atol + rtol * |expected|,
 * NaN equal to NaN, infinities equal to themselves; integers, bools and strings exactly.
 */
import { intDtypes, type Tensor, type TensorMap, tensorValues } from './tensor.ts';

export type Tolerance = { rtol: number; atol: number };

/** The ONNX backend test suite's tolerances. */
export const onnxTolerance: Tolerance = { rtol: 1e-3, atol: 1e-7 };

export type TensorComparison =
  | { ok: true; maxAbsDiff: number }
  | { ok: false; maxAbsDiff: number; reason: string };

const exactDtypes = new Set([...intDtypes, 'string']);

export function compareTensor(
  expected: Tensor,
  actual: Tensor,
  tol: Tolerance,
  name = 'tensor',
): TensorComparison {
  if (expected.dtype !== actual.dtype)
    return {
      ok: false,
      maxAbsDiff: Number.NaN,
      reason: `${name}: dtype ${actual.dtype}, expected ${expected.dtype}`,
    };
  if (expected.shape.join() !== actual.shape.join())
    return {
      ok: false,
      maxAbsDiff: Number.NaN,
      reason: `${name}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`,
    };
  if (exactDtypes.has(expected.dtype)) {
    const a = actual.data as ArrayLike<unknown>;
    const e = expected.data as ArrayLike<unknown>;
    for (let i = 0; i < e.length; i++)
      if (a[i] !== e[i])
        return { ok: false, maxAbsDiff: Number.NaN, reason: `${name}[${i}] is ${a[i]}, expected ${e[i]}` };
    return { ok: true, maxAbsDiff: 0 };
  }
  const a = tensorValues(actual);
  const e = tensorValues(expected);
  let maxAbsDiff = 0;
  let worst: string | undefined;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y) && Number.isNaN(x)) continue;
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (x !== y) worst ??= `${name}[${i}] is ${x}, expected ${y}`;
      continue;
    }
    const diff = Math.abs(x - y);
    if (diff > maxAbsDiff) maxAbsDiff = diff;
    if (diff > tol.atol + tol.rtol * Math.abs(y))
      worst ??= `${name}[${i}] is ${x}, expected ${y} (|diff| ${diff.toExponential(2)} > atol ${tol.atol} + rtol ${tol.rtol} * |expected|)`;
  }
  return worst ? { ok: false, maxAbsDiff, reason: worst } : { ok: true, maxAbsDiff };
}

/** Compare two tensor maps name by name; the first failure wins. */
export function compareTensors(expected: TensorMap, actual: TensorMap, tol: Tolerance): TensorComparison {
  let maxAbsDiff = 0;
  for (const name of Object.keys(expected)) {
    const a = actual[name];
    if (!a) return { ok: false, maxAbsDiff: Number.NaN, reason: `output "${name}" is missing` };
    const c = compareTensor(expected[name]!, a, tol, name);
    if (!c.ok) return c;
    maxAbsDiff = Math.max(maxAbsDiff, c.maxAbsDiff);
  }
  for (const name of Object.keys(actual))
    if (!(name in expected)) return { ok: false, maxAbsDiff, reason: `unexpected output "${name}"` };
  return { ok: true, maxAbsDiff };
}
