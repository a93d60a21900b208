/**
 * The exported Solidity verifier on a real EVM: compile `plumb zk export-verifier`'s contract
 * with solc-js (pinned), deploy it to an anvil devnet (the @foundry-rs platform binary, a child
 * process stopped after the test), and call `verifyProof` with a real Groth16 proof of an ezkl
 * model: true for the proof, false for a changed output, a changed input and another model's
 * proof. Prints the verification gas. Skipped where the anvil binary is not installed (it ships
 * for linux-x64 only in the registry this project uses).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as snarkjs from 'snarkjs';
import { createPublicClient, createWalletClient, encodeFunctionData, type Hex, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { FIELD_PRIME } from '../src/proof/zk/circuit.ts';
import { type ProveResult, prove } from '../src/proof/zk/prove.ts';
import { releaseZk, setupModel, type ZkArtifacts } from '../src/proof/zk/setup.ts';
import { exportSolidityVerifier } from '../src/proof/zk/solidity.ts';
import { buildMlp } from './fixtures/onnx-builder.ts';
import { loadEzklCase } from './helpers/ezkl.ts';

const require = createRequire(import.meta.url);
const solc = require('solc') as { compile(input: string): string; version(): string };

function anvilPath(): string | undefined {
  try {
    const bin = join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}
const anvil = anvilPath();

/** anvil's first default account (public knowledge: a devnet key only). */
const devKey: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function startAnvil(bin: string, port: number): Promise<ChildProcess> {
  const child = spawn(bin, ['--port', String(port), '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`anvil did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`anvil exited with ${code}: ${out}`)));
  });
}

type Abi = readonly Record<string, unknown>[];

function compileVerifier(source: string): { abi: Abi; bytecode: Hex } {
  const input = {
    language: 'Solidity',
    sources: { 'Verifier.sol': { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  assert.deepEqual(
    errors.map((e) => e.formattedMessage),
    [],
    'the verifier compiles',
  );
  const [contract] = Object.values(out.contracts['Verifier.sol'] ?? {});
  assert.ok(contract, 'a contract in Verifier.sol');
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
}

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
  let node: ChildProcess | undefined;
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
    const port = await freePort();
    node = await startAnvil(anvil!, port);
    rpc = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    node?.kill();
    await releaseZk();
    rmSync(work, { recursive: true, force: true });
  });

  it('compiles with solc, deploys, accepts the proof and rejects tampered ones', async (t) => {
    const source = await exportSolidityVerifier(mlp.a.zkeyPath);
    const { abi, bytecode } = compileVerifier(source);
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
      `solc ${solc.version()}: a transaction calling verifyProof for ezkl 1l_mlp (${publicSignals.length} public signals) used ${mined.gasUsed} gas (21,000 of it the base cost); deployment ${receipt.gasUsed} gas`,
    );
    // 4 pairings alone cost 45,000 + 4 x 34,000 gas (EIP-1108)
    assert.ok(mined.gasUsed > 181_000n && mined.gasUsed < 1_000_000n, `gas ${mined.gasUsed}`);
  });
});
