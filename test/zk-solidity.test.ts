/**
 * The exported Solidity verifier on a real EVM: compile `plumb zk export-verifier`'s contract
 * with solc-js (pinned), deploy it to an anvil devnet (the @foundry-rs platform binary, a child
 * process stopped after the test), and call `verifyProof` with a real Groth16 proof of an ezkl
 * model: true for the proof, false for a changed output, a changed input and another model's
 * proof. Prints the verification gas. Skipped where the anvil binary is not installed (it ships
 * for linux-x64 only in the registry this project uses).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import { createPublicClient, createWalletClient, encodeFunctionData, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { compileSource } from '../src/chain/compile.ts';
import { anvilBinary, type Devnet, startDevnet } from '../src/chain/devnet.ts';
import { FIELD_PRIME } from '../src/proof/zk/circuit.ts';
import { type ProveResult, prove } from '../src/proof/zk/prove.ts';
import { releaseZk, setupModel, type ZkArtifacts } from '../src/proof/zk/setup.ts';
import { exportSolidityVerifier } from '../src/proof/zk/solidity.ts';
import { buildMlp } from './fixtures/onnx-builder.ts';
import { devKey } from './helpers/chain.ts';
import { loadEzklCase } from './helpers/ezkl.ts';

const anvil = anvilBinary();

/** verifyProof's arguments from a proof (snarkjs's own calldata formatting). */
async function callArgs(proof: ProveResult['proof'], signals: readonly string[]): Promise<unknown[]> {
  return JSON.parse(`[${await snarkjs.groth16.exportSolidityCallData(proof, signals)}]`) as unknown[];
}

describe('the exported Solidity verifier on an anvil devnet', {
  skip: anvil ? false : 'anvil binary not installed (linux-x64 only)',
  timeout: 300_000,
}, () => {
  const work = mkdtempSync(join(tmpdir(), 'plumb-zk-sol-'));
  const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
  let devnet: Devnet | undefined;
  let rpc = '';
  let mlp: { a: ZkArtifacts; p: ProveResult };
  let other: ProveResult;

  before(async () => {
    const c = loadEzklCase('1l_mlp');
    const a = await setupModel(c.bytes, { workDir: join(work, 'mlp'), ptauDir });
    mlp = { a, p: await prove(a, c.inputs) };
    const o = buildMlp({ sizes: [3, 4], seed: 11 });
    const oa = await setupModel(o.bytes, { workDir: join(work, 'other'), ptauDir });
    other = await prove(oa, {
      input: { dtype: 'float32', shape: [1, 3], data: Float32Array.from([0.5, -1.25, 2]) },
    });
    devnet = await startDevnet();
    rpc = devnet.rpcUrl;
  });
  after(async () => {
    await devnet?.stop();
    await releaseZk();
    rmSync(work, { recursive: true, force: true });
  });

  it('compiles with solc, deploys, accepts the proof and rejects tampered ones', async (t) => {
    const source = await exportSolidityVerifier(mlp.a.zkeyPath);
    const { abi, bytecode } = await compileSource('Groth16Verifier', source);
    const account = privateKeyToAccount(devKey);
    const wallet = createWalletClient({ account, chain: foundry, transport: http(rpc) });
    const reader = createPublicClient({ chain: foundry, transport: http(rpc) });
    const hash = await wallet.deployContract({ abi, bytecode });
    const receipt = await reader.waitForTransactionReceipt({ hash });
    const address = receipt.contractAddress!;
    const call = async (args: unknown[]) =>
      (await reader.readContract({ address, abi, functionName: 'verifyProof', args })) as boolean;

    const { proof, publicSignals } = mlp.p;
    assert.equal(await call(await callArgs(proof, publicSignals)), true, 'the proof verifies on chain');
    const bump = (i: number) =>
      publicSignals.map((v, k) => (k === i ? ((BigInt(v) + 1n) % FIELD_PRIME).toString() : v));
    const outputAt = 0;
    const inputAt = mlp.a.circuit.inputs[0]!.publicOffset;
    assert.equal(await call(await callArgs(proof, bump(outputAt))), false, 'a changed output is rejected');
    assert.equal(await call(await callArgs(proof, bump(inputAt))), false, 'a changed input is rejected');
    assert.equal(
      await call(await callArgs(other.proof, other.publicSignals)),
      false,
      "another model's proof is rejected",
    );

    // Measured as a transaction with ample gas: estimateGas would find the least gas at which
    // verifyProof still returns (false: the template does not revert when the pairing call fails).
    const tx = await wallet.sendTransaction({
      to: address,
      data: encodeFunctionData({
        abi,
        functionName: 'verifyProof',
        args: await callArgs(proof, publicSignals),
      }),
      gas: 2_000_000n,
    });
    const mined = await reader.waitForTransactionReceipt({ hash: tx });
    assert.equal(mined.status, 'success');
    t.diagnostic(
      `a transaction calling verifyProof for ezkl 1l_mlp (${publicSignals.length} public signals) used ${mined.gasUsed} gas (21,000 of it the base cost); deployment ${receipt.gasUsed} gas`,
    );
    // 4 pairings alone cost 45,000 + 4 x 34,000 gas (EIP-1108)
    assert.ok(mined.gasUsed > 181_000n && mined.gasUsed < 1_000_000n, `gas ${mined.gasUsed}`);
  });
});
