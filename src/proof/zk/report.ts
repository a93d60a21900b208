/**
 * `zk-report`: before any work, whether a model can be proven, which nodes stop it, and what
 * a circuit would cost.
 */
import { decodeModel } from '../../core/onnx/model.ts';
import type { GraphProto } from '../../core/onnx/types.ts';
import { circuitOps, compileCircuit } from './circuit.ts';
import { domainPower, setupSizeProblem } from './size.ts';

export type UnsupportedNode = { op: string; node: string };

export type ZkReport = {
  provable: boolean;
  /** Nodes whose op the circuit compiler does not lower, in graph order. */
  unsupported: UnsupportedNode[];
  /** Why it cannot be proven, when it cannot (unsupported ops or a compile error). */
  reason?: string;
  /** Estimated R1CS constraints and the powers-of-tau size they need (when provable). */
  constraints?: number;
  ptauPower?: number;
  ops: Record<string, number>;
};

/** Nodes of `graph` the circuit compiler cannot lower (op type not supported, or another domain). */
export function unsupportedNodes(graph: GraphProto): UnsupportedNode[] {
  return graph.node
    .filter((n) => (n.domain !== '' && n.domain !== 'ai.onnx') || !circuitOps.includes(n.opType))
    .map((n, i) => ({
      op: n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType,
      node: n.name || `#${i}`,
    }));
}

export function zkReport(bytes: Uint8Array): ZkReport {
  const graph = decodeModel(bytes).graph;
  const ops: Record<string, number> = {};
  for (const n of graph?.node ?? []) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  const unsupported = graph ? unsupportedNodes(graph) : [];
  if (unsupported.length > 0) {
    const types = [...new Set(unsupported.map((u) => u.op))].sort();
    return { provable: false, unsupported, reason: `unsupported ops: ${types.join(', ')}`, ops };
  }
  try {
    const c = compileCircuit(bytes);
    const ptauPower = domainPower(c);
    const sized = { unsupported, constraints: c.constraintEstimate, ptauPower, ops };
    const tooLarge = setupSizeProblem(c);
    return tooLarge ? { provable: false, reason: tooLarge, ...sized } : { provable: true, ...sized };
  } catch (error) {
    return { provable: false, unsupported, reason: (error as Error).message.split('\n')[0]!, ops };
  }
}
