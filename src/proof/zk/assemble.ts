/** Emitted-source assembly: public signal layout and the final circom text. */
import { GADGETS_SOURCE } from './gadgets.ts';
import type { SignalLayout } from './types.ts';

/** Set `publicOffset`s (circom orders outputs first, then inputs); returns the public count. */
export function assignPublicOffsets(inputs: SignalLayout[], outputs: SignalLayout[]): number {
  let offset = 0;
  for (const o of outputs) {
    o.publicOffset = offset;
    offset += o.size;
  }
  for (const i of inputs) {
    i.publicOffset = offset;
    offset += i.size;
  }
  return offset;
}

export type SourceParts = {
  graphName: string;
  scale: number;
  bits: number;
  maxBits: number;
  inputs: readonly SignalLayout[];
  outputs: readonly SignalLayout[];
  /** Signal declarations of the main template. */
  decls: readonly string[];
  /** Constraint lines of the main template. */
  lines: readonly string[];
  /** Extra templates used by the lines (Emitter.templates). */
  templates?: readonly string[];
};

const describe = (l: SignalLayout) => `${l.name} -> ${l.signal}[${l.size}] [${l.shape.join(', ')}]`;

/**
 * One private signal, for circuits that are pure rewiring (Identity, Reshape): with no private
 * witness at all, snarkjs's prover fails on an empty multi-exponentiation. One constraint.
 */
function witnessPad(outputs: readonly SignalLayout[]): string[] {
  const first = outputs.find((o) => o.size > 0);
  if (!first) return [];
  return ['    signal witnessPad;', `    witnessPad <== ${first.signal}[0] * ${first.signal}[0];`];
}

/** The full circom file: gadget templates, header comments, `PlumbModel` and `main`. */
export function assembleSource(p: SourceParts): string {
  const publicList = p.inputs.map((i) => i.signal).join(', ');
  return [
    GADGETS_SOURCE,
    ...(p.templates ?? []),
    `// Model: ${p.graphName || '(unnamed)'}; scale 2^${p.scale}; inputs signed ${p.bits} bits; range checks up to ${p.maxBits} bits.`,
    `// Inputs: ${p.inputs.map(describe).join('; ')}`,
    `// Outputs: ${p.outputs.map(describe).join('; ')}`,
    'template PlumbModel() {',
    ...p.decls,
    ...p.lines,
    ...witnessPad(p.outputs),
    '}',
    '',
    p.inputs.length > 0
      ? `component main {public [${publicList}]} = PlumbModel();`
      : 'component main = PlumbModel();',
    '',
  ].join('\n');
}
