/**
 * The exact executor's layout, arithmetic, reduction and logic ops (layout.ts, cast.ts, math.ts,
 * reduce.ts, logic.ts, Pad modes) against onnxruntime: shapes equal, values within a bound
 * derived per case from the rounding rules (EPS = 2^-(s+1) per rounding, see exact.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildModel, type NodeSpec, seededRandom } from '../../../test/fixtures/onnx-builder.ts';
import { ortOutputs } from '../../../test/helpers/ort.ts';
import { isPlumbError } from '../../core/errors.ts';
import type { Tensor } from '../../core/tensor.ts';
import { compileExact } from './exact.ts';

const S = 12;
const EPS = 2 ** -(S + 1);
const FLOAT_SLACK = 1e-5;

const f32 = (shape: number[], data: number[]): Tensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(data),
});
const i64 = (shape: number[], data: number[]): Tensor => ({
  dtype: 'int64',
  shape,
  data: BigInt64Array.from(data.map(BigInt)),
});
const rand = (seed: number, n: number, span: number) => {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * span);
};

type Case = {
  name: string;
  x: number[];
  nodes: NodeSpec[];
  initializers?: Record<string, Tensor>;
  opset?: number;
  /** Allowed max abs difference from onnxruntime. */
  tol: number;
  span?: number;
};

async function check(c: Case, seed: number): Promise<number> {
  const n = c.x.reduce((a, b) => a * b, 1);
  const bytes = buildModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: c.x }],
    outputs: [{ name: 'y', dtype: 'float32', shape: null }],
    nodes: c.nodes,
    initializers: c.initializers ?? {},
    opset: c.opset ?? 17,
  });
  const inputs = { x: f32(c.x, rand(seed, n, c.span ?? 3)) };
  const got = compileExact(bytes).run(inputs).outputs['y']!;
  const ref = (await ortOutputs(bytes, inputs))['y']!;
  assert.deepEqual([...got.shape], [...ref.shape], `${c.name}: shape`);
  const a = got.data as ArrayLike<number | bigint>;
  const b = ref.data as ArrayLike<number | bigint>;
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(Number(a[i]) - Number(b[i])));
  assert.ok(worst <= c.tol + FLOAT_SLACK, `${c.name}: error ${worst} exceeds ${c.tol}`);
  return worst;
}

const node = (op: string, inputs: string[], attrs?: NodeSpec['attrs'], outputs = ['y']): NodeSpec => ({
  op,
  name: outputs[0] === 'y' ? op.toLowerCase() : `${op.toLowerCase()}_${outputs[0]}`,
  inputs,
  outputs,
  ...(attrs ? { attrs } : {}),
});

// Inputs are in [-3, 3]: quantization error EPS; a product of two values rounds once more.
const moved = EPS; // values only copied
const X = 3;
const cases: Case[] = [
  {
    name: 'Expand',
    x: [3, 1],
    nodes: [node('Expand', ['x', 'sh'])],
    initializers: { sh: i64([3], [2, 3, 4]) },
    tol: moved,
  },
  {
    name: 'Tile',
    x: [2, 3],
    nodes: [node('Tile', ['x', 'r'])],
    initializers: { r: i64([2], [2, 3]) },
    tol: moved,
  },
  ...(
    [
      ['half_pixel', 'round_prefer_floor', [1, 1, 2, 3]],
      ['asymmetric', 'floor', [1, 1, 2, 2]],
      ['align_corners', 'round_prefer_ceil', [1, 1, 1.5, 0.5]],
      ['pytorch_half_pixel', 'ceil', [1, 1, 0.6, 2.5]],
    ] as const
  ).map(([t, nm, sc]) => ({
    name: `Resize nearest ${t} ${nm} scales ${sc.join(',')}`,
    x: [1, 2, 4, 5],
    nodes: [
      node('Resize', ['x', '', 'sc'], {
        mode: { string: 'nearest' },
        coordinate_transformation_mode: { string: t },
        nearest_mode: { string: nm },
      }),
    ],
    initializers: { sc: f32([4], [...sc]) },
    tol: moved,
  })),
  ...(
    [
      ['half_pixel', [1, 1, 2, 3]],
      ['asymmetric', [1, 1, 0.6, 2]],
      ['pytorch_half_pixel', [1, 1, 1.5, 0.5]],
      ['align_corners', [1, 1, 2, 2]],
    ] as const
  ).map(([t, sc]) => ({
    name: `Resize linear ${t} scales ${sc.join(',')}`,
    x: [1, 2, 4, 5],
    nodes: [
      node('Resize', ['x', '', 'sc'], {
        mode: { string: 'linear' },
        coordinate_transformation_mode: { string: t },
      }),
    ],
    initializers: { sc: f32([4], [...sc]) },
    // 4 taps: weights quantized (EPS each) times |x| <= 3, the input's EPS, one rounding.
    tol: 4 * 3 * EPS + 2 * EPS,
  })),
  {
    name: 'Upsample linear (opset 9, 2-D input)',
    x: [3, 4],
    opset: 9,
    nodes: [node('Upsample', ['x', 'sc'], { mode: { string: 'linear' } })],
    initializers: { sc: f32([2], [2, 1.5]) },
    tol: 4 * 3 * EPS + 2 * EPS,
  },
  {
    name: 'Resize nearest by sizes',
    x: [1, 2, 3, 4],
    nodes: [node('Resize', ['x', '', '', 'sz'], { mode: { string: 'nearest' } })],
    initializers: { sz: i64([4], [1, 2, 7, 3]) },
    tol: moved,
  },
  {
    name: 'Resize opset 10',
    x: [1, 1, 3, 3],
    opset: 10,
    nodes: [node('Resize', ['x', 'sc'], { mode: { string: 'nearest' } })],
    initializers: { sc: f32([4], [1, 1, 2, 3]) },
    tol: moved,
  },
  {
    name: 'Upsample opset 9',
    x: [1, 2, 2, 3],
    opset: 9,
    nodes: [node('Upsample', ['x', 'sc'], { mode: { string: 'nearest' } })],
    initializers: { sc: f32([4], [1, 1, 2, 2]) },
    tol: moved,
  },
  ...(['reflect', 'edge', 'wrap'] as const).map((mode) => ({
    name: `Pad ${mode}`,
    x: [1, 2, 3, 4],
    opset: 19,
    nodes: [node('Pad', ['x', 'p'], { mode: { string: mode } })],
    initializers: { p: i64([8], [0, 0, 2, 1, 0, 1, 1, 3]) },
    tol: moved,
  })),
  {
    name: 'Pad negative pads and axes (opset 18)',
    x: [2, 3, 4],
    opset: 18,
    nodes: [node('Pad', ['x', 'p', 'v', 'ax'])],
    initializers: { p: i64([4], [-1, 2, 1, -2]), v: f32([], [1.5]), ax: i64([2], [2, 1]) },
    tol: moved,
  },
  {
    name: 'Cast float -> double -> float',
    x: [2, 3],
    nodes: [node('Cast', ['x'], { to: { int: 11 } }, ['d']), node('Cast', ['d'], { to: { int: 1 } })],
    tol: moved,
  },
  {
    name: 'Cast float -> int32 -> float (truncation)',
    x: [2, 5],
    nodes: [node('Cast', ['x'], { to: { int: 6 } }, ['d']), node('Cast', ['d'], { to: { int: 1 } })],
    tol: 0,
  },
  { name: 'Neg', x: [2, 3], nodes: [node('Neg', ['x'])], tol: moved },
  { name: 'Abs', x: [2, 3], nodes: [node('Abs', ['x'])], tol: moved },
  {
    name: 'Max of three (broadcast)',
    x: [2, 3],
    nodes: [node('Max', ['x', 'a', 'b'])],
    initializers: { a: f32([3], [0.5, -1, 2]), b: f32([2, 1], [-0.25, 0.75]) },
    tol: moved,
  },
  {
    name: 'Min of two (broadcast)',
    x: [2, 3],
    nodes: [node('Min', ['x', 'a'])],
    initializers: { a: f32([3], [0.5, -1, 2]) },
    tol: moved,
  },
  {
    name: 'Clip (inputs)',
    x: [3, 4],
    nodes: [node('Clip', ['x', 'lo', 'hi'])],
    initializers: { lo: f32([], [-0.4]), hi: f32([], [1.3]) },
    tol: moved,
  },
  {
    name: 'Clip (max only)',
    x: [3, 4],
    nodes: [node('Clip', ['x', '', 'hi'])],
    initializers: { hi: f32([], [0.3]) },
    tol: moved,
  },
  {
    name: 'Clip (opset 6 attributes)',
    x: [3, 4],
    opset: 6,
    nodes: [node('Clip', ['x'], { min: { float: -1.1 }, max: { float: 0.7 } })],
    tol: moved,
  },
  {
    name: 'PRelu per channel',
    x: [1, 3, 2, 2],
    nodes: [node('PRelu', ['x', 'sl'])],
    initializers: { sl: f32([3, 1, 1], [0.25, -0.5, 1.7]) },
    // x*slope rounded once, |slope| <= 1.7 quantized: EPS * (1 + |x| + |slope|) + one rounding.
    tol: EPS * (1 + X + 1.7) + EPS,
  },
  {
    name: 'HardSigmoid',
    x: [4, 8],
    nodes: [node('HardSigmoid', ['x'], { alpha: { float: 0.3 }, beta: { float: 0.4 } })],
    tol: EPS * (0.3 + X) + 2 * EPS,
  },
  {
    name: 'HardSwish',
    x: [4, 8],
    span: 4,
    nodes: [node('HardSwish', ['x'])],
    tol: 2 * (EPS * (1 / 6 + 4) + 2 * EPS) * 4 + 2 * EPS,
  },
  {
    name: 'Pow 2 and 3',
    x: [2, 4],
    nodes: [node('Pow', ['x', 'e2'], undefined, ['p2']), node('Pow', ['p2', 'e3'])],
    initializers: { e2: f32([], [2]), e3: i64([], [3]) },
    span: 1.2,
    // (x^2)^3 with |x| <= 1.2: x^2 error 2*1.2*EPS + EPS; cubing multiplies by 3*1.44^2, plus roundings.
    tol: 3 * 1.44 ** 2 * (2 * 1.2 * EPS + EPS) + 3 * EPS * 1.44 ** 2 + 3 * EPS,
  },
  {
    name: 'ReduceSum (axes input, keepdims 0)',
    x: [2, 3, 4],
    nodes: [node('ReduceSum', ['x', 'ax'], { keepdims: { int: 0 } })],
    initializers: { ax: i64([2], [0, -1]) },
    tol: 8 * EPS,
  },
  {
    name: 'ReduceMean (attribute axes, opset 17)',
    x: [2, 3, 4],
    nodes: [node('ReduceMean', ['x'], { axes: { ints: [1] } })],
    tol: 2 * EPS,
  },
  {
    name: 'ReduceMean (all axes)',
    x: [2, 3, 4],
    nodes: [node('ReduceMean', ['x'], { keepdims: { int: 0 } })],
    tol: 2 * EPS,
  },
  {
    name: 'ReduceMax',
    x: [2, 3, 4],
    nodes: [node('ReduceMax', ['x'], { axes: { ints: [0, 2] } })],
    tol: moved,
  },
  {
    name: 'ReduceMin (opset 18 axes input)',
    x: [2, 3, 4],
    opset: 18,
    nodes: [node('ReduceMin', ['x', 'ax'])],
    initializers: { ax: i64([1], [1]) },
    tol: moved,
  },
  {
    name: 'Sum, Mean (broadcast), Floor, Ceil, Sign, ThresholdedRelu',
    x: [2, 3],
    nodes: [
      node('Sum', ['x', 'k', 'x'], undefined, ['a']),
      node('Mean', ['x', 'k'], undefined, ['b']),
      node('Floor', ['x'], undefined, ['c']),
      node('Ceil', ['x'], undefined, ['d']),
      node('Sign', ['x'], undefined, ['e']),
      node('ThresholdedRelu', ['x'], { alpha: { float: 0.7 } }, ['f']),
      node('Concat', ['a', 'b', 'c', 'd', 'e', 'f'], { axis: { int: 0 } }),
    ],
    initializers: { k: f32([3], [0.5, -1.25, 2]) },
    tol: 3 * EPS,
  },
  {
    name: 'ReduceL1, ReduceSumSquare, Dropout',
    x: [2, 3],
    nodes: [
      node('Dropout', ['x'], undefined, ['dx']),
      node('ReduceL1', ['dx'], { axes: { ints: [1] } }, ['a']),
      node('ReduceSumSquare', ['dx'], { axes: { ints: [1] } }, ['b']),
      node('Concat', ['a', 'b'], { axis: { int: 0 } }),
    ],
    tol: 18 * EPS + EPS,
  },
  {
    name: 'Split (opset 13 split input, opset 18 num_outputs uneven, opset 11 attribute)',
    x: [2, 5],
    opset: 18,
    nodes: [
      node('Split', ['x'], { axis: { int: 1 }, num_outputs: { int: 3 } }, ['a', 'b', 'c']),
      node('Split', ['x', 'sp'], { axis: { int: -1 } }, ['d', 'e']),
      node('Concat', ['c', 'e', 'a', 'd', 'b'], { axis: { int: 1 } }),
    ],
    initializers: { sp: i64([2], [1, 4]) },
    tol: moved,
  },
  {
    name: 'Split (opset 11 attribute)',
    x: [4, 3],
    opset: 11,
    nodes: [
      node('Split', ['x'], { split: { ints: [3, 1] } }, ['a', 'b']),
      node('Concat', ['b', 'a'], { axis: { int: 0 } }),
    ],
    tol: moved,
  },
  {
    name: 'GlobalAveragePool, GlobalMaxPool',
    x: [2, 3, 2, 3],
    nodes: [
      node('GlobalAveragePool', ['x'], undefined, ['a']),
      node('GlobalMaxPool', ['x'], undefined, ['b']),
      node('Concat', ['a', 'b'], { axis: { int: 1 } }),
    ],
    tol: 2 * EPS,
  },
  ...(['DCR', 'CRD'] as const).map((mode) => ({
    name: `DepthToSpace ${mode} -> SpaceToDepth`,
    x: [1, 8, 2, 3],
    nodes: [
      node('DepthToSpace', ['x'], { blocksize: { int: 2 }, mode: { string: mode } }, ['d']),
      node('SpaceToDepth', ['d'], { blocksize: { int: 2 } }),
    ],
    tol: moved,
  })),
  {
    name: 'GatherElements (negative indices), Trilu lower k = -1, Trilu upper',
    x: [3, 4],
    nodes: [
      node('GatherElements', ['x', 'ix'], { axis: { int: 1 } }, ['g']),
      node('Trilu', ['x', 'k'], { upper: { int: 0 } }, ['lo']),
      node('Trilu', ['x'], undefined, ['up']),
      node('Concat', ['g', 'lo', 'up'], { axis: { int: 0 } }),
    ],
    initializers: { ix: i64([3, 4], [0, -1, 2, 3, 1, 1, -4, 0, 3, 2, 1, 0]), k: i64([], [-1]) },
    tol: moved,
  },
  {
    name: 'CumSum (exclusive, reverse), ReduceProd',
    x: [2, 3],
    span: 1.5,
    nodes: [
      node('CumSum', ['x', 'ax'], { exclusive: { int: 1 }, reverse: { int: 1 } }, ['a']),
      node('CumSum', ['x', 'ax0'], undefined, ['b']),
      node('ReduceProd', ['x'], { axes: { ints: [1] } }, ['c']),
      node('Concat', ['a', 'b', 'c'], { axis: { int: 1 } }),
    ],
    initializers: { ax: i64([], [1]), ax0: i64([1], [0]) },
    // Sums of up to 3 values: 3 EPS; products of 3 values |x| <= 1.5: 3 * 2.25 EPS + 2 roundings.
    tol: 3 * 2.25 * EPS + 2 * 1.5 * EPS + 2 * EPS,
  },
  {
    name: 'Round half to even (ties from Floor + 0.5, random values)',
    x: [2, 5],
    nodes: [
      node('Floor', ['x'], undefined, ['f']),
      node('Add', ['f', 'half'], undefined, ['t']),
      node('Round', ['t'], undefined, ['rt']),
      node('Round', ['x'], undefined, ['rx']),
      node('Concat', ['rt', 'rx'], { axis: { int: 0 } }),
    ],
    initializers: { half: f32([], [0.5]) },
    tol: 0,
  },
  {
    name: 'ScatterElements (axis 1, negative index), ScatterND (rows and elements)',
    x: [3, 4],
    nodes: [
      node('ScatterElements', ['x', 'ie', 'ue'], { axis: { int: 1 } }, ['a']),
      node('ScatterND', ['x', 'ir', 'ur'], undefined, ['b']),
      node('ScatterND', ['x', 'ip', 'up'], undefined, ['c']),
      node('Concat', ['a', 'b', 'c'], { axis: { int: 0 } }),
    ],
    initializers: {
      ie: i64([3, 1], [2, -1, 0]),
      ue: f32([3, 1], [9, 8, 7]),
      ir: i64([1, 1], [-2]),
      ur: f32([1, 4], [1, 2, 3, 4]),
      ip: i64([2, 2], [0, 3, 2, 1]),
      up: f32([2], [-5, 5]),
    },
    tol: moved,
  },
  {
    name: 'Less, Not, Greater, And, Where',
    x: [3, 4],
    nodes: [
      node('Less', ['x', 'z'], undefined, ['lt']),
      node('Not', ['lt'], undefined, ['ge']),
      node('Greater', ['x', 'h'], undefined, ['gt']),
      node('And', ['ge', 'gt'], undefined, ['c']),
      node('Where', ['c', 'x', 'k'], undefined, ['y']),
    ],
    initializers: { z: f32([], [0]), h: f32([], [1]), k: f32([4], [5, -5, 0.5, 0]) },
    tol: moved,
  },
];

describe('exact executor: layout, arithmetic, reduction and logic ops against onnxruntime', () => {
  for (const [i, c] of cases.entries())
    it(c.name, async (t) => {
      const err = await check(c, 100 + i);
      t.diagnostic(`${c.name}: max abs error ${err.toExponential(3)} (bound ${c.tol.toExponential(3)})`);
    });

  it('refuses invalid uses with the node named', () => {
    const bad = (nodes: NodeSpec[], initializers: Record<string, Tensor>, opset = 17) => {
      const bytes = buildModel({
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 2, 2] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: null }],
        nodes,
        initializers,
        opset,
      });
      return () => compileExact(bytes).run({ x: f32([1, 1, 2, 2], [1, 2, 3, 4]) });
    };
    const refused = (fn: () => unknown, re: RegExp) =>
      assert.throws(fn, (e: unknown) => isPlumbError(e) && re.test(e.message));
    refused(
      bad([node('Resize', ['x', '', 'sc'], { mode: { string: 'cubic' } })], { sc: f32([4], [1, 1, 2, 2]) }),
      /Resize node "resize": mode cubic/,
    );
    refused(bad([node('Pow', ['x', 'e'])], { e: f32([], [0.5]) }), /Pow node "pow": only integer exponents/);
    refused(bad([node('Cast', ['x'], { to: { int: 10 } })], {}), /Cast node "cast": cast to element type 10/);
    refused(
      bad([node('Pad', ['x', 'p'], { mode: { string: 'reflect' } })], {
        p: i64([8], [0, 0, 2, 0, 0, 0, 0, 0]),
      }),
      /Pad node "pad": reflect pads/,
    );
  });
});
