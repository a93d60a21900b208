/** Affine expressions over circuit signals, and the symbolic tensors built from them. */
import { asFixed } from '../../runtime/exact/tensor.ts';
import type { XTensor } from '../../runtime/exact/types.ts';

/** An affine expression over circuit signals: sum terms[sig] * sig + c (integers). */
export type Lin = {
  terms: Map<string, bigint>;
  c: bigint;
  /** A signal equal to 1 iff the value is >= 0 (from a range decomposition), when known. */
  sign?: string;
  nonneg?: boolean;
  /** The value is known to be in the signed B-bit range (a selected range-checked value). */
  checked?: boolean;
  /**
   * A bound on |value| that holds for EVERY witness satisfying the constraints emitted so far
   * (not only honest ones); see bounds.ts. Absent: derived from the signals' bounds.
   */
  bound?: bigint;
};
/** A tensor of affine expressions. */
export type Sym = { kind: 'sym'; shape: number[]; data: Lin[] };
/** A graph value: a compile-time constant tensor or a symbolic one. */
export type Val = { kind: 'const'; t: XTensor } | Sym;

export function linConst(c: bigint): Lin {
  return { terms: new Map(), c, bound: c < 0n ? -c : c };
}

export function linSignal(name: string, sign?: string): Lin {
  const l: Lin = { terms: new Map([[name, 1n]]), c: 0n };
  if (sign) l.sign = sign;
  return l;
}

/** a * x + b * y (sign information is dropped). */
export function linCombine(x: Lin, a: bigint, y: Lin, b: bigint): Lin {
  const terms = new Map<string, bigint>();
  const add = (l: Lin, k: bigint) => {
    if (k === 0n) return;
    for (const [sig, coef] of l.terms) {
      const v = (terms.get(sig) ?? 0n) + coef * k;
      if (v === 0n) terms.delete(sig);
      else terms.set(sig, v);
    }
  };
  add(x, a);
  add(y, b);
  const out: Lin = { terms, c: x.c * a + y.c * b };
  const ax = a < 0n ? -a : a;
  const by = b < 0n ? -b : b;
  const bx = ax === 0n ? 0n : x.bound;
  const byy = by === 0n ? 0n : y.bound;
  if (bx !== undefined && byy !== undefined) out.bound = ax * bx + by * byy;
  return out;
}

/** sum_k a_k * b_k where one side is constant: the constant must be on side `a`. */
export function dot(consts: readonly bigint[], lins: readonly Lin[]): Lin {
  let acc = linConst(0n);
  for (let k = 0; k < consts.length; k++) acc = linCombine(acc, 1n, lins[k]!, consts[k]!);
  return acc;
}

/** A value as a symbolic tensor (constants quantized at 2^s, as the executor does). */
export function symOf(v: Val, s: bigint): Sym {
  if (v.kind === 'sym') return v;
  const t = asFixed(v.t, s);
  return { kind: 'sym', shape: t.shape, data: t.data.map(linConst) };
}
