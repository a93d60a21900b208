/**
 * A Solidity Groth16 verifier for a model's proofs, rendered by snarkjs from the proving key with
 * the template snarkjs ships (`templates/verifier_groth16.sol.ejs`). Its `verifyProof(pA, pB, pC,
 * pubSignals)` checks the pairing only: like `verify` here, a caller must also check that the
 * public inputs are in the circuit's range (see circuit.ts) and decode the outputs.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as snarkjs from 'snarkjs';

const require = createRequire(import.meta.url);

export async function exportSolidityVerifier(zkeyPath: string): Promise<string> {
  // snarkjs's package entry is build/main.cjs; its templates sit beside build/.
  const root = dirname(dirname(require.resolve('snarkjs')));
  const groth16 = await readFile(join(root, 'templates', 'verifier_groth16.sol.ejs'), 'utf8');
  return snarkjs.zKey.exportSolidityVerifier(zkeyPath, { groth16 });
}
