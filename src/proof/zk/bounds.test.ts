/**
 * Per-value bit widths are sized from worst-case bounds: inputs at the very edge of the
 * circuit's input range, arranged so every layer reaches its worst case, must still have a
 * witness equal to the exact executor (a width one bit short would fail the witness), and
 * the widths must be well below the 64-bit maximum for small inputs ranges.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import { buildMlp, buildModel, seededRandom } from '../../../test/fixtures/onnx-builder.ts';
import { isPlumbError } from '../../core/errors.ts';
import type { Tensor, TensorMap } from '../../core/tensor.ts';
import { compileExact } from '../../runtime/exact/exact.ts';
import { linBound, signedBits } from './bounds.ts';
import { compileCircuit } from './circuit.ts';
import { linCombine, linConst, linSignal } from './lin.ts';
import { circuitInputs, decodeOutputs } from './prove.ts';
import { compileCircom, releaseZk } from './setup.ts';

const work = mkdtempSync(join(tmpdir(), 'plumb-zk-bounds-'));
const f32 = (shape: number[], data: number[]): Tensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(data),
});

/** Conv (positive weights) -> Relu -> MaxPool -> Gemm (positive) -> Mul -> AveragePool-free head. */
function worstCaseModel(sign: 1 | -1): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 4, 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
    nodes: [
      {
        op: 'Conv',
        name: 'conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['c'],
        attrs: { pads: { ints: [1, 1, 1, 1] } },
      },
      { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['r'] },
      {
        op: 'MaxPool',
        name: 'mp',
        inputs: ['r'],
        outputs: ['p'],
        attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      { op: 'Flatten', name: 'fl', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'wf', 'bf'], outputs: ['g'] },
      { op: 'Mul', name: 'mul', inputs: ['g', 'k'], outputs: ['y'] },
    ],
    initializers: {
      w: f32(
        [2, 1, 3, 3],
        Array.from({ length: 18 }, (_, i) => sign * (0.5 + (i % 5) * 0.25)),
      ),
      b: f32([2], [sign * 0.75, sign * 1.5]),
      wf: f32(
        [8, 2],
        Array.from({ length: 16 }, (_, i) => 0.3 + (i % 3) * 0.6),
      ),
      bf: f32([2], [2, 3]),
      k: f32([1], [1.75]),
    },
  });
}

async function witness(bytes: Uint8Array, inputs: TensorMap, dir: string, bits: number) {
  const circuit = compileCircuit(bytes, { bits });
  const { wasm } = await compileCircom(circuit.source, dir);
  const wtnsPath = join(dir, 'w.wtns');
  await snarkjs.wtns.calculate(circuitInputs(circuit, inputs), wasm, wtnsPath);
  const w = await snarkjs.wtns.exportJson(wtnsPath);
  return { circuit, outputs: decodeOutputs(circuit, w.slice(1, 1 + circuit.nPublic).map(String)) };
}

describe('zk bit widths from worst-case bounds', { timeout: 120_000 }, () => {
  after(async () => {
    await releaseZk();
    rmSync(work, { recursive: true, force: true });
  });

  it('bounds propagate through affine combinations and set signed widths', () => {
    const x = { ...linSignal('x'), bound: 100n };
    const y = { ...linSignal('y'), bound: 7n };
    const l = linCombine(linCombine(x, 3n, y, -2n), 1n, linConst(-5n), 1n);
    assert.equal(l.bound, 3n * 100n + 2n * 7n + 5n);
    // the tighter of its own bound and the signal-wise one
    assert.equal(
      linBound(l, () => 1n),
      3n + 2n + 5n,
    );
    assert.equal(
      linBound(l, () => 1000n),
      319n,
    );
    assert.equal(signedBits(127n), 8); // [-128, 128) holds +-127
    assert.equal(signedBits(128n), 9);
  });

  for (const sign of [1, -1] as const)
    it(`inputs at the edge of the 32-bit input range, every layer at its worst case (weights ${sign > 0 ? '+' : '-'})`, async () => {
      // The largest magnitude the input range admits at scale 2^12: just under 2^19.
      const edge = sign > 0 ? 524287.9375 : -524288;
      const inputs: TensorMap = { x: f32([1, 1, 4, 4], Array(16).fill(edge)) };
      const bytes = worstCaseModel(sign);
      const { circuit, outputs } = await witness(bytes, inputs, join(work, `edge${sign}`), 32);
      const exact = compileExact(bytes).run(inputs);
      assert.deepEqual(outputs['y']!.raw, exact.raw.get('y'));
      assert.ok(
        exact.raw.get('y')!.some((v) => v > 1n << 37n),
        `the worst case really produced large values: ${exact.raw.get('y')}`,
      );
      // every Rescale narrower than the 64-bit maximum
      const widths = [...circuit.source.matchAll(/Rescale\(12, (\d+)\)/g)].map((m) => Number(m[1]));
      assert.ok(widths.length > 0 && widths.every((w) => w < 64), `widths ${widths}`);
    });

  it('a 784-wide fan-in (an MNIST first layer) compiles in circom2 and equals the executor', async () => {
    // A flat 784-term sum overflows circom2's WebAssembly stack; sums are emitted as balanced trees.
    const mlp = buildMlp({ sizes: [784, 3, 2], seed: 5 });
    const r = seededRandom(9);
    const inputs: TensorMap = {
      input: f32(
        [1, 784],
        Array.from({ length: 784 }, () => r() * 2 - 1),
      ),
    };
    const { outputs } = await witness(mlp.bytes, inputs, join(work, 'wide'), 24);
    assert.deepEqual(outputs['output']!.raw, compileExact(mlp.bytes).run(inputs).raw.get('output'));
  });

  it('refuses an input beyond the input range, naming it', () => {
    const bytes = worstCaseModel(1);
    const circuit = compileCircuit(bytes, { bits: 24 });
    assert.throws(
      () => circuitInputs(circuit, { x: f32([1, 1, 4, 4], Array(16).fill(2048)) }),
      (e: unknown) =>
        isPlumbError(e, 'INVALID_INPUT') && /input "x" is outside the circuit's 24-bit range/.test(e.message),
    );
  });

  it('narrower input ranges give smaller circuits', () => {
    const bytes = worstCaseModel(1);
    const wide = compileCircuit(bytes, { bits: 48 }).constraintEstimate;
    const narrow = compileCircuit(bytes, { bits: 16 }).constraintEstimate;
    assert.ok(narrow < wide, `${narrow} < ${wide}`);
  });
});
