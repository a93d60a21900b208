/**
 * Nonlinear ops in circuits, each equal to the exact executor's integers
 * (runtime/exact/piecewise.ts, runtime/exact/ops/nonlinear.ts, ArgMax in ops/indexing.ts):
 * - Sigmoid, Tanh, Erf, Softplus (and the exp of Softmax): one `Pw_*` template instance per
 *   element. The prover supplies the sign bit sg and the bits of |x| = t + 2^TB * J, with
 *   x = (2 sg - 1) |x| (one quadratic constraint; |x| < p/2 so it is the integer |x|). J is split
 *   as J' + N * e_N where e_0..e_N is a one-hot selector (N + 1 booleans, sum 1) and J' is
 *   range-checked: e_N = 1 forces J >= N (saturation), otherwise J' - sum i e_i = J' e_N pins
 *   e to segment J. The cubic's coefficients are LINEAR in the one-hot bits (free); the Horner sum
 *   ((c3 t + c2 T) t + c1 T^2) t + c0 T^3 takes three products; one rounding by the remainder's
 *   bit decomposition (v range-checked), exactly `rshiftRound`. The saturated row has only c0.
 *   The result is assembled from sg by the function's symmetry (one more constraint).
 * - Softmax (rows of the executor's `softmaxPlan`): row max by the max gadget, e_j = exp(x_j - m)
 *   at 2^(s+8) by the piecewise template, then y_j = floor((2^(s+1) e_j + S) / (2S)) (= divRound)
 *   by the DivSignal gadget: n = q d + r with r and d - 1 - r range-checked (so r in [0, d) and
 *   d >= 1), q range-checked, one quadratic constraint.
 * - ArgMax: row max, z_j = [x_j == m] by an inverse (IsZero, two constraints), the first (or last,
 *   select_last_index) z_j by a running product (one constraint), index = sum j e_j (linear).
 *   The output is an integer tensor (marked `int`, as logic.ts's), the executor's int64 indices.
 * - Gelu: the executor's integer steps (ops/nonlinear.ts `geluFixed`): Rescale / DivConst roundings,
 *   products of two signals (elementwise.ts `product`), erf or tanh by the piecewise template.
 * - Div by a non-constant divisor q (executor: divRound(p 2^s, q)): the sign bit of q, |q| and
 *   the sign-adjusted numerator by two products, then DivSignal of 2^(s+1) p' + |q| by 2 |q|
 *   (q = 0 has no proof: DivSignal needs a divisor >= 1; the executor fails too).
 * - LayerNormalization (Y only), InstanceNormalization: the executor's steps: mean by DivConst, sum of squares by
 *   products, variance by DivConst, std by the Sqrt gadget, each d / std by DivSignal, then the
 *   Scale product and B as a Rescale.
 * - Elu / Selu / Celu: the sign bit of x selects x or the rounded alpha (exp(u) - 1) (one
 *   constraint), exp by the piecewise template, Celu's u = divRound(x 2^s, alpha) by DivConst.
 * - Softsign: |x| by the sign bit (one product), DivSignal by 2^s + |x|. Reciprocal: Div of 1.
 * - Exp: t = Rescale(x log2e), clamped below by the max gadget, t - kMin 2^hi = r + 2^hi J with r
 *   range-checked and J one-hot (so 2^J is linear in it), 2^r piecewise, y = DivConst-rounded
 *   2^r 2^J (one product); results above 2^(maxBits - 3) have no proof.
 * - Log: a one-hot h over k with 2^k <= X < 2^(k+1) (two range checks; 2^k and 2^(K-k) linear in
 *   h), f 2^K = (X - 2^k) 2^(K-k) by one product, truncated to 2^hi by DivConst, ln(1 + f)
 *   piecewise, (k - s) ln2 linear, one rounding. X <= 0 has no proof.
 * - ReduceL2: squares by products, summed, the Sqrt gadget at shift 0; ReduceLogSumExp: the
 *   row max plus LogSoftmax's ln S.
 * - Sqrt: the prover supplies y; y^2 <= X 2^s <= y^2 + 2y (both range-checked) is isqrt(X 2^s).
 */
import { PlumbError } from '../../core/errors.ts';
import type { NodeProto } from '../../core/onnx/types.ts';
import { attrInt, nodeError } from '../../runtime/exact/attributes.ts';
import { isqrt } from '../../runtime/exact/fixed.ts';
import {
  eluPlan,
  expPlan,
  geluPlan,
  instanceNormPlan,
  LAYERNORM_GUARD,
  layerNormPlan,
  logPlan,
  logSumPlan,
  SOFTMAX_GUARD,
  softmaxPlan,
} from '../../runtime/exact/ops/nonlinear.ts';
import { reduceGroups } from '../../runtime/exact/ops/reduce.ts';
import {
  type PiecewiseKind,
  type PiecewiseTable,
  piecewiseEval,
  piecewiseTable,
} from '../../runtime/exact/piecewise.ts';
import { asFixed, broadcastIndex, broadcastShape, normAxis, size } from '../../runtime/exact/tensor.ts';
import { signedBits } from './bounds.ts';
import { product } from './elementwise.ts';
import { FIELD_PRIME } from './field.ts';
import type { Emitter } from './gadgets.ts';
import { type Lin, linCombine, linConst, linSignal, type Sym, symOf, type Val } from './lin.ts';
import type { IntSym } from './logic.ts';
import type { LowerContext } from './nn.ts';

/** Op types this module lowers. */
export const nonlinearCircuitOps: readonly string[] = [
  'ArgMax',
  'Celu',
  'Elu',
  'Reciprocal',
  'ReduceL2',
  'ReduceLogSumExp',
  'Selu',
  'Softsign',
  'Erf',
  'Exp',
  'Gelu',
  'InstanceNormalization',
  'LayerNormalization',
  'Log',
  'LogSoftmax',
  'Sigmoid',
  'Softmax',
  'Softplus',
  'Sqrt',
  'Tanh',
];

const FIELD_BITS = FIELD_PRIME.toString(2).length - 2;

const bitLength = (v: bigint): number => (v <= 0n ? 0 : v.toString(2).length);

/** How the template assembles y from sg and g = g(|x|). */
type Mode = 'odd' | 'sigmoid' | 'softplus' | 'exp';

const modeOf: Record<PiecewiseKind, Mode> = {
  sigmoid: 'sigmoid',
  tanh: 'odd',
  erf: 'odd',
  softplus: 'softplus',
  exp: 'exp',
  log1p: 'exp',
  exp2: 'exp',
};

type PwTemplate = { name: string; yBound: bigint };

/** Signed width of the rounded g: |g| <= sum |c_k| / 2^(q - out) + 1 for any u in [0, 1). */
function gWidth(table: PiecewiseTable): number {
  let max = 0n;
  for (const row of table.coeffs) {
    const sum = row.reduce((a, c) => a + (c < 0n ? -c : c), 0n);
    if (sum > max) max = sum;
  }
  return signedBits((max >> BigInt(table.q - table.out)) + 2n);
}

/** The circom template of one piecewise function (parameter JB: bits of J'). */
function pwSource(name: string, table: PiecewiseTable, mode: Mode, yb: number): string {
  const { tb: TB, count: N, shift } = table;
  const T = 1n << BigInt(TB);
  const yoff = 1n << BigInt(yb - 1);
  const rows = table.coeffs.map((r) => `[${r.join(', ')}]`).join(',\n        ');
  const L: string[] = [
    `// ${table.kind}: g(|x|) by a piecewise cubic on ${N} segments (runtime/exact/piecewise.ts), x at 2^${table.s}, g at 2^${table.out}.`,
    `template ${name}(JB) {`,
    '    signal input x;',
    '    signal output y;',
    `    var N = ${N};`,
    `    var C[${N + 1}][4] = [\n        ${rows}\n    ];`,
    '    signal sg;',
    '    sg <-- x < 0 ? 0 : 1;',
    '    sg * (sg - 1) === 0;',
    '    var av = x < 0 ? -x : x;',
    `    var jv = av >> ${TB};`,
    '    var sat = jv >= N ? 1 : 0;',
    '    var t = 0;',
    '    var e2 = 1;',
  ];
  if (TB > 0)
    L.push(
      `    signal tb[${TB}];`,
      `    for (var i = 0; i < ${TB}; i++) {`,
      '        tb[i] <-- (av >> i) & 1;',
      '        tb[i] * (tb[i] - 1) === 0;',
      '        t += tb[i] * e2;',
      '        e2 += e2;',
      '    }',
    );
  L.push(
    '    signal jb[JB];',
    '    var jl = 0;',
    '    e2 = 1;',
    '    for (var i = 0; i < JB; i++) {',
    '        jb[i] <-- ((jv - N * sat) >> i) & 1;',
    '        jb[i] * (jb[i] - 1) === 0;',
    '        jl += jb[i] * e2;',
    '        e2 += e2;',
    '    }',
    '    signal e[N + 1];',
    '    var esum = 0;',
    '    var eidx = 0;',
    '    var c0 = 0;',
    '    var c1 = 0;',
    '    var c2 = 0;',
    '    var c3 = 0;',
    '    for (var i = 0; i <= N; i++) {',
    '        e[i] <-- sat == 1 ? (i == N ? 1 : 0) : (i == jv ? 1 : 0);',
    '        e[i] * (e[i] - 1) === 0;',
    '        esum += e[i];',
    '        if (i < N) eidx += i * e[i];',
    '        c0 += C[i][0] * e[i];',
    '        c1 += C[i][1] * e[i];',
    '        c2 += C[i][2] * e[i];',
    '        c3 += C[i][3] * e[i];',
    '    }',
    '    esum === 1;',
    '    jl * e[N] === jl - eidx;',
    `    x === (2 * sg - 1) * (t + ${T} * (jl + N * e[N]));`,
  );
  if (TB > 0)
    L.push(
      '    signal h1;',
      '    h1 <== c3 * t;',
      '    signal h2;',
      `    h2 <== (h1 + ${T} * c2) * t;`,
      '    signal h3;',
      `    h3 <== (h2 + ${T * T} * c1) * t;`,
    );
  else L.push('    var h3 = 0;');
  const unit = 1n << BigInt(shift);
  L.push(
    `    var u = h3 + ${T * T * T} * c0 + ${(unit >> 1n) + yoff * unit};`,
    '    signal v;',
    '    signal r;',
    `    v <-- u \\ ${unit};`,
    `    r <-- u % ${unit};`,
    `    u === v * ${unit} + r;`,
    `    component rb = Bits(${shift});`,
    '    rb.in <== r;',
    `    component vb = Bits(${yb});`,
    '    vb.in <== v;',
  );
  const g = `(v - ${yoff})`;
  if (mode === 'odd') L.push(`    y <== (2 * sg - 1) * ${g};`);
  else if (mode === 'sigmoid') L.push(`    y <== (2 * sg - 1) * ${g} + ${1n << BigInt(table.out - 1)};`);
  else if (mode === 'exp') L.push(`    y <== ${g};`);
  else L.push('    signal relu;', '    relu <== sg * x;', `    y <== relu + ${g};`);
  L.push('}', '');
  return L.join('\n');
}

/** Register (once) the template of `kind` at input scale s and output scale out. */
function pwTemplate(
  em: Emitter,
  kind: PiecewiseKind,
  out: number,
  inScale: number,
): PwTemplate & { table: PiecewiseTable; yb: number } {
  const table = piecewiseTable(kind, inScale, out);
  const yb = gWidth(table);
  const name = `Pw_${kind}_${inScale}_${out}`;
  if (!em.templates.has(name)) em.templates.set(name, pwSource(name, table, modeOf[kind], yb));
  return { name, yBound: 1n << BigInt(yb - 1), table, yb };
}

/** f(x) of a piecewise kind as a new signal (see the header). */
export function piecewise(
  em: Emitter,
  kind: PiecewiseKind,
  x: Lin,
  what: string,
  out = em.s,
  inScale = em.s,
): Lin {
  // a constant argument (e.g. a constant row of Softmax): the executor's value itself
  if (x.terms.size === 0) return linConst(piecewiseEval(piecewiseTable(kind, inScale, out), x.c));
  const { name, yBound, table, yb } = pwTemplate(em, kind, out, inScale);
  const mode = modeOf[kind];
  // |x| < 2^aBits for any witness (capped: wider honest values have no proof, as everywhere).
  const aBits = Math.min(bitLength(em.bound(x)), em.bits - 1);
  const jb = Math.max(table.n, aBits - table.tb);
  if (table.q + 3 * table.tb + yb + 8 >= FIELD_BITS || table.shift + yb + 2 >= FIELD_BITS)
    throw new PlumbError('INVALID_MODEL', `${what}: scale too large for the field`);
  const inst = em.fresh('pw');
  em.lines.push(`    component ${inst} = ${name}(${jb});`);
  em.lines.push(`    ${inst}.x <== ${em.render(x, what)};`);
  // sg, |x| bits, one-hot, link, sign, 3 products, remainder and value bits, output.
  em.constraints += 1 + table.tb + jb + (table.count + 1) + 3 + 3 + (table.shift + 1) + (yb + 1) + 1 + 1;
  let bound = yBound;
  if (mode === 'sigmoid') bound = yBound + (1n << BigInt(out - 1));
  if (mode === 'softplus') {
    bound = yBound + em.bound(x);
    em.constraints += 1;
  }
  const ref = `${inst}.y`;
  em.registerBound(ref, bound);
  const y = linSignal(ref);
  y.bound = bound;
  y.checked = true;
  return y;
}

const DIV_SIGNAL = `// n = q * d + r with r in [0, d) (r and d - 1 - r in [0, 2^K), so d >= 1), q + 2^(QB-1) in [0, 2^QB).
template DivSignal(K, QB) {
    signal input n;
    signal input d;
    signal output q;
    q <-- n < 0 ? -((-n + d - 1) \\ d) : n \\ d;
    signal r;
    r <== n - q * d;
    component rb = Bits(K);
    rb.in <== r;
    component rc = Bits(K);
    rc.in <== d - 1 - r;
    component qb = Bits(QB);
    qb.in <== q + (1 << (QB - 1));
}
`;

/** floor(n / d) for a non-constant d >= 1 whose quotient fits qBits signed bits. */
export function divSignal(em: Emitter, n: Lin, d: Lin, qBits: number, what: string): Lin {
  if (!em.templates.has('DivSignal')) em.templates.set('DivSignal', DIV_SIGNAL);
  const K = Math.max(1, bitLength(em.bound(d)));
  const qb = Math.min(qBits, em.bits);
  const q = 1n << BigInt(qb - 1);
  if (bitLength(q) + K + 2 >= FIELD_BITS)
    throw new PlumbError('INVALID_MODEL', `${what}: values too large for the field`);
  const inst = em.fresh('ds');
  em.lines.push(`    component ${inst} = DivSignal(${K}, ${qb});`);
  em.lines.push(`    ${inst}.n <== ${em.render(n, what)};`);
  em.lines.push(`    ${inst}.d <== ${em.render(d, what)};`);
  em.constraints += 1 + 2 * (K + 1) + qb + 1 + 2;
  const ref = `${inst}.q`;
  em.registerBound(ref, q);
  const y = linSignal(ref);
  y.bound = q;
  y.checked = true;
  return y;
}

const SQRT = `function plumbIsqrt(n) {
    if (n < 2) return n;
    var x = n;
    var y = (x + 1) \\ 2;
    while (y < x) {
        x = y;
        y = (x + n \\ x) \\ 2;
    }
    return x;
}

// y = isqrt(x * 2^S): y^2 <= x 2^S <= y^2 + 2y, y in [0, 2^YB), both gaps in [0, 2^RB).
template PlumbSqrt(S, YB, RB) {
    signal input x;
    signal output y;
    y <-- plumbIsqrt(x * (1 << S));
    signal yy;
    yy <== y * y;
    component yb = Bits(YB);
    yb.in <== y;
    component lo = Bits(RB);
    lo.in <== x * (1 << S) - yy;
    component hi = Bits(RB);
    hi.in <== yy + 2 * y - x * (1 << S);
}
`;

function sqrt(em: Emitter, x: Lin, what: string, shift = em.s): Lin {
  if (!em.templates.has('PlumbSqrt')) em.templates.set('PlumbSqrt', SQRT);
  const v = em.bound(x) << BigInt(shift);
  const yb = Math.min(Math.ceil(bitLength(v) / 2) + 1, em.bits);
  const rb = yb + 2;
  const inst = em.fresh('sq');
  em.lines.push(`    component ${inst} = PlumbSqrt(${shift}, ${yb}, ${rb});`);
  em.lines.push(`    ${inst}.x <== ${em.render(x, what)};`);
  em.constraints += 1 + (yb + 1) + 2 * (rb + 1);
  const ref = `${inst}.y`;
  const bound = 1n << BigInt(yb);
  em.registerBound(ref, bound);
  const y = linSignal(ref);
  y.bound = bound;
  y.nonneg = true;
  return y;
}

function rowMax(em: Emitter, xs: Lin[], what: string): Lin {
  let m = xs[0]!;
  for (const v of xs.slice(1)) m = em.max(m, v, what);
  return m;
}

/** Row max m, e_j = exp(x_j - m) at 2^(s + SOFTMAX_GUARD) and their sum S. */
function expRow(em: Emitter, xs: Lin[], what: string): { m: Lin; e: Lin[]; sum: Lin } {
  const out = em.s + SOFTMAX_GUARD;
  const m = rowMax(em, xs, what);
  const e = xs.map((v) =>
    v === m ? linConst(1n << BigInt(out)) : piecewise(em, 'exp', linCombine(v, 1n, m, -1n), what, out),
  );
  return { m, e, sum: e.reduce((a, b) => linCombine(a, 1n, b, 1n), linConst(0n)) };
}

/**
 * The leading bit of x as a one-hot over k in [kMin, kMax) with 2^k <= x < 2^(k+1): boolean
 * signals `${name}_h[k - kMin]` summing to 1, and x - 2^k and 2^(k+1) - 1 - x range-checked to
 * kMax bits (components `${name}_lo`, `${name}_hi`). Returns the one-hot (h[i] for k = kMin + i)
 * and low = x - 2^k.
 */
function leadingBit(
  em: Emitter,
  x: Lin,
  name: string,
  kMin: number,
  kMax: number,
  what: string,
): { h: Lin[]; low: Lin } {
  const L = kMax - kMin;
  const X = em.render(x, what);
  em.lines.push(`    signal ${name}_h[${L}];`);
  const h: Lin[] = [];
  let one = linConst(0n);
  for (let i = 0; i < L; i++) {
    const signal = `${name}_h[${i}]`;
    em.lines.push(`    ${signal} <-- ((${X}) >> ${kMin + i}) == 1 ? 1 : 0;`);
    em.lines.push(`    ${signal} * (${signal} - 1) === 0;`);
    em.registerBound(signal, 1n);
    const hl = linSignal(signal);
    h.push(hl);
    one = linCombine(one, 1n, hl, 1n);
  }
  em.lines.push(`    ${em.render(one, what)} === 1;`);
  em.constraints += L + 1;
  const pow = oneHotSum(h, kMin, (k) => 1n << BigInt(k));
  const low = linCombine(x, 1n, pow, -1n);
  for (const [tag, l] of [
    ['lo', low],
    ['hi', linCombine(pow, 2n, linCombine(x, 1n, linConst(1n), 1n), -1n)],
  ] as const) {
    em.lines.push(`    component ${name}_${tag} = Bits(${kMax});`);
    em.lines.push(`    ${name}_${tag}.in <== ${em.render(l, what)};`);
    em.constraints += kMax + 1;
  }
  return { h, low };
}

/** The sum over a one-hot of h[i] * weight(kMin + i) (linear). */
function oneHotSum(h: readonly Lin[], kMin: number, weight: (k: number) => bigint): Lin {
  let out = linConst(0n);
  h.forEach((hl, i) => {
    out = linCombine(out, 1n, hl, weight(kMin + i));
  });
  return out;
}

/**
 * ln(S / 2^hi) rounded to 2^s (hi = s + SOFTMAX_GUARD), as the executor's `lnSum`: a one-hot h over
 * k in [kMin, kMax) with 2^k <= S < 2^(k+1) (two range checks), f = (S - 2^k) 2^(kMax - k) (one
 * product: 2^k and 2^(kMax - k) are linear in h), ln(1 + f) piecewise, (k - hi) ln2 linear in h.
 */
function lnSumCircuit(em: Emitter, sum: Lin, n: number, what: string): Lin {
  const plan = logSumPlan(n, em.s);
  const hi = em.s + SOFTMAX_GUARD;
  const name = em.fresh('ln');
  const { h, low } = leadingBit(em, sum, name, plan.kMin, plan.kMax, what);
  const inv = oneHotSum(h, plan.kMin, (k) => 1n << BigInt(plan.kMax - k));
  const ln = oneHotSum(h, plan.kMin, (k) => BigInt(k - hi) * plan.ln2);
  const f = `${name}_f`;
  em.lines.push(`    signal ${f};`);
  em.lines.push(`    ${f} <== (${em.render(low, what)}) * (${em.render(inv, what)});`);
  em.constraints += 1;
  const fBound = 1n << BigInt(2 * plan.kMax - plan.kMin);
  em.registerBound(f, fBound);
  const fl = linSignal(f);
  fl.bound = fBound;
  const g = piecewise(em, 'log1p', fl, what, hi, plan.kMax);
  const total = linCombine(ln, 1n, g, 1n);
  return em.divFloor(
    linCombine(total, 1n, linConst(1n << BigInt(SOFTMAX_GUARD - 1)), 1n),
    1n << BigInt(SOFTMAX_GUARD),
    what,
  );
}

function softmax(
  node: NodeProto,
  xv: Val,
  em: Emitter,
  ctx: LowerContext & { opset: number },
  log: boolean,
): Sym {
  const x = symOf(xv, ctx.s);
  const what = `${node.opType} node "${node.name}"`;
  const data = new Array<Lin>(x.data.length);
  for (const row of softmaxPlan(node, ctx.opset, x.shape).rows) {
    if (row.length === 0) continue;
    const xs = row.map((i) => x.data[i]!);
    const { m, e, sum } = expRow(em, xs, what);
    if (log) {
      const ln = lnSumCircuit(em, sum, xs.length, what);
      row.forEach((i, j) => {
        data[i] = linCombine(linCombine(xs[j]!, 1n, m, -1n), 1n, ln, -1n);
      });
      continue;
    }
    const d = linCombine(sum, 2n, linConst(0n), 0n);
    row.forEach((i, j) => {
      const n = linCombine(e[j]!, 1n << BigInt(em.s + 1), sum, 1n);
      data[i] = divSignal(em, n, d, em.s + 3, what);
    });
  }
  return { kind: 'sym', shape: x.shape, data };
}

/** [l == 0] as a new boolean signal (two constraints). */
function isZero(em: Emitter, l: Lin, what: string): string {
  const name = em.fresh('iz');
  const expr = em.render(l, what);
  em.lines.push(`    signal ${name}_inv;`);
  em.lines.push(`    signal ${name};`);
  em.lines.push(`    ${name}_inv <-- (${expr}) != 0 ? 1 / (${expr}) : 0;`);
  em.lines.push(`    ${name} <== 1 - (${expr}) * ${name}_inv;`);
  em.lines.push(`    (${expr}) * ${name} === 0;`);
  em.constraints += 2;
  em.registerBound(name, 1n);
  return name;
}

function argMax(node: NodeProto, xv: Val, em: Emitter, ctx: LowerContext): Sym {
  const x = symOf(xv, ctx.s);
  const what = `ArgMax node "${node.name}"`;
  const rank = x.shape.length;
  const axis = normAxis(attrInt(node, 'axis', 0), rank, node);
  const keep = attrInt(node, 'keepdims', 1) === 1;
  const last = attrInt(node, 'select_last_index', 0) === 1;
  const dim = x.shape[axis]!;
  if (dim === 0) throw nodeError(node, 'cannot take the ArgMax of an empty axis');
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const data: Lin[] = [];
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const xs = Array.from({ length: dim }, (_, j) => x.data[(o * dim + j) * inner + i]!);
      if (dim === 1) {
        data.push(linConst(0n));
        continue;
      }
      const m = rowMax(em, xs, what);
      const order = Array.from({ length: dim }, (_, j) => (last ? dim - 1 - j : j));
      // running product p: 1 until the first index (in scan order) equal to the max
      let p: Lin = linConst(1n);
      let index: Lin = linConst(0n);
      for (const j of order) {
        const z = isZero(em, linCombine(m, 1n, xs[j]!, -1n), what);
        const e = em.fresh('am');
        em.lines.push(`    signal ${e};`);
        em.lines.push(`    ${e} <== (${em.render(p, what)}) * ${z};`);
        em.constraints += 1;
        em.registerBound(e, 1n);
        p = linCombine(p, 1n, linSignal(e), -1n);
        p.bound = 1n;
        index = linCombine(index, 1n, linSignal(e), BigInt(j));
      }
      index.bound = BigInt(dim);
      index.nonneg = true;
      data.push(index);
    }
  const shape = keep ? x.shape.map((d, k) => (k === axis ? 1 : d)) : x.shape.filter((_, k) => k !== axis);
  const out: IntSym = { kind: 'sym', shape, data, int: true };
  return out;
}

function elementwise(node: NodeProto, xv: Val, ctx: LowerContext, fn: (l: Lin, what: string) => Lin): Sym {
  const x = symOf(xv, ctx.s);
  const what = `${node.opType} node "${node.name}"`;
  return { kind: 'sym', shape: x.shape, data: x.data.map((l) => fn(l, what)) };
}

function gelu(node: NodeProto, xv: Val, em: Emitter, ctx: LowerContext): Sym {
  const plan = geluPlan(node, ctx.scale);
  const hi = BigInt(plan.hi);
  const guard = hi - ctx.s;
  const scaled = (l: Lin, k: bigint) => linCombine(l, k, linConst(0n), 0n);
  /** rshiftRound(l, k) for k > 0. */
  const shiftRound = (l: Lin, k: bigint, what: string) =>
    em.divFloor(linCombine(l, 1n, linConst(1n << (k - 1n)), 1n), 1n << k, what);
  return elementwise(node, xv, ctx, (x, what) => {
    let arg: Lin;
    if (plan.approximate === 'none') arg = em.rescale(scaled(x, plan.k), 0n, what);
    else {
      const x2 = em.rescale(product(em, x, x, what), 0n, what);
      const x3 = em.rescale(product(em, x2, x, what), 0n, what);
      const inner = linCombine(x, 1n << guard, em.rescale(scaled(x3, plan.a), 0n, what), 1n);
      arg = shiftRound(scaled(inner, plan.k), hi, what);
    }
    const e = piecewise(em, plan.table.kind, arg, what, plan.hi, plan.hi);
    const p = product(em, x, linCombine(e, 1n, linConst(1n << hi), 1n), what);
    return shiftRound(p, hi + 1n, what);
  });
}

/** Div with a non-constant divisor (see the header). */
export function divSym(node: NodeProto, a: Val, b: Val, em: Emitter, ctx: LowerContext): Sym {
  if (b.kind === 'const') throw nodeError(node, 'expected a non-constant divisor');
  const x = symOf(a, ctx.s);
  const y = b;
  const what = `Div node "${node.name}"`;
  const shape = broadcastShape(x.shape, y.shape, node);
  const ix = broadcastIndex(x.shape, shape);
  const iy = broadcastIndex(y.shape, shape);
  const data = Array.from({ length: size(shape) }, (_, k) => {
    const p = x.data[ix[k]!]!;
    const q = y.data[iy[k]!]!;
    const sign = linCombine(linSignal(em.sign(q, what)), 2n, linConst(-1n), 1n);
    sign.bound = 1n;
    const absQ = product(em, sign, q, what);
    const num = linCombine(product(em, sign, p, what), 2n << ctx.s, absQ, 1n);
    const qBits = bitLength(em.bound(p) << ctx.s) + 2;
    return divSignal(em, num, linCombine(absQ, 2n, linConst(0n), 0n), qBits, what);
  });
  return { kind: 'sym', shape, data };
}

function layerNorm(node: NodeProto, get: (i: number) => Val, em: Emitter, ctx: LowerContext): Sym {
  const x = symOf(get(0), ctx.s);
  const what = `LayerNormalization node "${node.name}"`;
  const gv = get(1);
  const bv = node.input[2] ? get(2) : undefined;
  if (gv.kind !== 'const' || bv?.kind === 'sym')
    throw nodeError(node, 'Scale and B must be constants in circuits');
  const gamma = asFixed(gv.t, ctx.s);
  const beta = bv?.kind === 'const' ? asFixed(bv.t, ctx.s) : undefined;
  const plan = layerNormPlan(node, ctx.scale, x.shape);
  const gi = plan.paramIndex(gamma.shape);
  const bi = beta ? plan.paramIndex(beta.shape) : undefined;
  const data = new Array<Lin>(x.data.length);
  for (const row of plan.rows) {
    const y = normalizedRow(
      em,
      row.map((i) => x.data[i]!),
      plan.eps,
      what,
    );
    row.forEach((i, j) => {
      const g = gamma.data[gi[j]!]!;
      data[i] = em.rescale(
        linCombine(y[j]!, g, linConst(0n), 0n),
        beta && bi ? beta.data[bi[j]!]! : 0n,
        what,
      );
    });
  }
  return { kind: 'sym', shape: x.shape, data };
}

/** The executor's `layerNormRow` (before Scale and B): mean, variance, std, one DivSignal each. */
function normalizedRow(em: Emitter, xs: Lin[], eps: bigint, what: string): Lin[] {
  const n = BigInt(xs.length);
  const s = BigInt(em.s);
  const sum = xs.reduce((a, b) => linCombine(a, 1n, b, 1n), linConst(0n));
  // divRound(a, n) = floor((2a + n) / 2n)
  const mean = em.divFloor(linCombine(sum, 2n, linConst(n), 1n), 2n * n, what);
  const d = xs.map((v) => linCombine(v, 1n, mean, -1n));
  const sq = d.reduce((a, v) => linCombine(a, 1n, product(em, v, v, what), 1n), linConst(0n));
  const variance = em.divFloor(linCombine(sq, 2n, linConst(n), 1n), 2n * n, what);
  const std = sqrt(em, linCombine(variance, 1n, linConst(eps), 1n), what, 2 * LAYERNORM_GUARD);
  const qBits = bitLength(isqrt(n) + 1n) + em.s + 3;
  return d.map((v) =>
    divSignal(
      em,
      linCombine(v, 2n << (s + BigInt(LAYERNORM_GUARD)), std, 1n),
      linCombine(std, 2n, linConst(0n), 0n),
      qBits,
      what,
    ),
  );
}

function instanceNorm(node: NodeProto, get: (i: number) => Val, em: Emitter, ctx: LowerContext): Sym {
  const x = symOf(get(0), ctx.s);
  const what = `InstanceNormalization node "${node.name}"`;
  const gv = get(1);
  const bv = get(2);
  if (gv.kind !== 'const' || bv.kind !== 'const')
    throw nodeError(node, 'scale and B must be constants in circuits');
  const gamma = asFixed(gv.t, ctx.s);
  const beta = asFixed(bv.t, ctx.s);
  const plan = instanceNormPlan(node, ctx.scale, x.shape);
  if (gamma.data.length !== plan.channels || beta.data.length !== plan.channels)
    throw nodeError(node, `scale and B must have ${plan.channels} values`);
  const data = new Array<Lin>(x.data.length);
  plan.rows.forEach((row, r) => {
    const c = r % plan.channels;
    const y = normalizedRow(
      em,
      row.map((i) => x.data[i]!),
      plan.eps,
      what,
    );
    row.forEach((i, j) => {
      data[i] = em.rescale(linCombine(y[j]!, gamma.data[c]!, linConst(0n), 0n), beta.data[c]!, what);
    });
  });
  return { kind: 'sym', shape: x.shape, data };
}

function elu(node: NodeProto, xv: Val, em: Emitter, ctx: LowerContext): Sym {
  const plan = eluPlan(node, ctx.scale);
  const one = 1n << ctx.s;
  return elementwise(node, xv, ctx, (x, what) => {
    const sign = em.sign(x, what);
    // divRound(x 2^s, alpha) = floor((2 x 2^s + alpha) / (2 alpha)), alpha > 0 for Celu
    const u =
      plan.kind === 'Celu'
        ? em.divFloor(linCombine(x, 2n << ctx.s, linConst(plan.alpha), 1n), 2n * plan.alpha, what)
        : x;
    const e = piecewise(em, 'exp', u, what);
    const neg = em.rescale(linCombine(e, plan.alpha, linConst(one), -plan.alpha), 0n, what);
    const y = em.select(sign, x, neg, what);
    return plan.kind === 'Selu' ? em.rescale(linCombine(y, plan.gamma, linConst(0n), 0n), 0n, what) : y;
  });
}

function softsign(node: NodeProto, xv: Val, em: Emitter, ctx: LowerContext): Sym {
  return elementwise(node, xv, ctx, (x, what) => {
    const sign = linCombine(linSignal(em.sign(x, what)), 2n, linConst(-1n), 1n);
    sign.bound = 1n;
    const d = linCombine(product(em, sign, x, what), 1n, linConst(1n << ctx.s), 1n);
    return divSignal(
      em,
      linCombine(x, 2n << ctx.s, d, 1n),
      linCombine(d, 2n, linConst(0n), 0n),
      em.s + 3,
      what,
    );
  });
}

function exp(node: NodeProto, xv: Val, em: Emitter, ctx: LowerContext): Sym {
  const plan = expPlan(ctx.scale);
  const hi = BigInt(plan.hi);
  const kMin = BigInt(plan.kMin);
  const unit = 1n << hi;
  return elementwise(node, xv, ctx, (x, what) => {
    const t0 = em.rescale(linCombine(x, plan.log2e, linConst(0n), 0n), 0n, what);
    const t = em.max(t0, linConst(kMin << hi), what);
    const kTop = Math.min(Number(em.bound(t) >> hi) + 1, em.bits - em.s - 3);
    const count = kTop - plan.kMin + 1;
    if (count < 1) throw new PlumbError('INVALID_MODEL', `${what}: maxBits too small`);
    const shifted = linCombine(t, 1n, linConst(kMin << hi), -1n);
    const name = em.fresh('ex');
    const sh = em.render(shifted, what);
    em.lines.push(`    signal ${name}_r;`);
    em.lines.push(`    ${name}_r <-- (${sh}) % ${unit};`);
    em.lines.push(`    component ${name}_rb = Bits(${plan.hi});`);
    em.lines.push(`    ${name}_rb.in <== ${name}_r;`);
    em.lines.push(`    signal ${name}_e[${count}];`);
    em.registerBound(`${name}_r`, unit);
    let one = linConst(0n);
    let index = linConst(0n);
    let pow = linConst(0n);
    for (let i = 0; i < count; i++) {
      const e = `${name}_e[${i}]`;
      em.lines.push(`    ${e} <-- (${sh}) \\ ${unit} == ${i} ? 1 : 0;`);
      em.lines.push(`    ${e} * (${e} - 1) === 0;`);
      em.registerBound(e, 1n);
      one = linCombine(one, 1n, linSignal(e), 1n);
      index = linCombine(index, 1n, linSignal(e), BigInt(i));
      pow = linCombine(pow, 1n, linSignal(e), 1n << BigInt(i));
    }
    em.lines.push(`    ${em.render(one, what)} === 1;`);
    const r = linSignal(`${name}_r`);
    r.bound = unit;
    em.lines.push(`    ${sh} === ${em.render(linCombine(r, 1n, index, unit), what)};`);
    em.constraints += plan.hi + 1 + count + 2;
    const p = piecewise(em, 'exp2', r, what, plan.hi, plan.hi);
    pow.bound = 1n << BigInt(count - 1);
    const shift = hi - ctx.s - kMin;
    return em.divFloor(
      linCombine(product(em, p, pow, what), 1n, linConst(1n << (shift - 1n)), 1n),
      1n << shift,
      what,
    );
  });
}

function log(node: NodeProto, xv: Val, em: Emitter, ctx: LowerContext): Sym {
  const plan = logPlan(ctx.scale);
  const hi = BigInt(plan.hi);
  return elementwise(node, xv, ctx, (x, what) => {
    // X in [1, 2^K) for any honest value with a proof
    const K = Math.max(1, Math.min(bitLength(em.bound(x)), em.bits - 1));
    const name = em.fresh('lg');
    const { h, low } = leadingBit(em, x, name, 0, K, what);
    const inv = oneHotSum(h, 0, (k) => 1n << BigInt(K - k));
    const ln = oneHotSum(h, 0, (k) => BigInt(k - em.s) * plan.ln2);
    // f 2^K exactly, then floor to 2^hi
    const fK = product(em, low, inv, what);
    const f =
      K > plan.hi
        ? em.divFloor(fK, 1n << BigInt(K - plan.hi), what)
        : linCombine(fK, 1n << BigInt(plan.hi - K), linConst(0n), 0n);
    f.bound = 1n << hi;
    const g = piecewise(em, 'log1p', f, what, plan.hi, plan.hi);
    const total = linCombine(ln, 1n, g, 1n);
    const shift = hi - ctx.s;
    return em.divFloor(linCombine(total, 1n, linConst(1n << (shift - 1n)), 1n), 1n << shift, what);
  });
}

function reduceNonlinear(
  node: NodeProto,
  get: (i: number) => Val,
  em: Emitter,
  ctx: LowerContext,
  kind: 'l2' | 'logsumexp',
): Sym {
  const x = symOf(get(0), ctx.s);
  const what = `${node.opType} node "${node.name}"`;
  const axes = node.input[1] ? get(1) : undefined;
  if (axes?.kind === 'sym') throw nodeError(node, 'the axes must be constant');
  const { shape, data } = reduceGroups(node, ctx.opset, x, axes?.t, (xs) => {
    if (xs.length === 0) throw nodeError(node, 'cannot reduce an empty tensor');
    if (kind === 'l2') {
      const sq = xs.reduce((a, v) => linCombine(a, 1n, product(em, v, v, what), 1n), linConst(0n));
      return sqrt(em, sq, what, 0);
    }
    const { m, sum } = expRow(em, xs, what);
    return linCombine(m, 1n, lnSumCircuit(em, sum, xs.length, what), 1n);
  });
  return { kind: 'sym', shape, data };
}

/** Lower one nonlinear node with a non-constant input. */
export function lowerNonlinear(
  node: NodeProto,
  get: (i: number) => Val,
  em: Emitter,
  ctx: LowerContext & { opset: number },
): Sym {
  const pw = (kind: PiecewiseKind) =>
    elementwise(node, get(0), ctx, (l, what) => piecewise(em, kind, l, what));
  switch (node.opType) {
    case 'Sigmoid':
      return pw('sigmoid');
    case 'Tanh':
      return pw('tanh');
    case 'Erf':
      return pw('erf');
    case 'Softplus':
      return pw('softplus');
    case 'Sqrt':
      return elementwise(node, get(0), ctx, (l, what) => sqrt(em, l, what));
    case 'Softmax':
      return softmax(node, get(0), em, ctx, false);
    case 'LogSoftmax':
      return softmax(node, get(0), em, ctx, true);
    case 'Gelu':
      return gelu(node, get(0), em, ctx);
    case 'LayerNormalization':
      return layerNorm(node, get, em, ctx);
    case 'InstanceNormalization':
      return instanceNorm(node, get, em, ctx);
    case 'Elu':
    case 'Selu':
    case 'Celu':
      return elu(node, get(0), em, ctx);
    case 'Softsign':
      return softsign(node, get(0), em, ctx);
    case 'Exp':
      return exp(node, get(0), em, ctx);
    case 'Log':
      return log(node, get(0), em, ctx);
    case 'ReduceL2':
      return reduceNonlinear(node, get, em, ctx, 'l2');
    case 'ReduceLogSumExp':
      return reduceNonlinear(node, get, em, ctx, 'logsumexp');
    case 'Reciprocal':
      return divSym(
        node,
        { kind: 'const', t: { shape: [], data: [1n << ctx.s], int: false } },
        get(0),
        em,
        ctx,
      );
    case 'ArgMax':
      return argMax(node, get(0), em, ctx);
    default:
      throw nodeError(node, 'op is not supported in circuits');
  }
}
