/**
 * The error rule of RNN / GRU / LSTM for the executor's reported bound (error-bound.ts), derived
 * step by step over the sequence. With Rw, Rr the largest row sums of |W|, |R| (over gates and
 * directions, plus the weights' own quantization):
 * - a gate pre-activation: Rw e_X + Rr e_H (+ |P| e_C) + EPS (I (x_X + e_X) + H (x_H + e_H)
 *   (+ x_C + e_C)) + 3 EPS (weights, Wb and Rb quantized, one rounding); clip is 1-Lipschitz;
 * - an activation: min(L e, its range's width) + its piecewise error (`activationMaxError`; L =
 *   1/4 Sigmoid, 1 Tanh);
 * - a gate in [0, 1] times v: e_gate (x_v + e_v) + e_v (+ EPS per rounding); GRU
 *   (1 - z) h~ + z H: max(e_h~, e_H) + e_z (x_H + x_h~ + e_H + e_h~) + EPS;
 * - real magnitudes: gates and activations in [-1, 1], |H| <= max(1, |h0|), |C_t| <= |c0| + t.
 */
import type { NodeProto } from '../../core/onnx/types.ts';
import { attrInt } from './attributes.ts';
import { recurrentPlan } from './ops/recurrent.ts';
import { activationMaxError } from './piecewise.ts';
import type { XTensor } from './types.ts';

/** Max abs error e and real magnitude bound x of a tensor (as error-bound.ts's estimates). */
export type RecurrentEst = { e: number; x: number };

const LIPSCHITZ: Record<string, number> = { Sigmoid: 0.25, Tanh: 1 };

/**
 * The estimate of a recurrent node's outputs (the max over Y, Y_h, Y_c), or undefined. `ins`:
 * the estimates of the node's present inputs in order (empty input names skipped), `values`:
 * the run's tensors.
 */
export function recurrentErrorEstimate(
  node: NodeProto,
  ins: readonly RecurrentEst[],
  values: ReadonlyMap<string, XTensor>,
  scale: number,
): RecurrentEst | undefined {
  let k = 0;
  const at = node.input.map((name) => (name ? ins[k++] : undefined));
  const val = (i: number) => (node.input[i] ? values.get(node.input[i]!) : undefined);
  const [X, Wt, Rt] = [val(0), val(1), val(2)];
  const ex = at[0];
  if (!X || !Wt || !Rt || !ex || X.shape.length !== 3 || Rt.shape.length !== 3) return undefined;
  const plan = recurrentPlan(node, scale);
  const layout = attrInt(node, 'layout', 0);
  const T = (layout === 1 ? X.shape[1] : X.shape[0]) ?? 0;
  const I = X.shape[2]!;
  const Hd = Rt.shape[2]!;
  const lstm = node.opType === 'LSTM';
  const EPS = 2 ** -(scale + 1);
  const unit = 2 ** scale;
  const rowMax = (t: XTensor, K: number) => {
    let m = 0;
    for (let r = 0; r * K < t.data.length; r++) {
      let sum = 0;
      for (let c = 0; c < K; c++) sum += Math.abs(Number(t.data[r * K + c]!)) / unit;
      m = Math.max(m, sum + K * EPS);
    }
    return m;
  };
  const absMax = (t: XTensor | undefined) =>
    t ? t.data.reduce((m, v) => Math.max(m, Math.abs(Number(v)) / unit), 0) + EPS : 0;
  const Rw = rowMax(Wt, I);
  const Rr = rowMax(Rt, Hd);
  const Bmax = absMax(val(3));
  const Pmax = lstm ? absMax(val(7)) : 0;
  const inputForget = lstm && attrInt(node, 'input_forget', 0) === 1;
  const h0 = at[5];
  const c0 = lstm ? at[6] : undefined;
  const xh = Math.max(1, h0?.x ?? 0);
  const { e: eX, x: xX } = ex;
  const pre = (eh: number) => Rw * eX + Rr * eh + EPS * (I * (xX + eX) + Hd * (xh + eh)) + 3 * EPS;
  const act = (f: string, e: number) => {
    const l = LIPSCHITZ[f];
    if (l === undefined) return Number.NaN;
    const a = activationMaxError(f === 'Sigmoid' ? 'sigmoid' : 'tanh', scale);
    // Both the real and the computed value lie in the range (width 1 or 2, +- a).
    return Math.min(l * e, f === 'Sigmoid' ? 1 : 2) + a;
  };
  let worst = 0;
  for (const acts of plan.acts) {
    const [f, g, h] = [acts[0]!, acts[1] ?? 'Tanh', acts[2] ?? 'Tanh'];
    let eh = h0?.e ?? 0;
    let ec = c0?.e ?? 0;
    let xc = c0?.x ?? 0;
    for (let t = 0; t < T; t++) {
      if (node.opType === 'RNN') eh = act(f, pre(eh));
      else if (node.opType === 'GRU') {
        const ez = act(f, pre(eh));
        const er = act(f, pre(eh));
        let ehh: number;
        if (!plan.linearBeforeReset) {
          // q = r H, then the candidate's pre-activation over q (|q| <= x_H)
          const eq = er * (xh + eh) + eh + EPS;
          ehh = act(g, pre(eq));
        } else {
          const en = Rr * eh + EPS * Hd * (xh + eh) + 2 * EPS;
          const xn = Rr * xh + Bmax;
          ehh = act(g, Rw * eX + EPS * I * (xX + eX) + er * (xn + en) + en + 2 * EPS);
        }
        eh = Math.max(ehh, eh) + ez * (xh + 1 + eh + ehh) + EPS;
      } else {
        const peep = (e: number, x: number) => Pmax * e + EPS * (x + e);
        const ei = act(f, pre(eh) + peep(ec, xc));
        const ef = inputForget ? ei : act(f, pre(eh) + peep(ec, xc));
        const ecc = act(g, pre(eh));
        ec = ef * (xc + ec) + ec + ei * (1 + ecc) + ecc + EPS;
        xc += 1;
        const eo = act(f, pre(eh) + peep(ec, xc));
        const eth = act(h, ec);
        eh = eo * (1 + eth) + eth + EPS;
      }
    }
    worst = Math.max(worst, eh, lstm ? ec : 0);
  }
  if (!Number.isFinite(worst)) return undefined;
  return { e: worst, x: Math.max(xh, lstm ? (c0?.x ?? 0) + T : 0) };
}
