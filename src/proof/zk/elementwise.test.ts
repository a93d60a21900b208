/**
 * Arithmetic ops in circuits (elementwise.ts): for built models with random inputs, the
 * circuit's witness outputs EQUAL the exact executor's integers, and the executor is within a
 * bound of onnxruntime derived from its rounding (EPS = 2^-13 per rounding or quantization);
 * invalid uses are refused naming the node; one small product circuit is proven with Groth16;
 * the corpus models these ops make provable compute the executor's integers too.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildModel, type NodeSpec } from '../../../test/fixtures/onnx-builder.ts';
import { ezklModels, loadEzklCase } from '../../../test/helpers/ezkl.ts';
import {
  assertWitnessExact,
  buildCase,
  EPS,
  f32,
  i64,
  itOpCases,
  node,
  type OpCase,
  zkWorkDir,
} from '../../../test/helpers/zk-witness.ts';
import { isPlumbError } from '../../core/errors.ts';
import type { Tensor } from '../../core/tensor.ts';
import { compileExact } from '../../runtime/exact/exact.ts';
import { compileCircuit } from './circuit.ts';
import { prove, verify } from './prove.ts';
import { setupModel } from './setup.ts';

const cases: OpCase[] = [
  {
    // |x|, |x2| <= 3: product error 3 EPS + 3 EPS (inputs) + EPS (rounding); Neg/Abs/Max/Min copy.
    name: 'Mul of two inputs (broadcast) -> Neg -> Abs; Max of an input, a constant and an input; Min',
    shapes: [[2, 3], [3]],
    nodes: [
      node('Mul', ['x', 'x2'], undefined, ['m']),
      node('Neg', ['m'], undefined, ['n']),
      node('Abs', ['n'], undefined, ['ab']),
      node('Max', ['x', 'k', 'x2'], undefined, ['a']),
      node('Min', ['x2', 'x'], undefined, ['b']),
      node('Concat', ['ab', 'a', 'b'], { axis: { int: 0 } }),
    ],
    initializers: { k: f32([2, 1], [0.5, -0.25]) },
    tol: 7 * EPS,
  },
  {
    // |x| <= 1.5: x^2 error 2 * 1.5 EPS + EPS; x^3 = rshiftRound(x^2 * x): 2.25 EPS + 1.5 * 4 EPS + EPS.
    name: 'Pow 2 (float exponent), 3 (int exponent), 1 and 0',
    shapes: [[2, 2]],
    span: 1.5,
    nodes: [
      node('Pow', ['x', 'e2'], undefined, ['a']),
      node('Pow', ['x', 'e3'], undefined, ['b']),
      node('Pow', ['x', 'e1'], undefined, ['c']),
      node('Pow', ['x', 'e0'], undefined, ['d']),
      node('Concat', ['a', 'b', 'c', 'd'], { axis: { int: 0 } }),
    ],
    initializers: { e2: f32([], [2]), e3: i64([], [3]), e1: f32([1], [1]), e0: f32([], [0]) },
    tol: 2.25 * EPS + 1.5 * 4 * EPS + EPS,
  },
  {
    // K = 3 products of values <= 2 summed, one rounding: 3 * (2 + 2) EPS + EPS.
    name: 'MatMul of two inputs (batch broadcast)',
    shapes: [
      [2, 2, 3],
      [3, 2],
    ],
    span: 2,
    nodes: [node('MatMul', ['x', 'x2'])],
    tol: 13 * EPS,
  },
  {
    name: 'Clip (both bounds), Clip (min only), Clip (max only)',
    shapes: [[2, 3]],
    nodes: [
      node('Clip', ['x', 'lo', 'hi'], undefined, ['a']),
      node('Clip', ['x', 'lo'], undefined, ['b']),
      node('Clip', ['x', '', 'hi'], undefined, ['c']),
      node('Concat', ['a', 'b', 'c'], { axis: { int: 0 } }),
    ],
    initializers: { lo: f32([], [-0.4]), hi: f32([], [1.3]) },
    tol: EPS,
  },
  {
    name: 'Clip (opset 10 attributes)',
    shapes: [[5]],
    opset: 10,
    nodes: [node('Clip', ['x'], { min: { float: -1.1 }, max: { float: 0.7 } })],
    tol: EPS,
  },
  {
    // x * slope rounded once, |slope| <= 1.7: EPS (|x| + |slope|) + EPS + EPS.
    name: 'PRelu with a per-channel slope',
    shapes: [[1, 3, 2, 2]],
    nodes: [node('PRelu', ['x', 'sl'])],
    initializers: { sl: f32([3, 1, 1], [0.25, -0.5, 1.7]) },
    tol: EPS * (3 + 1.7) + 2 * EPS,
  },
  {
    // HardSigmoid: alpha x + beta: EPS (|x| + alpha) + 2 EPS, |x| <= 4. HardSwish x * h(x): h's
    // error e_h = EPS (4 + 1/6) + 2 EPS, so |x| e_h + h e_x + EPS.
    name: 'HardSigmoid (alpha 0.3, beta 0.4), HardSwish',
    shapes: [[2, 4]],
    span: 4,
    nodes: [
      node('HardSigmoid', ['x'], { alpha: { float: 0.3 }, beta: { float: 0.4 } }, ['a']),
      node('HardSwish', ['x'], undefined, ['b']),
      node('Concat', ['a', 'b'], { axis: { int: 0 } }),
    ],
    tol: 4 * (EPS * (4 + 1 / 6) + 2 * EPS) + EPS + EPS,
  },
  {
    // Sums of up to 3 values: 3 EPS; means: EPS + one rounding.
    name: 'ReduceSum (axes input, keepdims 0), ReduceMean (attribute axes), ReduceMax, ReduceMin',
    shapes: [[2, 3, 2]],
    nodes: [
      node('ReduceSum', ['x', 'ax'], { keepdims: { int: 0 } }, ['a']),
      node('ReduceMean', ['x'], { axes: { ints: [1] }, keepdims: { int: 0 } }, ['b']),
      node('ReduceMax', ['x'], { axes: { ints: [1] }, keepdims: { int: 0 } }, ['c']),
      node('ReduceMin', ['x'], { axes: { ints: [-2] }, keepdims: { int: 0 } }, ['d']),
      node('Concat', ['a', 'b', 'c', 'd'], { axis: { int: 0 } }),
    ],
    initializers: { ax: i64([1], [1]) },
    tol: 3 * EPS,
  },
  {
    name: 'ReduceMean over all axes and ReduceMax (opset 18 axes input)',
    shapes: [[2, 3, 2]],
    opset: 18,
    nodes: [
      node('ReduceMean', ['x'], undefined, ['a']),
      node('ReduceMax', ['x', 'ax'], undefined, ['b']),
      node('Add', ['a', 'b']),
    ],
    initializers: { ax: i64([2], [0, 2]) },
    tol: 3 * EPS,
  },
  {
    // K = 3 products of values <= 2: 12 EPS, times alpha 0.5, one rounding; beta * C: 2 EPS + EPS.
    name: 'Gemm of two inputs (transA, alpha 0.5, beta 2, non-constant C)',
    shapes: [[3, 2], [3, 4], [4]],
    span: 2,
    nodes: [
      node('Gemm', ['x', 'x2', 'x3'], { transA: { int: 1 }, alpha: { float: 0.5 }, beta: { float: 2 } }),
    ],
    tol: 6 * EPS + EPS + 3 * EPS,
  },
  {
    // Sum of three: 3 EPS; Mean: EPS + a rounding; Floor / Ceil / Sign: exact away from ties.
    name: 'Sum and Mean of three (broadcast), Floor, Ceil, Sign, ThresholdedRelu',
    shapes: [[2, 3], [3]],
    nodes: [
      node('Sum', ['x', 'x2', 'k'], undefined, ['a']),
      node('Mean', ['x', 'x2', 'k'], undefined, ['b']),
      node('Floor', ['x'], undefined, ['c']),
      node('Ceil', ['x'], undefined, ['d']),
      node('Sign', ['x'], undefined, ['e']),
      node('ThresholdedRelu', ['x'], { alpha: { float: 0.7 } }, ['f']),
      node('Concat', ['a', 'b', 'c', 'd', 'e', 'f'], { axis: { int: 0 } }),
    ],
    initializers: { k: f32([2, 1], [0.5, -1.25]) },
    tol: 3 * EPS,
  },
  {
    // Means of 9 values: EPS + one rounding; max: EPS; ReduceL1 of 3: 3 EPS; ReduceSumSquare of 3
    // values |x| <= 3: 6 EPS each, one rounding.
    name: 'GlobalAveragePool, GlobalMaxPool, ReduceL1, ReduceSumSquare',
    shapes: [[1, 3, 3, 1]],
    nodes: [
      node('GlobalAveragePool', ['x'], undefined, ['a']),
      node('GlobalMaxPool', ['x'], undefined, ['b']),
      node('ReduceL1', ['x'], { axes: { ints: [2] } }, ['c']),
      node('ReduceSumSquare', ['x'], { axes: { ints: [2] } }, ['d']),
      node('Concat', ['a', 'b', 'c', 'd'], { axis: { int: 1 } }),
    ],
    tol: 18 * EPS + EPS,
  },
  {
    // Sums of up to 3 values: 3 EPS; products of 3 values |x| <= 1.5: 3 * 2.25 EPS + 2 roundings.
    name: 'CumSum (exclusive, reverse; axis 0), ReduceProd',
    shapes: [[2, 3]],
    span: 1.5,
    nodes: [
      node('CumSum', ['x', 'ax'], { exclusive: { int: 1 }, reverse: { int: 1 } }, ['a']),
      node('CumSum', ['x', 'ax0'], undefined, ['b']),
      node('ReduceProd', ['x'], { axes: { ints: [1] } }, ['c']),
      node('Concat', ['a', 'b', 'c'], { axis: { int: 1 } }),
    ],
    initializers: { ax: i64([], [1]), ax0: i64([1], [0]) },
    tol: 3 * 2.25 * EPS + 2 * 1.5 * EPS + 2 * EPS,
  },
];

/** Corpus models these ops make provable. */
/** tutorial: Pow and a MatMul of two inputs here, its Sigmoid in nonlinear.ts. */
const corpusModels = ['clip', 'hard_sigmoid', 'log_softmax', 'hard_swish', '1l_prelu', '1l_var', 'tutorial'];

const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');

describe('zk arithmetic ops equal the exact executor', { timeout: 600_000 }, () => {
  const work = zkWorkDir('plumb-zk-arith-');
  itOpCases(cases, 70, work);

  const present = ezklModels().length > 0;
  for (const name of corpusModels)
    it(`ezkl ${name}: witness outputs equal the executor`, {
      skip: present ? false : 'no corpus',
    }, async (t) => {
      const c = loadEzklCase(name);
      const { constraints } = await assertWitnessExact(c.bytes, c.inputs, join(work, name));
      t.diagnostic(`${name}: ${constraints} constraints`);
    });

  it('Mul of two inputs -> HardSwish: full Groth16 prove + verify', async (t) => {
    const { bytes, inputs } = buildCase(
      {
        name: 'groth16',
        shapes: [[4], [4]],
        nodes: [node('Mul', ['x', 'x2'], undefined, ['m']), node('HardSwish', ['m'])],
        tol: 0,
      },
      9,
    );
    const a = await setupModel(bytes, { workDir: join(work, 'groth16'), ptauDir });
    const p = await prove(a, inputs);
    const raw = compileExact(bytes).run(inputs).raw.get('y');
    assert.deepEqual(p.outputs['y']!.raw, raw);
    assert.equal(await verify(a.vkey, p.proof, p.publicSignals, a.circuit), true);
    t.diagnostic(`Mul+HardSwish Groth16: ${a.constraints} constraints, prove ${p.proveMs.toFixed(0)} ms`);
  });

  it('refuses non-constant exponents, bounds and slopes, and non-integer or negative exponents, naming the node', () => {
    const refuse = (nodes: NodeSpec[], initializers: Record<string, Tensor>, re: RegExp, opset = 17) => {
      const bytes = buildModel({
        inputs: [
          { name: 'x', dtype: 'float32', shape: [2, 2] },
          { name: 'x2', dtype: 'float32', shape: [] },
        ],
        outputs: [{ name: 'y', dtype: 'float32', shape: null }],
        nodes,
        initializers,
        opset,
      });
      assert.throws(
        () => compileCircuit(bytes),
        (e: unknown) => isPlumbError(e) && e.code === 'INVALID_MODEL' && re.test(e.message),
      );
    };
    refuse([node('Pow', ['x', 'x2'])], {}, /Pow node "pow": the exponent must be a constant in circuits/);
    refuse([node('Pow', ['x', 'e'])], { e: f32([], [-1]) }, /Pow node "pow": a negative exponent/);
    refuse([node('Pow', ['x', 'e'])], { e: f32([], [1.5]) }, /Pow node "pow": only integer exponents/);
    refuse([node('Clip', ['x', 'x2'])], {}, /Clip node "clip": the min bound must be a constant/);
    refuse([node('PRelu', ['x', 'x2'])], {}, /PRelu node "prelu": the slope must be a constant/);
  });
});
