import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildModel, type NodeSpec } from '../../../test/fixtures/onnx-builder.ts';
import {
  assertGroth16,
  assertOutputsExact,
  f32,
  rand,
  witnessOutputs,
  zkWorkDir,
} from '../../../test/helpers/zk-witness.ts';
import type { Tensor, TensorMap } from '../../core/tensor.ts';
import { compileCircuit } from './circuit.ts';

const corpus = new URL('../../../../shared/corpus/ezkl/', import.meta.url);
const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
/** Full Groth16 proving only for circuits of at most 2^MAX_POWER constraints. */
const MAX_POWER = 12;

type Case = { name: string; bytes: Uint8Array; inputs: TensorMap };

function corpusCase(name: string, shape: number[]): Case {
  const json = JSON.parse(readFileSync(new URL(`${name}/input.json`, corpus), 'utf8')) as {
    input_data: number[][];
  };
  return {
    name: `ezkl ${name}`,
    bytes: readFileSync(new URL(`${name}/network.onnx`, corpus)),
    inputs: { input: f32(shape, json.input_data[0]!) },
  };
}

function built(
  name: string,
  shape: number[],
  outShape: number[],
  nodes: NodeSpec[],
  initializers: Record<string, Tensor>,
  seed: number,
): Case {
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape }],
    outputs: [{ name: 'y', dtype: 'float32', shape: outShape }],
    nodes,
    initializers,
  });
  return { name, bytes, inputs: { x: f32(shape, rand(seed, n, 3)) } };
}

const cases: Case[] = [
  corpusCase('1l_conv', [1, 3, 1, 1]),
  corpusCase('1l_leakyrelu', [1, 3]),
  corpusCase('1l_max_pool', [1, 3, 2, 2]),
  corpusCase('1l_batch_norm', [1, 3, 2, 2]),
  corpusCase('1l_div', [1, 1]),
  // Conv (strides, asymmetric pads, dilations, bias) -> BatchNorm -> LeakyRelu -> MaxPool (pads).
  built(
    'Conv+BatchNorm+LeakyRelu+MaxPool',
    [1, 2, 5, 5],
    [1, 3, 2, 3],
    [
      {
        op: 'Conv',
        name: 'conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['c'],
        attrs: { strides: { ints: [2, 1] }, pads: { ints: [1, 0, 1, 2] }, dilations: { ints: [1, 2] } },
      },
      { op: 'BatchNormalization', name: 'bn', inputs: ['c', 'g', 'beta', 'mean', 'var'], outputs: ['n'] },
      { op: 'LeakyRelu', name: 'lr', inputs: ['n'], outputs: ['l'], attrs: { alpha: { float: 0.1 } } },
      {
        op: 'MaxPool',
        name: 'mp',
        inputs: ['l'],
        outputs: ['y'],
        attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 1] }, pads: { ints: [0, 0, 1, 0] } },
      },
    ],
    {
      w: f32([3, 2, 3, 3], rand(11, 54, 1)),
      b: f32([3], [0.25, -0.5, 0.125]),
      g: f32([3], [1.5, -0.75, 0.3]),
      beta: f32([3], [0.1, 0.2, -0.3]),
      mean: f32([3], [0.05, -0.4, 0.6]),
      var: f32([3], [0.8, 2.5, 0.09]),
    },
    1,
  ),
  // Grouped Conv (group 2) -> Mul/Div by float and int constants -> AveragePool (pads, both counts).
  built(
    'Conv(group=2)+Mul+Div+AveragePool',
    [1, 2, 4, 4],
    [1, 4, 3, 3],
    [
      {
        op: 'Conv',
        name: 'conv',
        inputs: ['x', 'w'],
        outputs: ['c'],
        attrs: { group: { int: 2 }, pads: { ints: [1, 1, 1, 1] } },
      },
      { op: 'Mul', name: 'mul', inputs: ['c', 'k'], outputs: ['m'] },
      { op: 'Div', name: 'div', inputs: ['m', 'd'], outputs: ['q'] },
      { op: 'Mul', name: 'muli', inputs: ['ki', 'q'], outputs: ['mi'] },
      { op: 'Div', name: 'divi', inputs: ['mi', 'di'], outputs: ['qi'] },
      {
        op: 'AveragePool',
        name: 'ap',
        inputs: ['qi'],
        outputs: ['y'],
        attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
      },
    ],
    {
      w: f32([4, 1, 3, 3], rand(12, 36, 1)),
      k: f32([1, 4, 1, 1], [0.7, -1.3, 2.25, 0.01]),
      d: f32([4, 1, 1], [3, -0.7, 1.5, 0.3]),
      ki: { dtype: 'int64', shape: [1], data: BigInt64Array.from([3n]) },
      di: { dtype: 'int64', shape: [1, 1, 1, 1], data: BigInt64Array.from([-7n]) },
    },
    2,
  ),
  built(
    'AveragePool(count_include_pad)+MaxPool(dilations)',
    [1, 2, 5, 5],
    [1, 2, 2, 2],
    [
      {
        op: 'AveragePool',
        name: 'ap',
        inputs: ['x'],
        outputs: ['a'],
        attrs: {
          kernel_shape: { ints: [2, 2] },
          pads: { ints: [1, 0, 0, 1] },
          count_include_pad: { int: 1 },
        },
      },
      {
        op: 'MaxPool',
        name: 'mp',
        inputs: ['a'],
        outputs: ['y'],
        attrs: { kernel_shape: { ints: [2, 2] }, dilations: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
    ],
    {},
    3,
  ),
];

describe('zk circuit ops match the exact executor', { timeout: 120_000 }, () => {
  const work = zkWorkDir('plumb-zk-ops-');

  for (const [i, c] of cases.entries()) {
    it(`${c.name}: witness outputs equal the executor raw outputs`, async (t) => {
      const start = performance.now();
      const { circuit, constraints, outputs } = await witnessOutputs(c.bytes, c.inputs, join(work, `w${i}`));
      assertOutputsExact(c.bytes, c.inputs, outputs);
      t.diagnostic(
        `${c.name}: ${constraints} constraints (estimate ${circuit.constraintEstimate}), ` +
          `${(performance.now() - start).toFixed(0)} ms`,
      );
    });
  }

  it('ezkl 1l_conv: full Groth16 prove + verify', async (t) => {
    const c = cases[0]!;
    const start = performance.now();
    const { a, p } = await assertGroth16(c.bytes, c.inputs, join(work, 'groth16'), ptauDir);
    assert.ok(a.power <= MAX_POWER, `power ${a.power}`);
    t.diagnostic(
      `1l_conv Groth16: ${a.constraints} constraints, power ${a.power}, prove ${p.proveMs.toFixed(0)} ms, ` +
        `total ${(performance.now() - start).toFixed(0)} ms`,
    );
  });

  it('compiles ezkl 3l_relu_conv_fc (constraint estimate)', (t) => {
    const c = compileCircuit(readFileSync(new URL('3l_relu_conv_fc/network.onnx', corpus)));
    assert.deepEqual(c.inputs[0]!.shape, [1, 1, 28, 28]);
    t.diagnostic(`3l_relu_conv_fc: constraint estimate ${c.constraintEstimate} (not compiled with circom)`);
  });
});
