/**
 * Comparisons, boolean logic and selection in circuits, equal to the exact executor (ops/logic.ts):
 * - Less / Greater / LessOrEqual / GreaterOrEqual: the sign bit of a difference (one range
 *   check); Equal: an is-zero gadget (d * inv = 1 - eq, d * eq = 0: two constraints).
 * - Results are bool tensors: symbolic tensors marked `int` whose elements are bits (bound 1).
 *   Not is 1 - b, And a product, Or / Xor products plus linear terms.
 * - Where(c, x, y) = y + c * (x - y): linear when x - y is constant, else one product.
 * - Cast of a bool tensor to float scales it to 2^s (linear); Cast of a float tensor to bool is
 *   [x != 0] (Equal's gadget), to an integer type trunc(X / 2^s) (`truncFixed`); Cast between
 *   integer types is the identity when the values fit. Round: half to even (`roundHalfEven`).
 * - Integer tensors: Add, Sub, Mul, Neg (exact; with a float operand as the executor mixes them),
 *   MatMul with a constant integer tensor (exact, linear), Cast between integer
 *   types when the bound fits the target, ArgMax (nonlinear.ts), Gather with non-constant
 *   indices (one-hot by is-zero gadgets, see `gatherDynamic`).
 * Non-constant integer or bool tensors reach only these ops and rewiring ops (which keep the
 * `int` mark); any other op refuses them, since they are not at 2^s.
 */
import type { NodeProto } from '../../core/onnx/types.ts';
import { attrInt, nodeError } from '../../runtime/exact/attributes.ts';
import { castIsFloat, INT_TYPES } from '../../runtime/exact/ops/cast.ts';
import { asFixed, broadcastIndex, broadcastShape, normAxis, size } from '../../runtime/exact/tensor.ts';
import { matmulCells, product } from './elementwise.ts';
import type { Emitter } from './gadgets.ts';
import { type Lin, linCombine, linConst, linSignal, type Sym, type Val } from './lin.ts';
import type { LowerContext } from './nn.ts';
import { lowerNonlinear } from './nonlinear.ts';
import { rewire, rewireAll } from './shape-ops.ts';

/** A symbolic tensor of unscaled integers (bool results, integer inputs). */
export type IntSym = Sym & { int?: boolean };

export const logicCircuitOps: readonly string[] = [
  'And',
  'Round',
  'Equal',
  'Greater',
  'GreaterOrEqual',
  'Less',
  'LessOrEqual',
  'Not',
  'Or',
  'Where',
  'Xor',
];

/** Rewiring ops that carry integer tensors unchanged. */
const INT_REWIRING = new Set([
  'Concat',
  'DepthToSpace',
  'Dropout',
  'Expand',
  'Flatten',
  'Gather',
  'GatherElements',
  'Identity',
  'Pad',
  'Reshape',
  'ScatterElements',
  'ScatterND',
  'Slice',
  'SpaceToDepth',
  'Split',
  'Squeeze',
  'Tile',
  'Transpose',
  'Trilu',
  'Unsqueeze',
]);

const isInt = (v: Val | undefined): boolean => v?.kind === 'sym' && (v as IntSym).int === true;

/** Whether the node has a non-constant integer input (then `lowerIntNode` lowers it). */
export function hasIntInput(node: NodeProto, opt: (i: number) => Val | undefined): boolean {
  return node.input.some((name, i) => name !== '' && isInt(opt(i)));
}

/** `v` as values at 2^s (integers scaled, constants quantized), or unscaled when `int`. */
function valuesOf(v: Val, int: boolean, s: bigint): Sym {
  if (v.kind === 'const') {
    const t = int ? v.t : asFixed(v.t, s);
    return { kind: 'sym', shape: t.shape, data: t.data.map(linConst) };
  }
  if (isInt(v) && !int) return { kind: 'sym', shape: v.shape, data: v.data.map((l) => scale(l, 1n << s)) };
  return v;
}

const scale = (l: Lin, k: bigint): Lin => linCombine(l, k, linConst(0n), 0n);

function bit(name: string): Lin {
  const l = linSignal(name);
  l.bound = 1n;
  l.nonneg = true;
  return l;
}

/** A bool result tensor. */
function bools(shape: number[], data: Lin[]): IntSym {
  return { kind: 'sym', shape, data, int: true };
}

function zip(node: NodeProto, x: Sym, y: Sym, fn: (a: Lin, b: Lin) => Lin): { shape: number[]; data: Lin[] } {
  const shape = broadcastShape(x.shape, y.shape, node);
  const ix = broadcastIndex(x.shape, shape);
  const iy = broadcastIndex(y.shape, shape);
  return { shape, data: Array.from({ length: size(shape) }, (_, k) => fn(x.data[ix[k]!]!, y.data[iy[k]!]!)) };
}

/** [l >= 0] as a bit. */
function nonneg(em: Emitter, l: Lin, what: string): Lin {
  if (l.terms.size === 0) return linConst(l.c >= 0n ? 1n : 0n);
  return bit(em.sign(l, what));
}

/** [l == 0] as a bit: inv is a hint, eq = 1 - l * inv and l * eq = 0 force eq = [l == 0]. */
export function isZero(em: Emitter, l: Lin, what: string): Lin {
  if (l.terms.size === 0) return linConst(l.c === 0n ? 1n : 0n);
  const d = em.render(l, what);
  const inv = em.fresh('inv');
  const eq = em.fresh('eq');
  em.lines.push(`    signal ${inv};`);
  em.lines.push(`    signal ${eq};`);
  em.lines.push(`    ${inv} <-- (${d}) != 0 ? 1 / (${d}) : 0;`);
  em.lines.push(`    ${eq} <== 1 - (${d}) * ${inv};`);
  em.lines.push(`    (${d}) * ${eq} === 0;`);
  em.constraints += 2;
  em.registerBound(eq, 1n);
  return bit(eq);
}

/** `l` as a bit: as is when known to be one, else constrained l * (l - 1) = 0. */
function asBit(em: Emitter, l: Lin, what: string): Lin {
  if (l.terms.size === 0) return linConst(l.c !== 0n ? 1n : 0n);
  if (l.nonneg && l.bound !== undefined && l.bound <= 1n) return l;
  const r = em.render(l, what);
  em.lines.push(`    (${r}) * (${r} - 1) === 0;`);
  em.constraints += 1;
  return { ...l, nonneg: true, bound: 1n };
}

/** a * b for bits (one constraint unless one is constant). */
function and(em: Emitter, a: Lin, b: Lin, what: string): Lin {
  if (a.terms.size === 0) return a.c === 0n ? linConst(0n) : b;
  if (b.terms.size === 0) return b.c === 0n ? linConst(0n) : a;
  const name = em.fresh('and');
  em.lines.push(`    signal ${name};`);
  em.lines.push(`    ${name} <== (${em.render(a, what)}) * (${em.render(b, what)});`);
  em.constraints += 1;
  em.registerBound(name, 1n);
  return bit(name);
}

function compare(node: NodeProto, a: Val, b: Val, em: Emitter, s: bigint): IntSym {
  const what = `${node.opType} node "${node.name}"`;
  const int = (a.kind === 'const' ? a.t.int : isInt(a)) && (b.kind === 'const' ? b.t.int : isInt(b));
  const x = valuesOf(a, int, s);
  const y = valuesOf(b, int, s);
  const diff = (p: Lin, q: Lin) => (q.terms.size === 0 && q.c === 0n ? p : linCombine(p, 1n, q, -1n));
  const not = (l: Lin) => linCombine(linConst(1n), 1n, l, -1n);
  const fn: (p: Lin, q: Lin) => Lin = {
    Less: (p: Lin, q: Lin) => not(nonneg(em, diff(p, q), what)),
    GreaterOrEqual: (p: Lin, q: Lin) => nonneg(em, diff(p, q), what),
    Greater: (p: Lin, q: Lin) => not(nonneg(em, diff(q, p), what)),
    LessOrEqual: (p: Lin, q: Lin) => nonneg(em, diff(q, p), what),
    Equal: (p: Lin, q: Lin) => isZero(em, diff(p, q), what),
  }[node.opType]!;
  const { shape, data } = zip(node, x, y, (p, q) => withBitBound(fn(p, q)));
  return bools(shape, data);
}

const withBitBound = (l: Lin): Lin => ({ ...l, bound: 1n, nonneg: true });

/** A bool operand: a constant or a non-constant integer (bool) tensor, never values at 2^s. */
function boolOperand(node: NodeProto, v: Val, what: string): Val {
  if (v.kind === 'sym' && !isInt(v)) throw nodeError(node, `${what} must be a bool tensor`);
  return v;
}

function logical(node: NodeProto, a: Val, b: Val, em: Emitter): IntSym {
  const what = `${node.opType} node "${node.name}"`;
  const x = valuesOf(boolOperand(node, a, 'input 0'), true, 0n);
  const y = valuesOf(boolOperand(node, b, 'input 1'), true, 0n);
  const { shape, data } = zip(node, x, y, (p0, q0) => {
    const p = asBit(em, p0, what);
    const q = asBit(em, q0, what);
    const pq = and(em, p, q, what);
    if (node.opType === 'And') return pq;
    const sum = linCombine(p, 1n, q, 1n);
    return withBitBound(linCombine(sum, 1n, pq, node.opType === 'Or' ? -1n : -2n));
  });
  return bools(shape, data);
}

function where(node: NodeProto, cv: Val, a: Val, b: Val, em: Emitter, s: bigint): IntSym {
  const what = `Where node "${node.name}"`;
  if (cv.kind === 'const') throw nodeError(node, 'a constant condition should have been folded');
  const int = (a.kind === 'const' ? a.t.int : isInt(a)) && (b.kind === 'const' ? b.t.int : isInt(b));
  const c = valuesOf(boolOperand(node, cv, 'the condition'), true, s);
  const x = valuesOf(a, int, s);
  const y = valuesOf(b, int, s);
  const shape = broadcastShape(broadcastShape(c.shape, x.shape, node), y.shape, node);
  const [ic, ix, iy] = [c, x, y].map((t) => broadcastIndex(t.shape, shape)) as [
    Int32Array,
    Int32Array,
    Int32Array,
  ];
  const data = Array.from({ length: size(shape) }, (_, k) => {
    const cond = asBit(em, c.data[ic[k]!]!, what);
    const p = x.data[ix[k]!]!;
    const q = y.data[iy[k]!]!;
    const d = linCombine(p, 1n, q, -1n);
    let out: Lin;
    if (d.terms.size === 0) out = linCombine(q, 1n, cond, d.c);
    else {
      const name = em.fresh('wh');
      em.lines.push(`    signal ${name};`);
      em.lines.push(`    ${name} <== (${em.render(cond, what)}) * (${em.render(d, what)});`);
      em.constraints += 1;
      em.registerBound(name, em.bound(d));
      out = linCombine(q, 1n, linSignal(name), 1n);
    }
    // The result is p or q (cond is a bit): the larger of their bounds.
    const bp = em.bound(p);
    const bq = em.bound(q);
    out.bound = bp > bq ? bp : bq;
    return out;
  });
  return { kind: 'sym', shape, data, ...(int ? { int: true } : {}) };
}

/** Cast involving bool / integer tensors (see the module comment). */
function cast(node: NodeProto, v: Val, em: Emitter, s: bigint): Val {
  const what = `Cast node "${node.name}"`;
  const to = attrInt(node, 'to', 0);
  if (v.kind === 'const') return v;
  if (isInt(v)) {
    if (castIsFloat(to)) return valuesOf(v, false, s);
    // Integer -> integer: unchanged when every value fits the target (the executor wraps, which
    // then does nothing); bool of bits: unchanged.
    const width = INT_TYPES[to];
    const isBits = v.data.every(
      (l) => l.terms.size === 0 || (l.nonneg && l.bound !== undefined && l.bound <= 1n),
    );
    if (isBits && (width !== undefined || to === 9)) return v;
    if (width !== undefined && v.data.every((l) => fitsWidth(em.bound(l), l, width))) return v;
    throw nodeError(
      node,
      `casting a non-constant integer tensor to element type ${to} is not supported in circuits`,
    );
  }
  if (to === 9) {
    const data = v.data.map((l) => linCombine(linConst(1n), 1n, isZero(em, l, what), -1n)).map(withBitBound);
    return bools(v.shape, data);
  }
  if (castIsFloat(to)) return v;
  const width = INT_TYPES[to];
  if (!width)
    throw nodeError(node, `casting a non-constant tensor to element type ${to} is not supported in circuits`);
  // Float -> integer: truncation toward zero of X / 2^s, as the executor (BigInt division);
  // the executor then wraps to the width, the identity when the bound fits (else refused).
  const data = v.data.map((l) => {
    const t = truncFixed(em, l, s, what);
    if (!fitsWidth(em.bound(t), t, width))
      throw nodeError(node, `values may not fit element type ${to}: not supported in circuits`);
    return t;
  });
  return { kind: 'sym', shape: v.shape, data, int: true } as IntSym;
}

/**
 * Round half to even at 2^s, as the executor's `roundFixed`: q = floor(X / 2^s) (DivConst),
 * r = X - q 2^s, up = [r > 2^(s-1)] + [r == 2^(s-1)] * (q mod 2) (q's parity by DivConst by 2).
 */
export function roundHalfEven(em: Emitter, l: Lin, s: bigint, what: string): Lin {
  const one = 1n << s;
  if (l.terms.size === 0) {
    const q = l.c >> s;
    const r = l.c - (q << s);
    const half = one >> 1n;
    return linConst((r > half || (r === half && (q & 1n) === 1n) ? q + 1n : q) << s);
  }
  const q = em.divFloor(l, one, what);
  const r = linCombine(l, 1n, q, -one);
  const half = linConst(one >> 1n);
  const above = linCombine(linConst(1n), 1n, nonneg(em, linCombine(half, 1n, r, -1n), what), -1n);
  const tie = isZero(em, linCombine(r, 1n, half, -1n), what);
  const parity = linCombine(q, 1n, em.divFloor(q, 2n, what), -2n);
  const up = linCombine(withBitBound(above), 1n, and(em, tie, withBitBound(parity), what), 1n);
  return scale(linCombine(q, 1n, up, 1n), one);
}

/**
 * trunc(X / 2^s) (toward zero): q = floor(X / 2^s) by DivConst, plus 1 when X < 0 and the
 * remainder X - q 2^s is not 0 (a sign bit and an is-zero bit, one product).
 */
export function truncFixed(em: Emitter, l: Lin, s: bigint, what: string): Lin {
  if (l.terms.size === 0) return linConst(l.c / (1n << s));
  const q = em.divFloor(l, 1n << s, what);
  const r = linCombine(l, 1n, q, -(1n << s));
  const negative = linCombine(linConst(1n), 1n, nonneg(em, l, what), -1n);
  const inexact = linCombine(linConst(1n), 1n, isZero(em, r, what), -1n);
  return linCombine(q, 1n, and(em, withBitBound(negative), withBitBound(inexact), what), 1n);
}

function fitsWidth(bound: bigint, l: Lin, w: { bits: number; signed: boolean }): boolean {
  if (w.signed) return bound < 1n << BigInt(w.bits - 1);
  return l.nonneg === true && bound < 1n << BigInt(w.bits);
}

/** MatMul of integer tensors (one of them constant): an exact dot product, linear, no rounding. */
function intMatmul(node: NodeProto, a: Val, b: Val): IntSym {
  const int = (v: Val) => (v.kind === 'const' ? v.t.int : isInt(v));
  if (!int(a) || !int(b))
    throw nodeError(node, 'a MatMul of an integer tensor with a float one is not supported in circuits');
  if (a.kind === 'sym' && b.kind === 'sym')
    throw nodeError(node, 'a MatMul of two non-constant integer tensors is not supported in circuits');
  const A = valuesOf(a, true, 0n);
  const B = valuesOf(b, true, 0n);
  const { shape, data } = matmulCells(node, A.shape, B.shape, (ai, bi) => {
    let acc = linConst(0n);
    ai.forEach((a, k) => {
      const x = A.data[a]!;
      const y = B.data[bi[k]!]!;
      // One side is constant: a linear term.
      acc = x.terms.size === 0 ? linCombine(acc, 1n, y, x.c) : linCombine(acc, 1n, x, y.c);
    });
    return acc;
  });
  return { kind: 'sym', shape, data, int: true };
}

/**
 * Gather with non-constant (integer) indices: per output element, sum_j [index == j] data[j]
 * with the is-zero gadget (negative indices j - D too), and sum_j [index == j] = 1 enforced so an
 * out-of-range index (which the executor refuses) has no proof. Constant data: linear in the
 * bits; non-constant data: one product per candidate.
 */
function gatherDynamic(node: NodeProto, dv: Val, iv: Sym, em: Emitter, s: bigint): Val {
  const what = `Gather node "${node.name}"`;
  const int = dv.kind === 'const' ? dv.t.int : isInt(dv);
  const x = valuesOf(dv, int, s);
  const axis = normAxis(attrInt(node, 'axis', 0), x.shape.length, node);
  const D = x.shape[axis]!;
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  // The one-hot bits of each index, shared by every element it selects.
  const onehots = iv.data.map((l) => {
    const bits = Array.from({ length: D }, (_, j) => {
      const eq = isZero(em, linCombine(l, 1n, linConst(BigInt(j)), -1n), what);
      if (l.nonneg) return eq;
      const neg = isZero(em, linCombine(l, 1n, linConst(BigInt(j - D)), -1n), what);
      return withBitBound(linCombine(eq, 1n, neg, 1n));
    });
    const total = bits.reduce((a, b) => linCombine(a, 1n, b, 1n), linConst(0n));
    if (total.terms.size === 0) {
      if (total.c !== 1n) throw nodeError(node, 'index out of range');
    } else {
      em.lines.push(`    ${em.render(total, what)} === 1;`);
      em.constraints += 1;
    }
    return bits;
  });
  const data: Lin[] = [];
  for (let o = 0; o < outer; o++)
    for (const bits of onehots)
      for (let i = 0; i < inner; i++) {
        let acc = linConst(0n);
        let bound = 0n;
        for (let j = 0; j < D; j++) {
          const v = x.data[(o * D + j) * inner + i]!;
          const b = em.bound(v);
          if (b > bound) bound = b;
          acc = linCombine(
            acc,
            1n,
            v.terms.size === 0 ? scale(bits[j]!, v.c) : product(em, bits[j]!, v, what),
            1n,
          );
        }
        // Exactly one bit is set: the result is one of the candidates.
        acc.bound = bound;
        data.push(acc);
      }
  const shape = [...x.shape.slice(0, axis), ...iv.shape, ...x.shape.slice(axis + 1)];
  return { kind: 'sym', shape, data, ...(int ? { int: true } : {}) } as IntSym;
}

/**
 * Add / Sub / Mul / Neg with an integer tensor, as the executor: two integers stay integers
 * (exact); with a float operand Add / Sub scale the integer to 2^s, Mul multiplies the raw values
 * (an integer times a value at 2^s is at 2^s, no rounding).
 */
function intArith(node: NodeProto, get: (i: number) => Val, em: Emitter, s: bigint): IntSym {
  const what = `${node.opType} node "${node.name}"`;
  const intOf = (v: Val) => (v.kind === 'const' ? v.t.int : isInt(v));
  if (node.opType === 'Neg') {
    const x = valuesOf(get(0), true, s);
    return { kind: 'sym', shape: x.shape, data: x.data.map((l) => scale(l, -1n)), int: true };
  }
  const [a, b] = [get(0), get(1)];
  const int = intOf(a) && intOf(b);
  const mul = node.opType === 'Mul';
  const x = valuesOf(a, mul ? intOf(a) : int, s);
  const y = valuesOf(b, mul ? intOf(b) : int, s);
  const sign = node.opType === 'Sub' ? -1n : 1n;
  const { shape, data } = zip(node, x, y, (p, q) =>
    mul ? product(em, p, q, what) : linCombine(p, 1n, q, sign),
  );
  return { kind: 'sym', shape, data, ...(int ? { int: true } : {}) } as IntSym;
}

/** Lower a comparison / logic / Where node, or any node with a non-constant integer input. */
export function lowerLogic(
  node: NodeProto,
  get: (i: number) => Val,
  opt: (i: number) => Val | undefined,
  em: Emitter,
  ctx: LowerContext,
): Val | Val[] {
  const s = ctx.s;
  switch (node.opType) {
    case 'Less':
    case 'LessOrEqual':
    case 'Greater':
    case 'GreaterOrEqual':
    case 'Equal':
      return compare(node, get(0), get(1), em, s);
    case 'Not': {
      const what = `Not node "${node.name}"`;
      const x = valuesOf(boolOperand(node, get(0), 'the input'), true, s);
      return bools(
        x.shape,
        x.data.map((l) => withBitBound(linCombine(linConst(1n), 1n, asBit(em, l, what), -1n))),
      );
    }
    case 'And':
    case 'Or':
    case 'Xor':
      return logical(node, get(0), get(1), em);
    case 'Where':
      return where(node, get(0), get(1), get(2), em, s);
    case 'Cast':
      return cast(node, get(0), em, s);
  }
  if (node.opType === 'Gather' && isInt(opt(1))) return gatherDynamic(node, get(0), get(1) as Sym, em, s);
  if (node.opType === 'MatMul') return intMatmul(node, get(0), get(1));
  if (node.opType === 'Round') {
    const x = get(0);
    if (isInt(x)) return x;
    const v = valuesOf(x, false, s);
    const what = `Round node "${node.name}"`;
    return { kind: 'sym', shape: v.shape, data: v.data.map((l) => roundHalfEven(em, l, s, what)) };
  }
  if (node.opType === 'Add' || node.opType === 'Sub' || node.opType === 'Mul' || node.opType === 'Neg')
    return intArith(node, get, em, s);
  if (node.opType === 'ArgMax') return lowerNonlinear(node, get, em, ctx);
  if (INT_REWIRING.has(node.opType) && hasIntInput(node, opt)) {
    const dataInputs =
      node.opType === 'Concat'
        ? node.input.map((_, i) => i)
        : node.opType.startsWith('Scatter')
          ? [0, 2]
          : [0];
    // Float data with a non-constant integer operand (pads, indices...): rewire refuses it by name.
    if (!dataInputs.some((i) => isInt(opt(i)))) return rewire(node, opt, ctx);
    if (!dataInputs.every((i) => isInt(opt(i)) || opt(i)?.kind === 'const'))
      throw nodeError(node, 'mixes integer and float tensors');
    // Every output (Split has several); constants (Dropout's mask) stay constants.
    return rewireAll(node, opt, ctx, true).map((v) =>
      v.kind === 'sym' ? ({ ...v, int: true } as IntSym) : v,
    );
  }
  throw nodeError(
    node,
    'a non-constant integer or bool tensor input is not supported here in circuits (only by comparisons, logic, Where, Cast and rewiring ops)',
  );
}
