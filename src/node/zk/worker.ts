/**
 * The zk process: runs setups, proofs and Solidity exports off the node's event loop (snarkjs and
 * circom are CPU-bound for seconds). A child process rather than a worker thread: snarkjs's
 * thread library (web-worker) takes any non-main thread for one of its own workers. One job at a
 * time; progress and results go back over the IPC channel (V8 serialization):
 *   in:  { id, job }                       out: { id, progress } | { id, result } | { id, error }
 *   in:  { id, job: { kind: 'release' } }  stops snarkjs's curve threads, then answers { id, result }
 * It exits when its parent disconnects, so it never outlives the node.
 */
import { isPlumbError } from '../../core/errors.ts';
import { prove } from '../../proof/zk/prove.ts';
import { releaseZk, setupModel } from '../../proof/zk/setup.ts';
import { exportSolidityVerifier } from '../../proof/zk/solidity.ts';
import type { ZkJob } from './jobs.ts';

const port = {
  postMessage: (message: unknown) => {
    if (process.connected) process.send!(message);
  },
};
process.on('disconnect', () => {
  void releaseZk().finally(() => process.exit(0));
});

async function handle(id: number, job: ZkJob): Promise<unknown> {
  switch (job.kind) {
    case 'setup': {
      const { bytes, kind: _, ...options } = job;
      const a = await setupModel(bytes, {
        ...options,
        onProgress: (progress) => port.postMessage({ id, progress }),
      });
      const { source: _source, ...circuit } = a.circuit;
      return { ...a, circuit };
    }
    case 'prove': {
      const r = await prove(job, job.inputs);
      return { proof: r.proof, publicSignals: r.publicSignals, proveMs: r.proveMs };
    }
    case 'solidity':
      return exportSolidityVerifier(job.zkeyPath);
    case 'release':
      await releaseZk();
      return true;
  }
}

process.on('message', ({ id, job }: { id: number; job: ZkJob }) => {
  handle(id, job).then(
    (result) => port.postMessage({ id, result }),
    (error: unknown) => {
      const e = isPlumbError(error)
        ? {
            code: error.code,
            shortMessage: error.shortMessage,
            details: error.details,
            metaMessages: [...error.metaMessages],
          }
        : { message: error instanceof Error ? error.message : String(error) };
      port.postMessage({ id, error: e });
    },
  );
});
