/**
 * zk setup at push time (`--zk`): refuse a model the circuit compiler cannot lower (every
 * unsupported op by node) before anything is recorded; reuse the artifacts a model already has;
 * else run the Groth16 setup on a zk thread and store its artifacts by CID, to be linked to the
 * model in the push's transaction. A failed setup leaves no artifact behind.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PlumbError } from '../../core/errors.ts';
import { checkInputs, parseInputs } from '../../core/inputs.ts';
import type { Manifest } from '../../core/manifest.ts';
import { decodeModel } from '../../core/onnx/model.ts';
import { tensorValues } from '../../core/tensor.ts';
import { jsonArtifact, layoutOf, type ZkLayout, zkRoles } from '../../proof/zk/artifacts.ts';
import { readPtauInfo } from '../../proof/zk/ptau-file.ts';
import { type UnsupportedNode, unsupportedNodes, zkReport } from '../../proof/zk/report.ts';
import type { SetupProgress } from '../../proof/zk/setup.ts';
import { compileExact } from '../../runtime/exact/exact.ts';
import type { PlumbNode } from '../node.ts';
import { zkKeyOf } from './keys.ts';

const setups = new Map<string, Promise<void>>();
const pendingSettle = new Map<string, () => void>();

/** Called by the push after its transaction: a waiting push of the same model may go on. */
export function settleSetup(cid: string): void {
  pendingSettle.get(cid)?.();
  pendingSettle.delete(cid);
}

export type ZkPushOptions = {
  /** CID of a stored powers-of-tau file from a public ceremony (else a development one). */
  ptau?: string | undefined;
  /** Inputs (Plumb tensor map or ezkl input.json) to measure the circuit's error on. */
  calibrate?: unknown;
  /**
   * Signed bit width of the circuit's inputs at scale 2^12 (default 24: |x| < 2048). Wider
   * ranges cost constraints; an input outside it cannot be proven.
   */
  inputBits?: number | undefined;
  onProgress?: ((p: SetupProgress) => void) | undefined;
};

export type Calibration = { maxAbsError: number; outputs: number };

/** What a `--zk` push reports. */
export type ZkPushSummary = {
  /** The model already had its artifacts: no new setup ran. */
  reused: boolean;
  artifacts: Record<string, string>;
  layout: ZkLayout;
  /** With `calibrate`: max |circuit output - onnxruntime output| on those inputs. */
  calibration?: Calibration;
};

/**
 * Throw INVALID_MODEL listing every node the circuit compiler cannot lower. `full` also compiles
 * the circuit (catching every other reason, but costing seconds for a large model): the CLI
 * does that before uploading; the node only scans the ops on its event loop and leaves the
 * compile to the zk worker, whose errors fail the push the same way.
 */
export function assertProvable(bytes: Uint8Array, { full = true }: { full?: boolean } = {}): void {
  let reason: string | undefined;
  let unsupported: UnsupportedNode[];
  if (full) {
    const report = zkReport(bytes);
    if (report.provable) return;
    reason = report.reason;
    unsupported = report.unsupported;
  } else {
    const graph = decodeModel(bytes).graph;
    unsupported = graph ? unsupportedNodes(graph) : [];
    if (unsupported.length === 0) return;
    reason = `unsupported ops: ${[...new Set(unsupported.map((u) => u.op))].sort().join(', ')}`;
  }
  throw new PlumbError('INVALID_MODEL', `model cannot be proven in zk mode: ${reason}`, {
    metaMessages: [
      ...unsupported.map((u) => `unsupported: ${u.op} at node "${u.node}"`),
      'Push it without --zk to serve it in signed mode; `plumb model zk-report FILE` explains.',
    ],
  });
}

async function calibrate(
  node: PlumbNode,
  model: { cid: string; manifest: Manifest; bytes: Uint8Array },
  json: unknown,
): Promise<Calibration> {
  const inputs = parseInputs(json, model.manifest.inputs);
  checkInputs(model.manifest.inputs, inputs);
  const exact = compileExact(model.bytes).run(inputs).outputs;
  const float = await node.runtime.run(model.cid, async () => model.bytes, inputs);
  let maxAbsError = 0;
  let outputs = 0;
  for (const [name, t] of Object.entries(exact)) {
    const f = float[name];
    if (!f) continue;
    const a = tensorValues(t);
    const b = tensorValues(f);
    outputs += a.length;
    for (let i = 0; i < a.length; i++)
      maxAbsError = Math.max(maxAbsError, Math.abs(a[i]! - (b[i] ?? Number.NaN)));
  }
  return { maxAbsError, outputs };
}

/** The hub `derive` step of a `--zk` push. `done` receives the summary once the push lands. */
export async function deriveZk(
  node: PlumbNode,
  model: { cid: string; manifest: Manifest; read: () => Promise<Uint8Array> },
  options: ZkPushOptions,
  done: (summary: ZkPushSummary) => void,
): Promise<Record<string, string> | undefined> {
  const bytes = await model.read();
  assertProvable(bytes, { full: false });
  let ptauFile: string | undefined;
  if (options.ptau !== undefined) {
    if (!(await node.hub.blobs.has(options.ptau)))
      throw new PlumbError(
        'INVALID_ARGUMENT',
        `ptau: no blob ${options.ptau} on this node: upload the ptau file first`,
      );
    ptauFile = node.hub.blobs.path(options.ptau);
    const info = await readPtauInfo(ptauFile, 'the supplied ptau');
    if (!info.prepared)
      throw new PlumbError(
        'INVALID_ARGUMENT',
        'the supplied ptau is not prepared for phase 2 (run `snarkjs powersoftau prepare phase2` on it)',
      );
  }
  const calibration =
    options.calibrate !== undefined
      ? await calibrate(node, { ...model, bytes }, options.calibrate)
      : undefined;

  // One setup per model at a time in this process: a second push waits, then reuses it.
  const inFlight = setups.get(model.cid);
  if (inFlight) await inFlight.catch(() => {});
  const existing = await zkKeyOf(node, model.cid);
  if (existing && options.inputBits !== undefined && existing.layout.bits !== options.inputBits)
    throw new PlumbError(
      'CONFLICT',
      `model ${model.cid} already has a zk setup for inputs within ${existing.layout.bits} bits; one model has one verification key`,
    );
  if (existing) {
    done({
      reused: true,
      artifacts: node.hub.meta.getArtifacts(model.cid),
      layout: existing.layout,
      ...(calibration ? { calibration } : {}),
    });
    return undefined;
  }

  let settle = () => {};
  setups.set(
    model.cid,
    new Promise<void>((resolve) => {
      settle = resolve;
    }),
  );
  const workDir = join(node.zkWorkDir, `${model.cid}-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(workDir, { recursive: true });
  const stored: string[] = [];
  try {
    const a = await node.zk.setup(
      {
        bytes,
        workDir,
        ptauDir: node.zkPtauDir,
        ...(ptauFile ? { ptauFile, ptauName: 'the supplied ptau' } : {}),
        ...(options.inputBits !== undefined ? { bits: options.inputBits } : {}),
      },
      options.onProgress,
    );
    const layout = layoutOf(a.circuit, {
      constraints: a.constraints,
      power: a.power,
      ptau: { supplied: a.ptauSupplied, power: (await readPtauInfo(a.ptauPath)).power },
      warning: a.warning,
      timings: a.timings,
      ...(calibration ? { calibration } : {}),
    });
    const put = async (source: Uint8Array | AsyncIterable<Uint8Array>) => {
      const { cid } = await node.hub.blobs.put(source);
      stored.push(cid);
      return cid;
    };
    const artifacts = {
      [zkRoles.circuit]: await put(await readFile(a.circomPath)),
      [zkRoles.wasm]: await put(createReadStream(a.wasmPath)),
      [zkRoles.zkey]: await put(createReadStream(a.zkeyPath)),
      [zkRoles.vkey]: await put(jsonArtifact(a.vkey)),
      [zkRoles.layout]: await put(jsonArtifact(layout)),
    };
    done({ reused: false, artifacts, layout, ...(calibration ? { calibration } : {}) });
    return artifacts;
  } catch (error) {
    for (const cid of stored)
      if (!node.hub.meta.isArtifact(cid)) await node.hub.blobs.delete(cid).catch(() => {});
    throw error;
  } finally {
    await rm(workDir, { recursive: true, force: true });
    // Released by the push once its transaction ran (or failed): see `settleSetup`.
    pendingSettle.set(model.cid, () => {
      setups.delete(model.cid);
      settle();
    });
  }
}
