/**
 * The whole on-chain loop on the embedded devnet (anvil), through the node's HTTP API and SDK:
 * a node stakes, registers a zk model on chain (its verifier deployed), signs receipts that are
 * queued and settled in Merkle batches, and `verifyOnchain` checks them against the chain; a
 * node that signs a wrong output is challenged with a zk proof and slashed; a consumer contract
 * asks the Coordinator and gets its callback; the node restarts between infer and settle and
 * loses nothing; bad input (wrong chain, RPC down, forged proofs, unsettled batches) gets clear
 * errors. Skipped where the anvil binary is absent.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Abi, createTestClient, getAddress, type Hex, http, parseEther } from 'viem';
import { createApp } from '../src/api/app.ts';
import { CoordinatorAbi, ExampleConsumerAbi } from '../src/chain/abi.ts';
import { compileContracts } from '../src/chain/compile.ts';
import { anvilBinary, startDevnet } from '../src/chain/devnet.ts';
import { onchainChecks, type SettlementProof } from '../src/chain/verify-onchain.ts';
import { cidOf, cidToBytes } from '../src/core/cid.ts';
import { encodeTensors } from '../src/core/encoding.ts';
import { isPlumbError } from '../src/core/errors.ts';
import { toHex } from '../src/core/hash.ts';
import { draftReceipt, type Receipt, sealReceipt } from '../src/core/receipt.ts';
import { type TensorMap, tensorMapFromJson } from '../src/core/tensor.ts';
import { CoordinatorWatcher } from '../src/node/coordinator.ts';
import { loadOrCreateNodeKey } from '../src/node/keystore.ts';
import { PlumbNode } from '../src/node/node.ts';
import {
  type Client,
  challenge,
  createClient,
  getChainStatus,
  getSettlement,
  infer,
  inProcess,
  pushModel,
  registerModelOnchain,
  settle,
  stake,
  verifyOnchain,
} from '../src/sdk/index.ts';
import { buildMlp } from './fixtures/onnx-builder.ts';

const skip = anvilBinary() ? false : 'no anvil binary for this platform (@foundry-rs/anvil-linux-amd64)';
const corpus = new URL('../../shared/corpus/ezkl/', import.meta.url).pathname;
const mlpBytes = readFileSync(join(corpus, '1l_mlp/network.onnx'));
const mlpInputs = { input: { dtype: 'float32', shape: [1, 3], data: [0.25, -1.5, 2] } } as const;
const plain = buildMlp({ sizes: [3, 4], seed: 7, inputName: 'input' }).bytes;
const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
const dirs: string[] = [];

type Running = { node: PlumbNode; client: Client; dir: string };

async function startNode(dir: string, config: Record<string, unknown> = {}): Promise<Running> {
  const node = new PlumbNode({ dataDir: dir, zkPtauDir: ptauDir, chain: true, ...config });
  await node.start();
  const app = createApp(node);
  return { node, client: createClient({ transport: inProcess((r) => app.fetch(r)) }), dir };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plumb-chain-'));
  dirs.push(dir);
  return dir;
}

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isPlumbError(e), `not a PlumbError: ${e}`);
    assert.equal(e.code, code, e.shortMessage);
    assert.match(e.shortMessage, pattern);
    return true;
  });
}

/** A receipt the node signs for outputs it did not compute (a lie). */
function lie(node: PlumbNode, modelCid: string, inputs: TensorMap, outputs: TensorMap): Receipt {
  const draft = draftReceipt({
    domain: node.domain,
    modelCid,
    inputs,
    outputs,
    mode: 'signed',
    node: node.key.address,
    nonce: `0x${'11'.repeat(32)}`,
    timestamp: Date.now(),
    includeInputs: true,
  });
  return sealReceipt(draft, node.key.sign(draft.digest));
}

describe('on-chain registry and settlement', { skip }, () => {
  let a: Running; // the honest-then-lying node
  let mlpCid: string;
  let plainCid: string;

  before(async () => {
    a = await startNode(tempDir());
    const pushed = await pushModel(a.client, { data: mlpBytes, repo: 'acme/mlp', zk: {} });
    mlpCid = pushed.cid;
    plainCid = (await pushModel(a.client, { data: plain, repo: 'acme/plain' })).cid;
  });
  after(async () => {
    await a?.node.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('a node stakes and registers models; receipts are signed for the chain', async () => {
    const before = await getChainStatus(a.client);
    assert.equal(before.devnet, true);
    assert.equal(before.node.active, false);
    await rejects(stake(a.client, { action: 'stake', amount: 'lots' }), 'INVALID_ARGUMENT', /ether amount/);
    const { status } = await stake(a.client, { action: 'stake', amount: '1.0' });
    assert.equal(status.node.active, true);
    assert.equal(status.node.staked, '1');
    const zk = await registerModelOnchain(a.client, { model: mlpCid });
    assert.match(zk.verifier ?? '', /^0x[0-9a-fA-F]{40}$/);
    const again = await registerModelOnchain(a.client, { model: mlpCid });
    assert.equal(again.verifier, zk.verifier); // idempotent
    const p = await registerModelOnchain(a.client, { model: plainCid });
    assert.equal(p.verifier, undefined);
    const r = await infer(a.client, { model: mlpCid, inputs: mlpInputs });
    assert.equal(r.domain.chainId, before.chainId);
    assert.equal(getAddress(r.domain.verifyingContract!), before.contracts['settlement']);
  });

  test('infer -> settle -> verified on chain with a Merkle proof; forged proofs and unsettled batches fail', async () => {
    const receipts: Receipt[] = [];
    for (let i = 0; i < 5; i++)
      receipts.push(await infer(a.client, { model: mlpCid, inputs: mlpInputs, includeInputs: true }));
    const r = receipts[2]!;
    const early = await verifyOnchain(a.client, { receipt: r });
    assert.equal(early.valid, false);
    assert.match(early.reason ?? '', /not settled yet/);
    const settled = await settle(a.client);
    assert.ok(settled.receipts >= 5);
    const ok = await verifyOnchain(a.client, { receipt: r });
    assert.equal(ok.valid, true, ok.reason);
    assert.deepEqual(ok.checks.map((c) => c.check).slice(-4), [
      'chainDomain',
      'onchainDigest',
      'nodeStake',
      'settled',
    ]);
    const { rpcUrl } = await getChainStatus(a.client);
    const proof = (await getSettlement(a.client, { id: r.id })) as Extract<
      SettlementProof,
      { status: 'settled' }
    >;
    assert.equal(proof.status, 'settled');
    const forged = {
      ...proof,
      proof: proof.proof.map((h) => `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}`) as Hex[],
    };
    const f = await onchainChecks(rpcUrl, r, forged);
    assert.match(f.find((c) => !c.ok)?.message ?? '', /Merkle proof does not show/);
    const never = { ...proof, batch: { ...proof.batch, chainBatchId: '999' } };
    const n = await onchainChecks(rpcUrl, r, never);
    assert.match(n.find((c) => !c.ok)?.message ?? '', /never settled/);
    const otherReceipt = await onchainChecks(rpcUrl, receipts[0]!, proof); // r's proof for another receipt
    assert.equal(otherReceipt.find((c) => c.check === 'settled')?.ok, false);
  });

  test('a wrong signed output is challenged with a zk proof and its node slashed; a correct one is not', async () => {
    // The challenger: another node with the same model and zk setup (a copy of the data directory, its own key).
    const bDir = tempDir();
    cpSync(a.dir, bDir, { recursive: true, filter: (src) => !/node\.key|devnet/.test(src) });
    const status = await getChainStatus(a.client);
    const { address } = await loadOrCreateNodeKey(bDir);
    await createTestClient({ mode: 'anvil', transport: http(status.rpcUrl) }).setBalance({
      address,
      value: parseEther('1'),
    });
    const b = await startNode(bDir, { rpcUrl: status.rpcUrl, settlement: status.contracts['settlement'] });
    try {
      const inputs = tensorMapFromJson(mlpInputs);
      const honest = await infer(a.client, { model: mlpCid, inputs: mlpInputs, includeInputs: true });
      await rejects(challenge(b.client, { receipt: honest }), 'CONFLICT', /signed output is correct/);
      const outputs = tensorMapFromJson(honest.outputs);
      const wrong = { ...outputs } as Record<
        string,
        { dtype: 'float32'; shape: number[]; data: Float32Array }
      >;
      for (const [k, t] of Object.entries(wrong))
        wrong[k] = { ...t, data: (t.data as Float32Array).map((x) => x + 0.5) };
      const lying = lie(a.node, mlpCid, inputs, wrong as TensorMap);
      const plainLie = lie(a.node, plainCid, inputs, wrong as TensorMap);
      await rejects(challenge(b.client, { receipt: plainLie }), 'CONFLICT', /needs the validator committee/);
      const result = await challenge(b.client, { receipt: lying });
      assert.ok(result.distance > 0.4, `distance ${result.distance}`);
      assert.equal(result.slashed, '1');
      assert.equal(result.reward, '0.5');
      const after = await getChainStatus(a.client);
      assert.equal(after.node.active, false);
      assert.equal(after.node.staked, '0');
      await rejects(challenge(b.client, { receipt: lying }), 'CONFLICT', /AlreadyChallenged|NotStaked/);
      // The slashed node's receipts no longer pass on-chain verification; an unstaked node's never did.
      const v = await verifyOnchain(a.client, { receipt: honest });
      assert.match(v.checks.find((c) => c.check === 'nodeStake')?.message ?? '', /not registered|below/);
      const fromB = await infer(b.client, { model: mlpCid, inputs: mlpInputs });
      await settle(b.client).catch(() => undefined); // B has no stake: it cannot settle
      const vb = await verifyOnchain(b.client, { receipt: fromB });
      assert.match(vb.checks.find((c) => c.check === 'nodeStake')?.message ?? '', /not registered/);
      // Stake again so later tests run with an active node.
      await stake(a.client, { action: 'stake', amount: '1.0' });
    } finally {
      await b.node.stop();
    }
  });

  test('a consumer contract requests inference; the node answers (signed and zk) and the callback runs', async () => {
    const chain = a.node.chain!;
    const { walletClient, publicClient } = chain.connection;
    const compiled = await compileContracts();
    const c = compiled['ExampleConsumer']!;
    const deployHash = await walletClient.deployContract({
      abi: c.abi as Abi,
      bytecode: c.bytecode,
      args: [chain.deployment.coordinator],
    });
    const consumer = getAddress(
      (await publicClient.waitForTransactionReceipt({ hash: deployHash })).contractAddress!,
    );
    const input = toHex(encodeTensors(tensorMapFromJson(mlpInputs))) as Hex;
    const modelCid = toHex(cidToBytes(mlpCid)) as Hex;
    const ids: bigint[] = [];
    for (const mode of ['signed', 'zk']) {
      const hash = await walletClient.writeContract({
        address: consumer,
        abi: ExampleConsumerAbi,
        functionName: 'ask',
        args: [modelCid, input, mode],
        value: parseEther('0.01'),
      });
      await publicClient.waitForTransactionReceipt({ hash });
      ids.push(
        await publicClient.readContract({
          address: chain.deployment.coordinator,
          abi: CoordinatorAbi,
          functionName: 'requestCount',
        }),
      );
    }
    // Requests the node cannot answer are logged and left for others: a model it does not host,
    // and input bytes that are not a canonical encoding (here a -0, which hashes differently).
    const negZero = Buffer.from(encodeTensors(tensorMapFromJson(mlpInputs)));
    negZero.writeUInt32LE(0x80000000, negZero.length - 4);
    const elsewhere = toHex(cidToBytes(cidOf(new Uint8Array([1, 2, 3])))) as Hex;
    for (const [cid, bytes] of [
      [modelCid, toHex(negZero) as Hex],
      [elsewhere, input],
    ] as const) {
      const hash = await walletClient.writeContract({
        address: consumer,
        abi: ExampleConsumerAbi,
        functionName: 'ask',
        args: [cid, bytes, 'signed'],
      });
      await publicClient.waitForTransactionReceipt({ hash });
    }
    const lines: string[] = [];
    const watcher = new CoordinatorWatcher(a.node, { log: (l) => lines.push(l) });
    await watcher.poll();
    assert.equal(watcher.fulfilled, 2, lines.join('\n'));
    assert.ok(
      lines.some((l) => /not a canonical tensor encoding/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /is not hosted here; left for others/.test(l)),
      lines.join('\n'),
    );
    await watcher.poll(); // nothing new: answered requests are not answered twice
    assert.equal(watcher.fulfilled, 2);
    const signed = await infer(a.client, { model: mlpCid, inputs: mlpInputs });
    for (const id of ids) {
      const output = await publicClient.readContract({
        address: consumer,
        abi: ExampleConsumerAbi,
        functionName: 'results',
        args: [id],
      });
      assert.notEqual(output, '0x');
      if (id === ids[0]) assert.equal(output, toHex(encodeTensors(tensorMapFromJson(signed.outputs))));
    }
  });

  test('a node restarted between infer and settle still settles the receipt', async () => {
    const r = await infer(a.client, { model: mlpCid, inputs: mlpInputs });
    assert.equal((await getSettlement(a.client, { id: r.id })).status, 'queued');
    await a.node.stop(); // the devnet stops with it (its state saved)
    a = await startNode(a.dir);
    assert.equal((await getSettlement(a.client, { id: r.id })).status, 'queued');
    await settle(a.client);
    const v = await verifyOnchain(a.client, { receipt: r });
    assert.equal(v.valid, true, v.reason);
  });

  test('bad input: wrong chain id, an unreachable RPC, an unknown deployment', async () => {
    const { rpcUrl, chainId } = await getChainStatus(a.client);
    const dir = tempDir();
    await rejects(startNode(dir, { rpcUrl, chainId: chainId + 1 }), 'INVALID_ARGUMENT', /wrong chain/);
    await rejects(
      startNode(dir, { rpcUrl: 'http://127.0.0.1:9' }),
      'UNAVAILABLE',
      /cannot reach the chain RPC/,
    );
    await rejects(
      startNode(dir, { rpcUrl, settlement: '0x000000000000000000000000000000000000dEaD' }),
      'NOT_FOUND',
      /no Plumb Settlement contract/,
    );
    await rejects(startNode(dir, { rpcUrl }), 'NOT_FOUND', /no Plumb deployment is known/);
  });

  test('an RPC that goes down: settle fails clearly, the node keeps serving, and settles once it is back', async () => {
    const statePath = join(tempDir(), 'state.json');
    let devnet = await startDevnet({ statePath });
    const port = Number(new URL(devnet.rpcUrl).port);
    // An operator's node on an external chain: its key funded there, the contracts deployed with it.
    const cDir = tempDir();
    const { address } = await loadOrCreateNodeKey(cDir);
    await createTestClient({ mode: 'anvil', transport: http(devnet.rpcUrl) }).setBalance({
      address,
      value: parseEther('10'),
    });
    const c = await startNode(cDir, { rpcUrl: devnet.rpcUrl, chainDeploy: true });
    try {
      await stake(c.client, { action: 'stake', amount: '1.0' });
      await pushModel(c.client, { data: plain, repo: 'acme/plain' });
      const r = await infer(c.client, { model: 'acme/plain', inputs: mlpInputs });
      await devnet.stop();
      await rejects(
        settle(c.client),
        'UNAVAILABLE',
        /unreachable|cannot reach|fetch failed|HTTP request failed/i,
      );
      const again = await infer(c.client, { model: 'acme/plain', inputs: mlpInputs }); // still serving
      assert.equal(again.modelCid, r.modelCid);
      assert.notEqual((await getSettlement(c.client, { id: r.id })).status, 'settled');
      devnet = await startDevnet({ statePath, port });
      const done = await settle(c.client);
      assert.ok(done.receipts >= 2);
      assert.equal((await getSettlement(c.client, { id: r.id })).status, 'settled');
      assert.equal((await getSettlement(c.client, { id: again.id })).status, 'settled');
    } finally {
      await c.node.stop();
      await devnet.stop();
    }
  });
});
