import { type Client, send } from '../client.ts';
import { modelCidOf } from './getZkInfo.ts';

export type ExportVerifierParameters = {
  /** `owner/name[@version]` or a CID of a model pushed with zk. */
  ref: string;
};
export type ExportVerifierReturnType = string;

/**
 * A Solidity Groth16 verifier contract (`verifyProof(pA, pB, pC, pubSignals)`) for the model's
 * proofs. Like the SDK's verifier, a contract using it must also check that the public inputs
 * are the ones it means, in the circuit's range (see the layout from `getZkInfo`).
 * @example fs.writeFileSync('Verifier.sol', await exportVerifier(client, { ref: 'acme/mlp' }))
 */
export async function exportVerifier(
  client: Client,
  { ref }: ExportVerifierParameters,
): Promise<ExportVerifierReturnType> {
  const cid = await modelCidOf(client, ref);
  return (await send(client, `/v1/files/${encodeURIComponent(cid)}/zk/verifier.sol`)).text();
}
