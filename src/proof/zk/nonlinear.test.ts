import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import { buildModel, type NodeSpec } from '../../../test/fixtures/onnx-builder.ts';
import { ortRun } from '../../../test/helpers/ort.ts';
import {
  assertGroth16,
  assertOutputsExact,
  witnessOutputs,
  zkWorkDir,
} from '../../../test/helpers/zk-witness.ts';
import type { DType, TensorMap } from '../../core/tensor.ts';
import { compileExact } from '../../runtime/exact/exact.ts';
import {
  expUnitMaxError,
  geluMaxError,
  logSoftmaxMaxError,
  softmaxMaxError,
} from '../../runtime/exact/ops/nonlinear.ts';
import { activationMaxError } from '../../runtime/exact/piecewise.ts';
import { compileCircuit } from './circuit.ts';
import { circuitInputs } from './prove.ts';
import { compileCircom } from './setup.ts';

const corpus = new URL('../../../../shared/corpus/ezkl/', import.meta.url);
const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
const S = 12;
const EPS = 2 ** -(S + 1);

type Case = { name: string; bytes: Uint8Array; inputs: TensorMap };

/** Negative, positive, tiny, segment boundaries (multiples of 1/8), near and past saturation. */
const SPREAD = [
  0, 0.5, -0.5, 0.25, -0.25, 0.125, -0.375, 1, -1, 3.999, -4, 4.0001, 7.75, -8, 8.0001, 15.5, -16, 16.01, -30,
  100, -100, 2.3, -0.001, 0.0002441, 40, -40, 1.7, -2.9,
];

function graph(
  name: string,
  shape: number[],
  data: number[],
  nodes: NodeSpec[],
  outputs: { name: string; dtype?: DType }[],
  opset = 17,
): Case {
  const bytes = buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape }],
    outputs: outputs.map((o) => ({ name: o.name, dtype: o.dtype ?? 'float32', shape: null })),
    nodes,
    opset,
    ...(opset >= 20 ? { irVersion: 9 } : {}),
  });
  return { name, bytes, inputs: { x: { dtype: 'float32', shape, data: Float32Array.from(data) } } };
}

const softmaxRows = [
  [0.1, -2, 3, 3, 0.5, -7],
  [40, 1, -40, 0, 0, 2],
  [-1, -1, -1, -1, -1, -1],
  [5.5, 5.4, -3.25, 17, 16.9, 0],
];

const cases: Case[] = [
  graph(
    'Sigmoid, Tanh, Erf, Softplus on spread inputs',
    [SPREAD.length],
    SPREAD,
    [
      { op: 'Sigmoid', inputs: ['x'], outputs: ['sig'] },
      { op: 'Tanh', inputs: ['x'], outputs: ['tanh'] },
      { op: 'Erf', inputs: ['x'], outputs: ['erf'] },
      { op: 'Softplus', inputs: ['x'], outputs: ['sp'] },
    ],
    [{ name: 'sig' }, { name: 'tanh' }, { name: 'erf' }, { name: 'sp' }],
  ),
  graph(
    'Softmax (axis 1 strided, axis -1), LogSoftmax, ReduceL2, ReduceLogSumExp, ArgMax (first and last index, ties), Sqrt of Relu',
    [2, 4, 3],
    softmaxRows.flat(),
    [
      { op: 'Softmax', inputs: ['x'], outputs: ['sm1'], attrs: { axis: { int: 1 } } },
      { op: 'Softmax', inputs: ['x'], outputs: ['sm2'] },
      { op: 'LogSoftmax', inputs: ['x'], outputs: ['ls'], attrs: { axis: { int: 1 } } },
      { op: 'ArgMax', inputs: ['x'], outputs: ['am1'], attrs: { axis: { int: 1 } } },
      {
        op: 'ArgMax',
        inputs: ['x'],
        outputs: ['am2'],
        attrs: { axis: { int: 2 }, keepdims: { int: 0 }, select_last_index: { int: 1 } },
      },
      {
        op: 'ReduceL2',
        inputs: ['x'],
        outputs: ['l2'],
        attrs: { axes: { ints: [1] }, keepdims: { int: 0 } },
      },
      { op: 'ReduceLogSumExp', inputs: ['x'], outputs: ['lse'], attrs: { axes: { ints: [2] } } },
      { op: 'Relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Sqrt', inputs: ['r'], outputs: ['sq'] },
    ],
    [
      { name: 'sm1' },
      { name: 'sm2' },
      { name: 'ls' },
      { name: 'l2' },
      { name: 'lse' },
      { name: 'am1', dtype: 'int64' },
      { name: 'am2', dtype: 'int64' },
      { name: 'sq' },
    ],
    13,
  ),
  graph(
    'Softmax opset 11 (flattened from axis 1) after a Tanh',
    [2, 2, 6],
    [...softmaxRows.flat()],
    [
      { op: 'Tanh', inputs: ['x'], outputs: ['t'] },
      { op: 'Softmax', inputs: ['t'], outputs: ['y'] },
    ],
    [{ name: 'y' }],
    11,
  ),
];

cases.push(
  graph(
    'Gelu (opset 20, approximate none and tanh)',
    [12],
    [0, 0.5, -0.5, 1.25, -1.75, 3, -3, 4.9, -5.7, 6, 20, -20],
    [
      { op: 'Gelu', inputs: ['x'], outputs: ['gn'] },
      { op: 'Gelu', inputs: ['x'], outputs: ['gt'], attrs: { approximate: { string: 'tanh' } } },
    ],
    [{ name: 'gn' }, { name: 'gt' }],
    20,
  ),
);

cases.push({
  name: 'Div by a non-constant divisor (signs, small divisors)',
  bytes: buildModel({
    inputs: [
      { name: 'a', dtype: 'float32', shape: [10] },
      { name: 'b', dtype: 'float32', shape: [10] },
    ],
    outputs: [{ name: 'q', dtype: 'float32', shape: null }],
    nodes: [{ op: 'Div', inputs: ['a', 'b'], outputs: ['q'] }],
  }),
  inputs: {
    a: { dtype: 'float32', shape: [10], data: Float32Array.of(1, -1, 3.5, -2.25, 100, 0.001, 7, -7, 0, 5) },
    b: {
      dtype: 'float32',
      shape: [10],
      data: Float32Array.of(3, 3, -0.5, -0.7, 0.001, 2, -1e-3, 0.25, -4, 1),
    },
  },
});

cases.push({
  name: 'LayerNormalization (axis 1, Scale and B) after a Tanh',
  bytes: buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3, 2] }],
    outputs: [{ name: 'ln', dtype: 'float32', shape: null }],
    initializers: {
      g: { dtype: 'float32', shape: [3, 2], data: Float32Array.of(1, -0.5, 2, 0.25, 1.5, -1) },
      b: { dtype: 'float32', shape: [3, 2], data: Float32Array.of(0.1, -0.2, 0, 0.3, -0.4, 0.5) },
    },
    nodes: [
      { op: 'Tanh', inputs: ['x'], outputs: ['t'] },
      { op: 'LayerNormalization', inputs: ['t', 'g', 'b'], outputs: ['ln'], attrs: { axis: { int: 1 } } },
    ],
  }),
  inputs: {
    x: {
      dtype: 'float32',
      shape: [2, 3, 2],
      data: Float32Array.of(0.3, -1.2, 0.01, 2, -0.7, 0.5, 5, 5.01, 4.99, 5, 5.02, 4.98),
    },
  },
});

cases.push(
  graph(
    'Elu, Selu, Celu, Softsign, Reciprocal, Exp',
    [12],
    [0.3, 0.5, -0.5, 1.25, -1.75, 3, -3, 16.5, -17, 0.001, -0.002, -40],
    [
      { op: 'Elu', inputs: ['x'], outputs: ['elu'], attrs: { alpha: { float: 0.7 } } },
      { op: 'Selu', inputs: ['x'], outputs: ['selu'] },
      { op: 'Celu', inputs: ['x'], outputs: ['celu'], attrs: { alpha: { float: 1.5 } } },
      { op: 'Softsign', inputs: ['x'], outputs: ['ss'] },
      { op: 'Reciprocal', inputs: ['x'], outputs: ['rc'] },
      { op: 'Exp', inputs: ['x'], outputs: ['ex'] },
    ],
    [{ name: 'elu' }, { name: 'selu' }, { name: 'celu' }, { name: 'ss' }, { name: 'rc' }, { name: 'ex' }],
    13,
  ),
);

cases.push(
  graph(
    'Log (tiny to large positive inputs)',
    [8],
    [0.000244140625, 0.001, 0.5, 1, 1.0001, 2.75, 1000, 2047],
    [{ op: 'Log', inputs: ['x'], outputs: ['lg'] }],
    [{ name: 'lg' }],
  ),
);

cases.push({
  name: 'InstanceNormalization',
  bytes: buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 2, 3] }],
    outputs: [{ name: 'in', dtype: 'float32', shape: null }],
    initializers: {
      g: { dtype: 'float32', shape: [2], data: Float32Array.of(1.5, -0.5) },
      b: { dtype: 'float32', shape: [2], data: Float32Array.of(0.1, -0.3) },
    },
    nodes: [{ op: 'InstanceNormalization', inputs: ['x', 'g', 'b'], outputs: ['in'] }],
  }),
  inputs: {
    x: {
      dtype: 'float32',
      shape: [1, 2, 2, 3],
      data: Float32Array.of(0.3, -1.2, 0.01, 2, -0.7, 0.5, 5, 5.01, 4.99, 5, 5.02, 4.98),
    },
  },
});

function corpusCase(name: string, shape?: number[]): Case {
  const json = JSON.parse(readFileSync(new URL(`${name}/input.json`, corpus), 'utf8')) as {
    input_data: number[][];
  };
  const data = json.input_data[0]!;
  return {
    name: `ezkl ${name}`,
    bytes: readFileSync(new URL(`${name}/network.onnx`, corpus)),
    inputs: { input: { dtype: 'float32', shape: shape ?? [1, data.length], data: Float32Array.from(data) } },
  };
}

describe('zk nonlinear ops match the exact executor', { timeout: 180_000 }, () => {
  const work = zkWorkDir('plumb-zk-nonlinear-');

  for (const [i, c] of cases.entries())
    it(`${c.name}: witness outputs equal the executor raw outputs`, async (t) => {
      const start = performance.now();
      const { circuit, constraints, outputs } = await witnessOutputs(c.bytes, c.inputs, join(work, `w${i}`));
      assertOutputsExact(c.bytes, c.inputs, outputs);
      const elements = circuit.inputs.reduce((a, l) => a + l.size, 0);
      t.diagnostic(
        `${c.name}: ${constraints} constraints for ${elements} inputs (estimate ${circuit.constraintEstimate}), ` +
          `${(performance.now() - start).toFixed(0)} ms`,
      );
      // the executor (so the circuit) stays within its reported bounds of onnxruntime
      const ref: Record<string, ArrayLike<number | bigint>> = await ortRun(c.bytes, c.inputs);
      for (const [name, out] of Object.entries(outputs)) {
        const r = ref[name]!;
        // quotients amplify quantization, and Selu's gamma scales with |x|: executor tests cover them
        if (['q', 'ln', 'in', 'rc', 'selu', 'ex', 'lg', 'l2', 'lse'].includes(name)) continue; // quotients by ~2^-12 amplify quantization: executor tests cover Div
        if (name.startsWith('am')) {
          assert.deepEqual(out.raw, Array.from(r as ArrayLike<bigint>), name);
          assert.deepEqual(Array.from(out.values), Array.from(r as ArrayLike<bigint>, Number), name);
          continue;
        }
        let worst = 0;
        for (let k = 0; k < out.values.length; k++)
          worst = Math.max(worst, Math.abs(out.values[k]! - Number(r[k])));
        const bound =
          name === 'sq'
            ? 2 ** -S + Math.sqrt(EPS)
            : ['elu', 'celu', 'ss'].includes(name)
              ? 2 * EPS + expUnitMaxError(S, 1.5, true)
              : name === 'gn' || name === 'gt'
                ? 1.13 * EPS + geluMaxError(S, name === 'gn' ? 'none' : 'tanh')
                : name === 'ls'
                  ? logSoftmaxMaxError(S, 4) + 2 * EPS
                  : name.startsWith('sm') || name === 'y'
                    ? softmaxMaxError(S, 12) + 4 * EPS + activationMaxError('tanh', S)
                    : 1.13 * EPS + activationMaxError('tanh', S);
        t.diagnostic(
          `${name}: max |circuit - onnxruntime| ${worst.toExponential(3)} (bound ${bound.toExponential(3)})`,
        );
        assert.ok(worst <= bound + 1e-5, `${name}: ${worst} > ${bound}`);
      }
    });

  it('Softmax rows sum to 1 within n units of 2^-s', async () => {
    const c = cases[1]!;
    const y = compileExact(c.bytes).run(c.inputs).raw.get('sm2')!;
    for (let r = 0; r < y.length / 3; r++) {
      const sum = y.slice(3 * r, 3 * r + 3).reduce((a, b) => a + b, 0n);
      assert.ok(sum >= 4096n - 3n && sum <= 4096n + 3n, `row ${r}: ${sum}`);
    }
  });

  for (const name of ['1l_gelu_tanh_appx', 'layernorm'])
    it(`ezkl ${name}: witness outputs equal the executor`, async (t) => {
      const c = corpusCase(name, name === 'layernorm' ? [1, 10, 10] : undefined);
      const { constraints, outputs } = await witnessOutputs(c.bytes, c.inputs, join(work, name));
      assertOutputsExact(c.bytes, c.inputs, outputs);
      t.diagnostic(`${name}: ${constraints} constraints`);
    });

  for (const name of ['1l_sigmoid', '1l_softmax'])
    it(`ezkl ${name}: full Groth16 prove + verify, tampering rejected`, async (t) => {
      const c = corpusCase(name);
      const start = performance.now();
      const { a, p } = await assertGroth16(c.bytes, c.inputs, join(work, `g-${name}`), ptauDir);
      t.diagnostic(
        `${name} Groth16: ${a.constraints} constraints, power ${a.power}, prove ${p.proveMs.toFixed(0)} ms, ` +
          `total ${(performance.now() - start).toFixed(0)} ms`,
      );
    });

  it('an unsatisfiable witness has no proof: division by zero', async () => {
    const c = cases.find((k) => k.name.startsWith('Div by'))!;
    const circuit = compileCircuit(c.bytes);
    const { wasm } = await compileCircom(circuit.source, join(work, 'div-zero'));
    const b = Float32Array.from(c.inputs['b']!.data as Float32Array);
    b[4] = 0;
    const inputs = { ...c.inputs, b: { dtype: 'float32' as const, shape: [10], data: b } };
    await assert.rejects(snarkjs.wtns.calculate(circuitInputs(circuit, inputs), wasm, join(work, 'dz.wtns')));
    assert.throws(() => compileExact(c.bytes).run(inputs));
  });

  it('an unsatisfiable witness has no proof: a negative Sqrt input', async () => {
    const c = graph('sqrt', [2], [1, -1], [{ op: 'Sqrt', inputs: ['x'], outputs: ['y'] }], [{ name: 'y' }]);
    const circuit = compileCircuit(c.bytes);
    const { wasm } = await compileCircom(circuit.source, join(work, 'neg-sqrt'));
    await assert.rejects(
      snarkjs.wtns.calculate(circuitInputs(circuit, c.inputs), wasm, join(work, 'neg.wtns')),
    );
  });
});
