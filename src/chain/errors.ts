/**
 * viem errors as PlumbErrors: a contract's custom error becomes a named refusal (with a
 * sentence for the ones users meet), an unreachable RPC becomes UNAVAILABLE.
 */
import { BaseError, ContractFunctionRevertedError, HttpRequestError, TimeoutError } from 'viem';
import { type ErrorCode, errorMessage, isPlumbError, PlumbError } from '../core/errors.ts';

/** What a custom error of Plumb's contracts means, for the ones a user can cause. */
const explanations: Record<string, string> = {
  NoCircuit:
    'the model has no circuit on chain, so a wrong output cannot be proven with a zk proof: challenging it needs the validator committee (re-execution by independent nodes), which comes with the network',
  OutputWithinTolerance:
    "the signed output is correct (within the model's tolerance of the proven output): nothing to slash",
  AlreadyChallenged: 'this receipt was already challenged and its signer slashed',
  NotStaked: 'the signer has no stake left to slash',
  NotActive: 'the node is not registered with at least the minimum stake',
  BadSignature: "the receipt's signature does not recover its node",
  InvalidProof: "the zk proof does not verify under the model's verifier contract",
  RootAlreadySettled: 'this batch root is already settled',
  InputsMismatch: "the inputs do not hash to the receipt's inputHash",
  OutputsMismatch: "the outputs do not hash to the receipt's outputHash",
};

/** The custom error a viem error carries, if it is a revert with one. */
export function revertOf(error: unknown): { name: string; args: readonly unknown[] } | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError) || !revert.data) return undefined;
  return { name: revert.data.errorName, args: revert.data.args ?? [] };
}

export function chainError(what: string, error: unknown, code: ErrorCode = 'CONFLICT'): PlumbError {
  if (isPlumbError(error)) return error;
  const revert = revertOf(error);
  if (revert) {
    const args = revert.args.map((a) => (typeof a === 'bigint' ? a.toString() : String(a))).join(', ');
    const why = explanations[revert.name];
    return new PlumbError(code, `${what}: ${revert.name}(${args})${why ? `: ${why}` : ''}`, { cause: error });
  }
  if (error instanceof BaseError) {
    const down = error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError);
    if (down)
      return new PlumbError('UNAVAILABLE', `${what}: the chain RPC is unreachable (${error.shortMessage})`, {
        cause: error,
      });
    return new PlumbError('UNAVAILABLE', `${what}: ${error.shortMessage}`, { cause: error });
  }
  return new PlumbError('UNAVAILABLE', `${what}: ${errorMessage(error)}`, { cause: error });
}
