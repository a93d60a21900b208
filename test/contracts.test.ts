/**
 * Plumb's contracts (contracts/*.sol) on an anvil devnet: node staking, unbonding and slashing;
 * model ownership and zk specs; batch settlement against a real OpenZeppelin StandardMerkleTree;
 * receipt digests equal to the TypeScript ones, signatures from src/core/secp256k1.ts; exact
 * quantization equal to the fixed-point executor's; the Coordinator's signed and zk paths; and a
 * fraud proof that slashes a node for a wrong output of the ezkl model 1l_mlp (a real Groth16
 * verifier). Prints the gas of the main calls. Skipped where the anvil binary is not installed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { type Abi, type Hex, parseEther, parseEventLogs, zeroAddress } from 'viem';
import * as abis from '../src/chain/abi.ts';
import {
  type CompiledContracts,
  compileContracts,
  compileSource,
  contractArtifact,
  deployableContracts,
} from '../src/chain/compile.ts';
import type { OnchainReceipt as Receipt } from '../src/chain/receipt-struct.ts';
import type { ZkSpec } from '../src/chain/zk-spec.ts';
import { encodeTensors } from '../src/core/encoding.ts';
import { keccak256, sha256, toHex } from '../src/core/hash.ts';
import { type ReceiptDigestFields, receiptDigest } from '../src/core/receipt-types.ts';
import { signDigest } from '../src/core/secp256k1.ts';
import type { TensorMap } from '../src/core/tensor.ts';
import { FIELD_PRIME, signedToField } from '../src/proof/zk/circuit.ts';
import { prove } from '../src/proof/zk/prove.ts';
import { releaseZk, setupModel, type ZkArtifacts } from '../src/proof/zk/setup.ts';
import { exportSolidityVerifier } from '../src/proof/zk/solidity.ts';
import { quantizeF32Bits } from '../src/runtime/exact/fixed.ts';
import {
  chainSkip,
  type Deployed,
  deploy,
  deployAll,
  errorsAbi,
  expectRevert,
  revertOf,
  send,
  startChain,
  type TestAccount,
  type TestChain,
} from './helpers/chain.ts';
import { ezklModels, loadEzklCase } from './helpers/ezkl.ts';

const compiledPromise = compileContracts();

describe('src/chain/abi.ts', () => {
  it('is up to date with contracts/*.sol (npm run build:contracts)', async () => {
    const compiled = await compiledPromise;
    const generated = abis as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(generated).sort(),
      deployableContracts.map((n) => `${n}Abi`).sort(),
      'one ABI per deployable contract',
    );
    for (const name of deployableContracts)
      assert.deepEqual(
        JSON.parse(JSON.stringify(generated[`${name}Abi`])),
        JSON.parse(JSON.stringify(contractArtifact(compiled, name).abi)),
        `${name}Abi differs from the compiled contract: run npm run build:contracts`,
      );
  });
});

const f32 = (values: number[], shape: number[] = [values.length]) =>
  ({ dtype: 'float32', shape, data: Float32Array.from(values) }) as const;
const bitsOf = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;
const hexOf = (bytes: Uint8Array) => toHex(bytes);
const randomHex = (n: number) => toHex(randomBytes(n));
/** A binary CIDv1 (raw codec, sha2-256) of random content. */
const randomCid = (): Hex => `0x01551220${randomBytes(32).toString('hex')}`;
const fieldOf = (q: bigint) => BigInt(signedToField(q));

const gasLines: string[] = [];
function reportGas(line: string): void {
  gasLines.push(line);
  console.log(`gas: ${line}`);
}

describe('Plumb contracts on an anvil devnet', { skip: chainSkip, timeout: 240_000 }, () => {
  let chain: TestChain;
  let compiled: CompiledContracts;
  let d: Deployed;
  let errors: Abi;
  let harness: Hex;
  let node: TestAccount;
  let stranger: TestAccount;
  const abi = (name: string) => contractArtifact(compiled, name).abi;

  before(async () => {
    compiled = await compiledPromise;
    errors = errorsAbi(compiled);
    chain = await startChain();
    d = await deployAll(chain.deployer.wallet, chain.publicClient, compiled, {
      minStake: parseEther('1'),
      unbondingPeriod: 100n,
    });
    harness = await deploy(chain.deployer.wallet, chain.publicClient, compiled, 'ZkTensorsHarness');
    node = await chain.account();
    stranger = await chain.account();
    await tx(node, d.nodeRegistry, 'NodeRegistry', 'stake', [], parseEther('2'));
  });
  after(async () => {
    await chain?.stop();
  });

  /** Send `functionName` from `who`, mined successfully. */
  function tx(
    who: TestAccount,
    address: Hex,
    contract: string,
    functionName: string,
    args: readonly unknown[] = [],
    value?: bigint,
    gas?: bigint,
  ) {
    return send(who.wallet, chain.publicClient, {
      address,
      abi: abi(contract),
      functionName,
      args,
      ...(value === undefined ? {} : { value }),
      ...(gas === undefined ? {} : { gas }),
    });
  }
  /** eth_call of `functionName` from `who` (reverts surface as errors). */
  function simulate(
    who: TestAccount,
    address: Hex,
    contract: string,
    functionName: string,
    args: readonly unknown[] = [],
    value?: bigint,
  ) {
    return chain.publicClient.simulateContract({
      account: who.wallet.account,
      address,
      abi: [...abi(contract), ...errors],
      functionName,
      args,
      ...(value === undefined ? {} : { value }),
    });
  }
  function read<T = unknown>(
    address: Hex,
    contract: string,
    functionName: string,
    args: readonly unknown[] = [],
  ) {
    return chain.publicClient.readContract({
      address,
      abi: [...abi(contract), ...errors],
      functionName,
      args,
    }) as Promise<T>;
  }
  const reverts = (p: Promise<unknown>, errorName: string, args?: readonly unknown[]) =>
    expectRevert(p, errors, errorName, args);
  const stakeOf = (registry: Hex, who: Hex) =>
    read<readonly [bigint, bigint, bigint]>(registry, 'NodeRegistry', 'stakeOf', [who]);
  const balance = (address: Hex) => chain.publicClient.getBalance({ address });
  const latestTime = async () => (await chain.publicClient.getBlock()).timestamp;
  const domain = () =>
    ({ name: 'Plumb', version: '1', chainId: chain.chainId, verifyingContract: d.settlement }) as const;

  function receipt(signer: TestAccount, fields: Partial<Receipt> = {}): Receipt {
    return {
      modelCid: randomCid(),
      inputHash: randomHex(32),
      outputHash: randomHex(32),
      mode: 'signed',
      node: signer.address,
      timestamp: BigInt(Date.now()),
      nonce: randomHex(32),
      ...fields,
    };
  }
  const digestOf = (r: Receipt) => receiptDigest(domain(), r satisfies ReceiptDigestFields);
  const sign = (r: Receipt, key: Uint8Array) => signDigest(digestOf(r), key);

  it('NodeRegistry: stake, unbond (a new request restarts the clock), withdraw after the period', async () => {
    const registry = await deploy(chain.deployer.wallet, chain.publicClient, compiled, 'NodeRegistry', [
      parseEther('1'),
      100n,
    ]);
    const n = await chain.account();
    await tx(n, registry, 'NodeRegistry', 'stake', [], parseEther('0.5'));
    assert.equal(await read(registry, 'NodeRegistry', 'isRegistered', [n.address]), true);
    assert.equal(await read(registry, 'NodeRegistry', 'isActive', [n.address]), false, 'below minStake');
    await tx(n, registry, 'NodeRegistry', 'stake', [], parseEther('1'));
    assert.equal(await read(registry, 'NodeRegistry', 'isActive', [n.address]), true);
    assert.deepEqual(await stakeOf(registry, n.address), [parseEther('1.5'), 0n, 0n]);
    await reverts(simulate(n, registry, 'NodeRegistry', 'stake', [], 0n), 'ZeroAmount');
    await reverts(
      simulate(n, registry, 'NodeRegistry', 'requestUnbond', [parseEther('2')]),
      'InsufficientStake',
      [parseEther('1.5'), parseEther('2')],
    );
    await reverts(simulate(n, registry, 'NodeRegistry', 'withdraw'), 'NothingToWithdraw');

    await tx(n, registry, 'NodeRegistry', 'requestUnbond', [parseEther('0.4')]);
    let [staked, unbonding, unlockAt] = await stakeOf(registry, n.address);
    assert.deepEqual(
      [staked, unbonding, unlockAt],
      [parseEther('1.1'), parseEther('0.4'), (await latestTime()) + 100n],
    );
    assert.equal(
      await read(registry, 'NodeRegistry', 'isActive', [n.address]),
      true,
      '1.1 >= 1 still active',
    );
    await reverts(simulate(n, registry, 'NodeRegistry', 'withdraw'), 'StillUnbonding', [unlockAt]);

    await chain.testClient.increaseTime({ seconds: 60 });
    await tx(n, registry, 'NodeRegistry', 'requestUnbond', [parseEther('0.2')]);
    const first = unlockAt;
    [staked, unbonding, unlockAt] = await stakeOf(registry, n.address);
    assert.deepEqual([staked, unbonding], [parseEther('0.9'), parseEther('0.6')]);
    assert.equal(unlockAt, (await latestTime()) + 100n, 'the clock restarted');
    assert.ok(unlockAt >= first + 60n);
    assert.equal(await read(registry, 'NodeRegistry', 'isActive', [n.address]), false, '0.9 < 1: inactive');

    await chain.testClient.increaseTime({ seconds: 60 }); // past the first unlock, not the second
    await chain.testClient.mine({ blocks: 1 });
    await reverts(simulate(n, registry, 'NodeRegistry', 'withdraw'), 'StillUnbonding', [unlockAt]);
    await chain.testClient.increaseTime({ seconds: 41 });
    const before = await balance(n.address);
    const mined = await tx(n, registry, 'NodeRegistry', 'withdraw');
    const after = await balance(n.address);
    assert.equal(after - before, parseEther('0.6') - mined.gasUsed * mined.effectiveGasPrice);
    assert.deepEqual(await stakeOf(registry, n.address), [parseEther('0.9'), 0n, 0n]);
    const [withdrawn] = parseEventLogs({
      abi: abis.NodeRegistryAbi,
      logs: mined.logs,
      eventName: 'Withdrawn',
    });
    assert.deepEqual(withdrawn?.args, { node: n.address, amount: parseEther('0.6') });
  });

  it('NodeRegistry: only authorised slashers slash; a slash takes stake and unbonding, half to the challenger', async () => {
    // the deployment's registry: slashers were set once (FraudProofs), by the deployer
    await reverts(
      simulate(stranger, d.nodeRegistry, 'NodeRegistry', 'setSlashers', [[stranger.address]]),
      'NotDeployer',
      [stranger.address],
    );
    await reverts(
      simulate(chain.deployer, d.nodeRegistry, 'NodeRegistry', 'setSlashers', [[stranger.address]]),
      'SlashersAlreadySet',
    );
    assert.equal(await read(d.nodeRegistry, 'NodeRegistry', 'isSlasher', [d.fraudProofs]), true);
    await reverts(
      simulate(chain.deployer, d.nodeRegistry, 'NodeRegistry', 'slash', [
        node.address,
        stranger.address,
        randomHex(32),
      ]),
      'NotSlasher',
      [chain.deployer.address],
    );

    // a registry whose slasher is an account, to slash directly
    const registry = await deploy(chain.deployer.wallet, chain.publicClient, compiled, 'NodeRegistry', [
      parseEther('1'),
      100n,
    ]);
    const slasher = await chain.account();
    await tx(chain.deployer, registry, 'NodeRegistry', 'setSlashers', [[slasher.address]]);
    const n = await chain.account();
    const challenger = await chain.account();
    await tx(n, registry, 'NodeRegistry', 'stake', [], parseEther('1.5'));
    await tx(n, registry, 'NodeRegistry', 'requestUnbond', [parseEther('0.5')]);
    const evidence = randomHex(32);
    await reverts(
      simulate(n, registry, 'NodeRegistry', 'slash', [n.address, n.address, evidence]),
      'NotSlasher',
    );
    const before = await balance(challenger.address);
    const mined = await tx(slasher, registry, 'NodeRegistry', 'slash', [
      n.address,
      challenger.address,
      evidence,
    ]);
    assert.equal(
      (await balance(challenger.address)) - before,
      parseEther('0.75'),
      'half of 1.0 staked + 0.5 unbonding',
    );
    assert.equal(await read(registry, 'NodeRegistry', 'totalBurned'), parseEther('0.75'));
    assert.equal(await balance(registry), parseEther('0.75'), 'the burned half stays locked');
    assert.deepEqual(await stakeOf(registry, n.address), [0n, 0n, 0n]);
    const [slashed] = parseEventLogs({ abi: abis.NodeRegistryAbi, logs: mined.logs, eventName: 'Slashed' });
    assert.deepEqual(slashed?.args, {
      node: n.address,
      challenger: challenger.address,
      evidence,
      amount: parseEther('1.5'),
      reward: parseEther('0.75'),
    });
    await reverts(
      simulate(slasher, registry, 'NodeRegistry', 'slash', [n.address, challenger.address, evidence]),
      'NothingToSlash',
      [n.address],
    );
    await reverts(simulate(n, registry, 'NodeRegistry', 'withdraw'), 'NothingToWithdraw');
  });

  it('ModelRegistry: the first registrant owns a CID; only the owner sets its ZkSpec, once', async () => {
    const owner = await chain.account();
    const cid = randomCid();
    const manifest = randomHex(32);
    const cidHash = hexOf(keccak256(Buffer.from(cid.slice(2), 'hex')));
    assert.deepEqual(await read(d.modelRegistry, 'ModelRegistry', 'modelOf', [cid]), [
      zeroAddress,
      `0x${'0'.repeat(64)}`,
      0n,
    ]);
    const mined = await tx(owner, d.modelRegistry, 'ModelRegistry', 'registerModel', [cid, manifest]);
    const [event] = parseEventLogs({
      abi: abis.ModelRegistryAbi,
      logs: mined.logs,
      eventName: 'ModelRegistered',
    });
    assert.deepEqual(event?.args, { cidHash, cid, owner: owner.address, manifestHash: manifest });
    const [o, m, at] = await read<readonly [Hex, Hex, bigint]>(d.modelRegistry, 'ModelRegistry', 'modelOf', [
      cid,
    ]);
    assert.deepEqual([o, m, at], [owner.address, manifest, await latestTime()]);
    await reverts(
      simulate(stranger, d.modelRegistry, 'ModelRegistry', 'registerModel', [cid, randomHex(32)]),
      'NotModelOwner',
      [cidHash, owner.address],
    );
    const manifest2 = randomHex(32);
    await tx(owner, d.modelRegistry, 'ModelRegistry', 'registerModel', [cid, manifest2]);
    assert.equal(
      (await read<readonly [Hex, Hex, bigint]>(d.modelRegistry, 'ModelRegistry', 'modelOf', [cid]))[1],
      manifest2,
    );
    await reverts(
      simulate(owner, d.modelRegistry, 'ModelRegistry', 'registerModel', ['0x', manifest]),
      'EmptyCid',
    );

    const spec: ZkSpec = {
      verifier: harness,
      scale: 12,
      inputBits: 24,
      tolerance: 41n,
      nPublic: 5,
      inputOffsets: [2],
      inputSizes: [3],
      outputOffsets: [0],
      outputSizes: [2],
    };
    assert.equal(await read(d.modelRegistry, 'ModelRegistry', 'hasCircuit', [cid]), false);
    await reverts(
      simulate(stranger, d.modelRegistry, 'ModelRegistry', 'setZkSpec', [cid, spec]),
      'NotModelOwner',
    );
    await reverts(
      simulate(owner, d.modelRegistry, 'ModelRegistry', 'setZkSpec', [randomCid(), spec]),
      'UnknownModel',
    );
    await reverts(
      simulate(owner, d.modelRegistry, 'ModelRegistry', 'setZkSpec', [
        cid,
        { ...spec, verifier: stranger.address },
      ]),
      'VerifierNotContract',
      [stranger.address],
    );
    await reverts(
      simulate(owner, d.modelRegistry, 'ModelRegistry', 'setZkSpec', [cid, { ...spec, inputSizes: [4] }]),
      'TensorOutsideSignals',
      [false, 0n],
    );
    await reverts(
      simulate(owner, d.modelRegistry, 'ModelRegistry', 'setZkSpec', [cid, { ...spec, outputSizes: [] }]),
      'LayoutLengthMismatch',
    );
    await reverts(
      simulate(owner, d.modelRegistry, 'ModelRegistry', 'setZkSpec', [cid, { ...spec, inputBits: 1 }]),
      'InputBitsOutOfRange',
      [1],
    );
    await tx(owner, d.modelRegistry, 'ModelRegistry', 'setZkSpec', [cid, spec]);
    assert.equal(await read(d.modelRegistry, 'ModelRegistry', 'hasCircuit', [cid]), true);
    assert.deepEqual(await read(d.modelRegistry, 'ModelRegistry', 'zkSpecOf', [cid]), spec);
    assert.deepEqual(await read(d.modelRegistry, 'ModelRegistry', 'zkSpecByHash', [cidHash]), spec);
    await reverts(
      simulate(owner, d.modelRegistry, 'ModelRegistry', 'setZkSpec', [cid, spec]),
      'ZkSpecAlreadySet',
      [cidHash],
    );
  });

  it('Settlement: batches settle by Merkle root; isSettled checks StandardMerkleTree proofs', async () => {
    assert.deepEqual(
      [
        await read(d.settlement, 'Settlement', 'nodeRegistry'),
        await read(d.settlement, 'Settlement', 'modelRegistry'),
        await read(d.settlement, 'Settlement', 'fraudProofs'),
        await read(d.settlement, 'Settlement', 'coordinator'),
      ],
      [d.nodeRegistry, d.modelRegistry, d.fraudProofs, d.coordinator],
    );
    await reverts(
      simulate(chain.deployer, d.settlement, 'Settlement', 'setModules', [zeroAddress, zeroAddress]),
      'ModulesAlreadySet',
    );

    const ids = Array.from({ length: 1000 }, () => randomHex(32));
    const tree = StandardMerkleTree.of(
      ids.map((id) => [id]),
      ['bytes32'],
    );
    const root = tree.root as Hex;
    await reverts(
      simulate(stranger, d.settlement, 'Settlement', 'submitBatch', [root, 1000]),
      'NotActiveNode',
      [stranger.address],
    );
    await reverts(
      simulate(node, d.settlement, 'Settlement', 'submitBatch', [`0x${'0'.repeat(64)}`, 1]),
      'EmptyRoot',
    );
    await reverts(simulate(node, d.settlement, 'Settlement', 'submitBatch', [root, 0]), 'EmptyBatch');

    const batchCount = await read<bigint>(d.settlement, 'Settlement', 'batchCount');
    const mined = await tx(node, d.settlement, 'Settlement', 'submitBatch', [root, 1000]);
    const batchId = batchCount + 1n;
    reportGas(
      `submitBatch (1,000 receipts in one root): ${mined.gasUsed} gas, ${Number(mined.gasUsed) / 1000} per receipt`,
    );
    assert.ok(mined.gasUsed < 1000n * 1000n, 'under 1,000 gas per receipt at 1,000 receipts');
    const [event] = parseEventLogs({ abi: abis.SettlementAbi, logs: mined.logs, eventName: 'BatchSettled' });
    assert.deepEqual(event?.args, { batchId, node: node.address, root, count: 1000 });
    const block = await chain.publicClient.getBlock({ blockNumber: mined.blockNumber });
    assert.deepEqual(await read(d.settlement, 'Settlement', 'batches', [batchId]), [
      root,
      node.address,
      1000,
      block.timestamp,
      mined.blockNumber,
    ]);
    assert.equal(await read(d.settlement, 'Settlement', 'batchIdOfRoot', [node.address, root]), batchId);

    const isSettled = (id: bigint, leaf: string, proof: string[]) =>
      read<boolean>(d.settlement, 'Settlement', 'isSettled', [id, leaf, proof]);
    for (const i of [0, 1, 499, 999])
      assert.equal(await isSettled(batchId, ids[i]!, tree.getProof(i)), true, `leaf ${i}`);
    const proof0 = tree.getProof(0);
    assert.equal(await isSettled(batchId, ids[1]!, proof0), false, "another leaf with leaf 0's proof");
    const forged = [...proof0];
    forged[0] = `0x${(BigInt(forged[0]!) ^ 1n).toString(16).padStart(64, '0')}`;
    assert.equal(await isSettled(batchId, ids[0]!, forged), false, 'a forged proof');
    assert.equal(await isSettled(batchId, randomHex(32), proof0), false, 'an id not in the batch');
    assert.equal(await isSettled(batchId, ids[0]!, []), false, 'no proof');
    assert.equal(await isSettled(batchId + 100n, ids[0]!, proof0), false, 'an unknown batch');
    const other = StandardMerkleTree.of(
      [randomHex(32), randomHex(32), randomHex(32)].map((id) => [id]),
      ['bytes32'],
    );
    await tx(node, d.settlement, 'Settlement', 'submitBatch', [other.root, 3]);
    assert.equal(await isSettled(batchId + 1n, ids[0]!, proof0), false, 'the wrong batch');
    assert.equal(await isSettled(batchId + 1n, other.at(2)![0]!, other.getProof(2)), true);

    await reverts(
      simulate(node, d.settlement, 'Settlement', 'submitBatch', [root, 1000]),
      'RootAlreadySettled',
      [root, batchId],
    );
  });

  it('Settlement: hashReceipt is the TypeScript EIP-712 digest; settleReceipt checks signer and stake', async () => {
    const r = receipt(node);
    assert.equal(await read(d.settlement, 'Settlement', 'hashReceipt', [r]), hexOf(digestOf(r)));
    assert.equal(
      await read(d.settlement, 'Settlement', 'RECEIPT_TYPEHASH'),
      hexOf(
        keccak256(
          Buffer.from(
            'Receipt(bytes modelCid,bytes32 inputHash,bytes32 outputHash,string mode,address node,uint64 timestamp,bytes32 nonce)',
          ),
        ),
      ),
    );
    const other = receipt(node, { modelCid: '0x', mode: 'zk', timestamp: 2n ** 64n - 1n });
    assert.equal(await read(d.settlement, 'Settlement', 'hashReceipt', [other]), hexOf(digestOf(other)));

    const signature = sign(r, node.key);
    const mined = await tx(stranger, d.settlement, 'Settlement', 'settleReceipt', [r, signature]);
    reportGas(`settleReceipt (one receipt, signature checked): ${mined.gasUsed} gas`);
    const digest = hexOf(digestOf(r));
    assert.equal(await read(d.settlement, 'Settlement', 'receiptSettled', [digest]), true);
    const [event] = parseEventLogs({
      abi: abis.SettlementAbi,
      logs: mined.logs,
      eventName: 'ReceiptSettled',
    });
    assert.deepEqual(event?.args, { receiptId: digest, node: node.address });
    await reverts(
      simulate(stranger, d.settlement, 'Settlement', 'settleReceipt', [r, signature]),
      'ReceiptAlreadySettled',
      [digest],
    );

    const r2 = receipt(node);
    await reverts(
      simulate(stranger, d.settlement, 'Settlement', 'settleReceipt', [r2, sign(r2, stranger.key)]),
      'BadSignature',
    );
    await reverts(
      simulate(stranger, d.settlement, 'Settlement', 'settleReceipt', [r2, signature]),
      'BadSignature',
    );
    await reverts(
      simulate(stranger, d.settlement, 'Settlement', 'settleReceipt', [r2, sign(r2, node.key).slice(0, 130)]),
      'BadSignature',
    );
    const byStranger = receipt(stranger);
    await reverts(
      simulate(stranger, d.settlement, 'Settlement', 'settleReceipt', [
        byStranger,
        sign(byStranger, stranger.key),
      ]),
      'NotActiveNode',
      [stranger.address],
    );

    const many = Array.from({ length: 20 }, () => receipt(node));
    const batch = await tx(stranger, d.settlement, 'Settlement', 'settleReceipts', [
      many,
      many.map((x) => sign(x, node.key)),
    ]);
    reportGas(
      `settleReceipts (20 receipts, per-receipt baseline): ${batch.gasUsed} gas, ${batch.gasUsed / 20n} per receipt`,
    );
    await reverts(
      simulate(stranger, d.settlement, 'Settlement', 'settleReceipts', [many, []]),
      'LengthMismatch',
      [20n, 0n],
    );
  });

  it('ZkTensors: quantize equals quantizeF32Bits (random, subnormal, tie and extreme bit patterns)', async () => {
    const edges = [
      0, 0x80000000, 1, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x00400000, 0x3f800000, 0xbf800000,
      0x7f7fffff, 0xff7fffff, 0x4b000000, 0x4affffff,
    ];
    const scales = [0, 1, 7, 8, 12, 16, 24, 32, 64, 100, 127, 149, 150, 200, 255];
    const quantizeMany = (bits: number[], scale: number) =>
      read<readonly bigint[]>(harness, 'ZkTensorsHarness', 'quantizeMany', [bits, scale]);
    let checked = 0;
    const overflowing: [number, number][] = [];
    for (const scale of scales) {
      const sample = [...edges];
      const words = new Uint32Array(randomBytes(4 * 400).buffer);
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        if (i % 4 === 0)
          sample.push((w & 0x807fffff) >>> 0); // subnormal
        else if (i % 4 === 1)
          sample.push(bitsOf((w / 2 ** 32 - 0.5) * 20)); // ordinary magnitudes
        else sample.push(w);
      }
      // ties: (2k + 1) / 2^(scale + 1), exactly representable for these scales
      for (let k = 0; k < 6; k++) {
        const tie = (2 * k + 1) * 2 ** -(scale + 1);
        if (Math.fround(tie) === tie) sample.push(bitsOf(tie), bitsOf(-tie));
      }
      const finite = sample.filter((b) => ((b >>> 23) & 0xff) !== 0xff);
      const ok = finite.filter((b) => {
        const q = quantizeF32Bits(b, scale);
        if ((q < 0n ? -q : q) < 2n ** 255n) return true;
        overflowing.push([b, scale]);
        return false;
      });
      assert.deepEqual(
        await quantizeMany(ok, scale),
        ok.map((b) => quantizeF32Bits(b, scale)),
        `scale ${scale}`,
      );
      checked += ok.length;
    }
    // ties round away from zero: 0.5 -> 1, -0.5 -> -1, 2.5 -> 3, -2.5 -> -3 at scale 0
    assert.deepEqual(await quantizeMany([0.5, -0.5, 2.5, -2.5, 1.5].map(bitsOf), 0), [1n, -1n, 3n, -3n, 2n]);
    assert.ok(overflowing.length > 0);
    for (const [b, scale] of overflowing.slice(0, 3))
      await reverts(read(harness, 'ZkTensorsHarness', 'quantize', [b, scale]), 'QuantizeOverflow', [
        b,
        scale,
      ]);
    for (const b of [0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001])
      await reverts(read(harness, 'ZkTensorsHarness', 'quantize', [b, 12]), 'NonFinite', [b]);
    assert.ok(checked > 5000, `${checked} values checked`);
  });

  it('ZkTensors: checkInputs and maxOutputDistance read canonical encodings (bounds-checked)', async () => {
    const scale = 12;
    const inputs: TensorMap = {
      b: f32([1.5, -2.25, 0, 3e-5], [2, 2]),
      a: f32([0.1, -0.1, 1000]),
    };
    const outputs: TensorMap = { y: f32([0.5, -0.25]) };
    const q = (x: number) => quantizeF32Bits(bitsOf(x), scale);
    // public signals: y (2), then a (3), then b (4)
    const signals = [0.5, -0.25, 0.1, -0.1, 1000, 1.5, -2.25, 0, 3e-5].map((x) => fieldOf(q(x)));
    const spec: ZkSpec = {
      verifier: zeroAddress,
      scale,
      inputBits: 24,
      tolerance: 0n,
      nPublic: 9,
      inputOffsets: [2, 5],
      inputSizes: [3, 4],
      outputOffsets: [0],
      outputSizes: [2],
    };
    const enc = hexOf(encodeTensors(inputs));
    const check = (s: ZkSpec, bytes: Hex, sig: readonly bigint[] = signals) =>
      read(harness, 'ZkTensorsHarness', 'checkInputs', [s, bytes, sig]);
    const distance = (s: ZkSpec, bytes: Hex, sig: readonly bigint[] = signals) =>
      read<bigint>(harness, 'ZkTensorsHarness', 'maxOutputDistance', [s, bytes, sig]);
    assert.equal(await check(spec, enc), true);

    const wrong = [...signals];
    wrong[7] = fieldOf(1n);
    await reverts(check(spec, enc, wrong), 'InputSignalMismatch', [1n, 2n, 0n, 1n]);
    await reverts(check({ ...spec, inputBits: 20 }, enc), 'InputOutOfRange', [0n, 2n, q(1000)]);
    await reverts(check({ ...spec, inputOffsets: [2], inputSizes: [3] }, enc), 'TensorCountMismatch', [
      1n,
      2n,
    ]);
    await reverts(check({ ...spec, inputSizes: [4, 3] }, enc), 'TensorSizeMismatch', [0n, 4n, 3n]);
    await reverts(check(spec, enc, signals.slice(0, 8)), 'SignalsTooShort', [9n, 8n]);
    await reverts(check(spec, `${enc}00`), 'TrailingBytes', [BigInt((enc.length - 2) / 2)]);
    await reverts(check(spec, enc.slice(0, -2) as Hex), 'Truncated');
    await reverts(check(spec, '0x'), 'Truncated', [0n]);
    const ints = hexOf(
      encodeTensors({ a: { dtype: 'int32', shape: [3], data: Int32Array.of(1, 2, 3) }, b: inputs['b']! }),
    );
    await reverts(check(spec, ints), 'UnsupportedDtype', [0n, 6]);
    await reverts(
      check(spec, hexOf(encodeTensors({ ...inputs, a: f32([0.1, Number.NaN, 1000]) }))),
      'NonFinite',
      [0x7fc00000],
    );

    // every truncation and many corruptions end in a named error (never an out-of-bounds read)
    const named = new Set([
      'Truncated',
      'TrailingBytes',
      'TensorLengthMismatch',
      'UnsupportedDtype',
      'TensorCountMismatch',
      'TensorSizeMismatch',
      'InputSignalMismatch',
      'InputOutOfRange',
      'NonFinite',
    ]);
    const bytes = encodeTensors(inputs);
    const cases: Uint8Array[] = [];
    for (let n = 0; n < bytes.length; n++) cases.push(bytes.subarray(0, n));
    for (let i = 0; i < 150; i++) {
      const c = Uint8Array.from(bytes);
      c[randomBytes(2).readUInt16LE() % c.length] = randomBytes(1)[0]!;
      cases.push(c);
    }
    const outcomes = await Promise.all(
      cases.map((c) =>
        check(spec, hexOf(c)).then(
          () => 'ok',
          (error: unknown) => {
            try {
              return revertOf(error, errors).errorName;
            } catch {
              return 'undecodable';
            }
          },
        ),
      ),
    );
    const bad = outcomes.filter((o) => o !== 'ok' && !named.has(o));
    assert.deepEqual(bad, [], 'only named errors');

    const out = hexOf(encodeTensors(outputs));
    assert.equal(await distance(spec, out), 0n);
    const off = [...signals];
    off[0] = fieldOf(q(0.5) + 3n);
    off[1] = fieldOf(q(-0.25) - 7n);
    assert.equal(await distance(spec, out, off), 7n);
    off[1] = fieldOf(q(-0.25) + 2n ** 200n);
    assert.equal(await distance(spec, out, off), 2n ** 200n);
    off[1] = FIELD_PRIME;
    await reverts(distance(spec, out, off), 'SignalNotInField', [1n]);
    const nan = hexOf(encodeTensors({ y: f32([0.5, Number.POSITIVE_INFINITY]) }));
    assert.equal(await distance(spec, nan), 2n ** 256n - 1n, 'a non-finite output is infinitely wrong');
    const huge = hexOf(encodeTensors({ y: f32([0.5, 3e38]) }));
    assert.equal(await distance({ ...spec, scale: 255 }, huge), 2n ** 256n - 1n, 'too large to quantize');
    // outputs that are not the spec's tensors are infinitely wrong (the node signed them)
    const infinitely = 2n ** 256n - 1n;
    assert.equal(await distance(spec, enc), infinitely, 'another tensor count');
    assert.equal(await distance({ ...spec, outputSizes: [3] }, out), infinitely, 'another size');
    assert.equal(await distance(spec, `${out}00`), infinitely, 'trailing bytes');
    const intOut = hexOf(encodeTensors({ y: { dtype: 'int32', shape: [2], data: Int32Array.of(1, 2) } }));
    assert.equal(await distance(spec, intOut), infinitely, 'not float32');
    const outBytes = encodeTensors(outputs);
    const truncations = await Promise.all(
      Array.from({ length: outBytes.length }, (_, n) => distance(spec, hexOf(outBytes.subarray(0, n)))),
    );
    assert.deepEqual(new Set(truncations), new Set([infinitely]), 'every truncation');
  });

  it('Coordinator: a signed request is fulfilled by an active node; the consumer gets the output', async () => {
    const cid = randomCid();
    const input = hexOf(encodeTensors({ x: f32([1, 2, 3]) }));
    const output = hexOf(encodeTensors({ y: f32([0.25]) }));
    const fee = parseEther('0.01');
    await reverts(
      simulate(stranger, d.exampleConsumer, 'ExampleConsumer', 'ask', [cid, input, 'fast'], fee),
      'UnsupportedMode',
      ['fast'],
    );
    await reverts(
      simulate(stranger, d.exampleConsumer, 'ExampleConsumer', 'ask', [cid, input, 'zk'], fee),
      'NoCircuit',
    );
    const asked = await tx(
      stranger,
      d.exampleConsumer,
      'ExampleConsumer',
      'ask',
      [cid, input, 'signed'],
      fee,
    );
    const [requested] = parseEventLogs({
      abi: abis.CoordinatorAbi,
      logs: asked.logs,
      eventName: 'InferenceRequested',
    });
    const requestId = requested!.args.requestId;
    assert.deepEqual(requested?.args, {
      requestId,
      requester: d.exampleConsumer,
      modelCid: cid,
      input,
      mode: 'signed',
      callback: d.exampleConsumer,
    });

    const inputHash = hexOf(sha256(encodeTensors({ x: f32([1, 2, 3]) })));
    const outputHash = hexOf(sha256(Buffer.from(output.slice(2), 'hex')));
    const r = receipt(node, { modelCid: cid, inputHash, outputHash });
    const sig = sign(r, node.key);
    const fulfil = (rec: Receipt, s: Hex, out: Hex = output) =>
      simulate(stranger, d.coordinator, 'Coordinator', 'fulfillSigned', [requestId, rec, s, out]);
    const bad = receipt(node, { modelCid: cid, inputHash: randomHex(32), outputHash });
    await reverts(fulfil(bad, sign(bad, node.key)), 'InputHashMismatch');
    await reverts(fulfil(r, sig, hexOf(encodeTensors({ y: f32([0.5]) }))), 'OutputHashMismatch');
    const otherModel = receipt(node, { modelCid: randomCid(), inputHash, outputHash });
    await reverts(fulfil(otherModel, sign(otherModel, node.key)), 'ModelMismatch');
    const zkMode = receipt(node, { modelCid: cid, inputHash, outputHash, mode: 'zk' });
    await reverts(fulfil(zkMode, sign(zkMode, node.key)), 'ModeMismatch');
    await reverts(fulfil(r, sign(r, stranger.key)), 'BadSignature');
    const inactive = receipt(stranger, { modelCid: cid, inputHash, outputHash });
    await reverts(fulfil(inactive, sign(inactive, stranger.key)), 'NotActiveNode', [stranger.address]);
    await reverts(
      simulate(stranger, d.coordinator, 'Coordinator', 'fulfillSigned', [requestId + 100n, r, sig, output]),
      'UnknownRequest',
      [requestId + 100n],
    );

    const before = await balance(node.address);
    const mined = await tx(stranger, d.coordinator, 'Coordinator', 'fulfillSigned', [
      requestId,
      r,
      sig,
      output,
    ]);
    reportGas(
      `fulfillSigned (signature check, fee, consumer callback storing a ${(output.length - 2) / 2}-byte output): ${mined.gasUsed} gas`,
    );
    assert.equal((await balance(node.address)) - before, fee, 'the fee went to the node');
    assert.equal(await read(d.exampleConsumer, 'ExampleConsumer', 'results', [requestId]), output);
    assert.equal(await read(d.exampleConsumer, 'ExampleConsumer', 'resultNode', [requestId]), node.address);
    assert.equal(
      await read(d.exampleConsumer, 'ExampleConsumer', 'resultReceipt', [requestId]),
      hexOf(digestOf(r)),
    );
    const [fulfilled] = parseEventLogs({
      abi: abis.CoordinatorAbi,
      logs: mined.logs,
      eventName: 'InferenceFulfilled',
    });
    assert.deepEqual(fulfilled?.args, { requestId, node: node.address, receiptId: hexOf(digestOf(r)) });
    await reverts(fulfil(r, sig), 'AlreadyFulfilled', [requestId]);
    await reverts(
      simulate(stranger, d.exampleConsumer, 'ExampleConsumer', 'onInferenceResult', [
        requestId,
        output,
        node.address,
        randomHex(32),
      ]),
      'NotCoordinator',
      [stranger.address],
    );

    // a callback that reverts is reported, and the request stays fulfilled
    const direct = await tx(stranger, d.coordinator, 'Coordinator', 'requestInference', [
      cid,
      input,
      'signed',
      d.nodeRegistry, // has code, but no onInferenceResult: the call reverts
    ]);
    const [req2] = parseEventLogs({
      abi: abis.CoordinatorAbi,
      logs: direct.logs,
      eventName: 'InferenceRequested',
    });
    const id2 = req2!.args.requestId;
    const r2 = receipt(node, { modelCid: cid, inputHash, outputHash });
    const mined2 = await tx(stranger, d.coordinator, 'Coordinator', 'fulfillSigned', [
      id2,
      r2,
      sign(r2, node.key),
      output,
    ]);
    const [failed] = parseEventLogs({
      abi: abis.CoordinatorAbi,
      logs: mined2.logs,
      eventName: 'CallbackFailed',
    });
    assert.deepEqual(failed?.args, { requestId: id2, callback: d.nodeRegistry });
    const stored = await read<readonly unknown[]>(d.coordinator, 'Coordinator', 'requests', [id2]);
    assert.equal(stored[2], true, 'fulfilled');
  });

  it('Coordinator: an unanswered request is cancelled by its asker after CANCEL_AFTER and refunded', async () => {
    const cid = randomCid();
    const input = hexOf(encodeTensors({ x: f32([4, 5, 6]) }));
    const fee = parseEther('0.02');
    const asked = await tx(
      stranger,
      d.exampleConsumer,
      'ExampleConsumer',
      'ask',
      [cid, input, 'signed'],
      fee,
    );
    const [requested] = parseEventLogs({
      abi: abis.CoordinatorAbi,
      logs: asked.logs,
      eventName: 'InferenceRequested',
    });
    const id = requested!.args.requestId;
    const cancel = (who: TestAccount) => simulate(who, d.exampleConsumer, 'ExampleConsumer', 'cancel', [id]);
    await reverts(cancel(node), 'NotAsker', [node.address]);
    await reverts(simulate(stranger, d.coordinator, 'Coordinator', 'cancel', [id]), 'NotRequester', [
      stranger.address,
    ]);
    await reverts(cancel(stranger), 'TooEarlyToCancel');
    await chain.testClient.increaseTime({ seconds: 3600 });
    const before = await balance(stranger.address);
    const mined = await tx(stranger, d.exampleConsumer, 'ExampleConsumer', 'cancel', [id]);
    const spent = mined.gasUsed * mined.effectiveGasPrice;
    assert.equal((await balance(stranger.address)) - before, fee - spent, 'the fee came back to the asker');
    const [cancelled] = parseEventLogs({
      abi: abis.CoordinatorAbi,
      logs: mined.logs,
      eventName: 'InferenceCancelled',
    });
    assert.deepEqual(cancelled?.args, { requestId: id, refund: fee });
    // a cancelled request cannot be answered or cancelled again
    const inputHash = hexOf(sha256(encodeTensors({ x: f32([4, 5, 6]) })));
    const output = hexOf(encodeTensors({ y: f32([1]) }));
    const r = receipt(node, {
      modelCid: cid,
      inputHash,
      outputHash: hexOf(sha256(Buffer.from(output.slice(2), 'hex'))),
    });
    await reverts(
      simulate(stranger, d.coordinator, 'Coordinator', 'fulfillSigned', [id, r, sign(r, node.key), output]),
      'RequestCancelled',
      [id],
    );
    await reverts(cancel(stranger), 'RequestCancelled', [id]);
  });

  describe('zk: the ezkl model 1l_mlp with a real Groth16 verifier', {
    skip: ezklModels().includes('1l_mlp') ? false : 'the ezkl corpus is not present',
  }, () => {
    const work = mkdtempSync(join(tmpdir(), 'plumb-contracts-'));
    let artifacts: ZkArtifacts;
    let cid: Hex;
    let spec: ZkSpec;
    let inputs: Hex;
    let honest: Hex;
    let wrong: Hex;
    let proof: { a: [bigint, bigint]; b: [[bigint, bigint], [bigint, bigint]]; c: [bigint, bigint] };
    let signals: bigint[];
    let owner: TestAccount;
    /** The proven outputs as float32 tensors, each tensor's values passed through `change`. */
    let outputsWith: (change: (values: number[]) => number[]) => TensorMap;

    before(async () => {
      const c = loadEzklCase('1l_mlp');
      artifacts = await setupModel(c.bytes, {
        workDir: join(work, 'mlp'),
        ptauDir: join(tmpdir(), 'plumb-zk-ptau-cache'),
      });
      const p = await prove(artifacts, c.inputs);
      const verifierSource = await exportSolidityVerifier(artifacts.zkeyPath);
      const verifierArtifact = await compileSource('Groth16Verifier', verifierSource);
      const hash = await chain.deployer.wallet.deployContract({
        abi: verifierArtifact.abi,
        bytecode: verifierArtifact.bytecode,
      });
      const verifier = (await chain.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
      const byName = <T extends { name: string }>(xs: readonly T[]) =>
        [...xs].sort((x, y) => Buffer.compare(Buffer.from(x.name), Buffer.from(y.name)));
      const { circuit } = artifacts;
      spec = {
        verifier,
        scale: circuit.scale,
        inputBits: circuit.bits,
        tolerance: BigInt(Math.round(0.01 * 2 ** circuit.scale)),
        nPublic: circuit.nPublic,
        inputOffsets: byName(circuit.inputs).map((t) => t.publicOffset),
        inputSizes: byName(circuit.inputs).map((t) => t.size),
        outputOffsets: byName(circuit.outputs).map((t) => t.publicOffset),
        outputSizes: byName(circuit.outputs).map((t) => t.size),
      };
      owner = await chain.account();
      cid = randomCid();
      await tx(owner, d.modelRegistry, 'ModelRegistry', 'registerModel', [cid, randomHex(32)]);
      await tx(owner, d.modelRegistry, 'ModelRegistry', 'setZkSpec', [cid, spec]);
      inputs = hexOf(encodeTensors(c.inputs));
      outputsWith = (change) =>
        Object.fromEntries(
          Object.entries(p.outputs).map(([name, o]) => {
            const values = change(Array.from(o.values));
            return [name, f32(values, values.length === o.values.length ? o.shape : [values.length])];
          }),
        );
      honest = hexOf(encodeTensors(outputsWith((values) => values)));
      wrong = hexOf(encodeTensors(outputsWith((values) => values.map((v, i) => (i === 0 ? v + 1 : v)))));
      const n = (x: string | undefined) => BigInt(x!);
      const { pi_a: a, pi_b: b, pi_c: cc } = p.proof;
      proof = {
        a: [n(a[0]), n(a[1])],
        b: [
          [n(b[0]?.[1]), n(b[0]?.[0])],
          [n(b[1]?.[1]), n(b[1]?.[0])],
        ],
        c: [n(cc[0]), n(cc[1])],
      };
      signals = p.publicSignals.map(BigInt);
    });
    after(async () => {
      await releaseZk();
      rmSync(work, { recursive: true, force: true });
    });

    const hashOf = (hex: Hex) => hexOf(sha256(Buffer.from(hex.slice(2), 'hex')));

    it('verifyGroth16 calls the model verifier with its selector (uint256[nPublic])', async () => {
      const verify = (s: ZkSpec, sig: readonly bigint[], pr = proof) =>
        read<boolean>(harness, 'ZkTensorsHarness', 'verifyGroth16', [s, pr, sig]);
      assert.equal(await verify(spec, signals), true);
      assert.equal(
        await verify(
          spec,
          signals.map((v, i) => (i === 0 ? (v + 1n) % FIELD_PRIME : v)),
        ),
        false,
      );
      assert.equal(await verify(spec, signals.slice(1)), false, 'wrong signal count');
      assert.equal(
        await verify(
          spec,
          signals.map((v, i) => (i === 0 ? v + FIELD_PRIME : v)),
        ),
        false,
        'not reduced',
      );
      assert.equal(await verify({ ...spec, verifier: d.nodeRegistry }, signals), false, 'not a verifier');
      assert.equal(await verify(spec, signals, { ...proof, a: [proof.a[0], proof.a[1] + 1n] }), false);
      assert.equal(await read(harness, 'ZkTensorsHarness', 'checkInputs', [spec, inputs, signals]), true);
      assert.equal(await read(harness, 'ZkTensorsHarness', 'maxOutputDistance', [spec, honest, signals]), 0n);
    });

    it('FraudProofs: a wrong signed output is slashed; a correct one reverts OutputWithinTolerance', async () => {
      const zkNode = await chain.account();
      const challenger = await chain.account();
      await tx(zkNode, d.nodeRegistry, 'NodeRegistry', 'stake', [], parseEther('3'));
      await tx(zkNode, d.nodeRegistry, 'NodeRegistry', 'requestUnbond', [parseEther('1')]);
      const signed = (out: Hex, fields: Partial<Receipt> = {}, who = zkNode) => {
        const r = receipt(who, {
          modelCid: cid,
          inputHash: hashOf(inputs),
          outputHash: hashOf(out),
          ...fields,
        });
        return { r, sig: sign(r, who.key) };
      };
      const challenge = (
        x: { r: Receipt; sig: Hex },
        out: Hex,
        ins: Hex = inputs,
        pr = proof,
        sig: readonly bigint[] = signals,
      ) => simulate(challenger, d.fraudProofs, 'FraudProofs', 'challenge', [x.r, x.sig, ins, out, pr, sig]);

      /** Commit to challenging `x` (as `who`), then let a block pass. */
      const commit = async (x: { r: Receipt }, who = challenger) => {
        const commitment = await read<Hex>(d.fraudProofs, 'FraudProofs', 'commitmentOf', [
          hexOf(digestOf(x.r)),
          who.address,
        ]);
        await tx(who, d.fraudProofs, 'FraudProofs', 'commitChallenge', [commitment]);
        await chain.testClient.mine({ blocks: 1 });
        return commitment;
      };

      const good = signed(honest);
      const uncommitted = await read<Hex>(d.fraudProofs, 'FraudProofs', 'commitmentOf', [
        hexOf(digestOf(good.r)),
        challenger.address,
      ]);
      await reverts(challenge(good, honest), 'NotCommitted', [uncommitted]);
      await commit(good);
      await reverts(challenge(good, honest), 'OutputWithinTolerance', [0n, spec.tolerance]);

      const lie = signed(wrong);
      await commit(lie);
      // front-running: the same proving call from another sender has no commitment of its own
      await reverts(
        simulate(stranger, d.fraudProofs, 'FraudProofs', 'challenge', [
          lie.r,
          lie.sig,
          inputs,
          wrong,
          proof,
          signals,
        ]),
        'NotCommitted',
      );
      await reverts(
        challenge(lie, wrong, inputs, { ...proof, c: [proof.c[0], proof.c[1] + 1n] }),
        'InvalidProof',
      );
      await reverts(challenge(lie, wrong, hexOf(encodeTensors({ x: f32([1]) }))), 'InputsMismatch');
      await reverts(challenge(lie, honest), 'OutputsMismatch');
      await reverts(challenge({ r: lie.r, sig: sign(lie.r, challenger.key) }, wrong), 'BadSignature');
      const unstaked = signed(wrong, {}, challenger);
      await commit(unstaked);
      await reverts(challenge(unstaked, wrong), 'NotStaked', [challenger.address]);
      const noCircuit = signed(wrong, { modelCid: randomCid() });
      await commit(noCircuit);
      await reverts(challenge(noCircuit, wrong), 'NoCircuit');
      // a proof of other inputs: the signals' inputs differ from the signed input bytes
      const shifted = [...signals];
      const inputAt = spec.inputOffsets[0]!;
      shifted[inputAt] = (shifted[inputAt]! + 1n) % FIELD_PRIME;
      await reverts(challenge(lie, wrong, inputs, proof, shifted), 'InvalidProof');

      const before = await balance(challenger.address);
      const mined = await tx(
        challenger,
        d.fraudProofs,
        'FraudProofs',
        'challenge',
        [lie.r, lie.sig, inputs, wrong, proof, signals],
        undefined,
        3_000_000n,
      );
      reportGas(
        `challenge (1l_mlp, ${signals.length} public signals: Groth16 verification, tensor checks, slash): ${mined.gasUsed} gas`,
      );
      const cost = mined.gasUsed * mined.effectiveGasPrice;
      assert.equal(
        (await balance(challenger.address)) + cost - before,
        parseEther('1.5'),
        'half of 2 staked + 1 unbonding',
      );
      assert.deepEqual(await stakeOf(d.nodeRegistry, zkNode.address), [0n, 0n, 0n]);
      const digest = hexOf(digestOf(lie.r));
      const [event] = parseEventLogs({ abi: abis.FraudProofsAbi, logs: mined.logs, eventName: 'Challenged' });
      assert.deepEqual(event?.args, {
        receiptId: digest,
        node: zkNode.address,
        challenger: challenger.address,
        distance: BigInt(2 ** spec.scale),
      });
      assert.equal(await read(d.fraudProofs, 'FraudProofs', 'challenged', [digest]), true);
      await reverts(challenge(lie, wrong), 'AlreadyChallenged', [digest]);
      const again = signed(wrong);
      await commit(again);
      await reverts(challenge(again, wrong), 'NotStaked', [zkNode.address]);

      // an output of another shape is no escape: it is infinitely far from the proven one
      const shapeNode = await chain.account();
      await tx(shapeNode, d.nodeRegistry, 'NodeRegistry', 'stake', [], parseEther('1'));
      const misshaped = hexOf(encodeTensors(outputsWith((values) => values.slice(1))));
      const lie2 = signed(misshaped, {}, shapeNode);
      await commit(lie2);
      const mined2 = await tx(
        challenger,
        d.fraudProofs,
        'FraudProofs',
        'challenge',
        [lie2.r, lie2.sig, inputs, misshaped, proof, signals],
        undefined,
        3_000_000n,
      );
      const [event2] = parseEventLogs({
        abi: abis.FraudProofsAbi,
        logs: mined2.logs,
        eventName: 'Challenged',
      });
      assert.equal(event2?.args.distance, 2n ** 256n - 1n);
      assert.deepEqual(await stakeOf(d.nodeRegistry, shapeNode.address), [0n, 0n, 0n]);
    });

    it('Coordinator: a zk request is fulfilled by anyone with a proof whose outputs the output bytes equal', async () => {
      const prover = await chain.account();
      const fee = parseEther('0.02');
      const asked = await tx(stranger, d.exampleConsumer, 'ExampleConsumer', 'ask', [cid, inputs, 'zk'], fee);
      const [requested] = parseEventLogs({
        abi: abis.CoordinatorAbi,
        logs: asked.logs,
        eventName: 'InferenceRequested',
      });
      const requestId = requested!.args.requestId;
      const fulfil = (out: Hex, ins: Hex = inputs, pr = proof) =>
        simulate(prover, d.coordinator, 'Coordinator', 'fulfillZk', [requestId, ins, out, pr, signals]);
      await reverts(fulfil(wrong), 'OutputMismatch', [BigInt(2 ** spec.scale)]);
      await reverts(fulfil(honest, hexOf(encodeTensors({ x: f32([1]) }))), 'InputHashMismatch');
      await reverts(fulfil(honest, inputs, { ...proof, a: [proof.a[1], proof.a[0]] }), 'InvalidProof');
      const r = receipt(node, { modelCid: cid, inputHash: hashOf(inputs), outputHash: hashOf(honest) });
      await reverts(
        simulate(prover, d.coordinator, 'Coordinator', 'fulfillSigned', [
          requestId,
          r,
          sign(r, node.key),
          honest,
        ]),
        'WrongMode',
        [requestId],
      );

      const before = await balance(prover.address);
      const mined = await tx(
        prover,
        d.coordinator,
        'Coordinator',
        'fulfillZk',
        [requestId, inputs, honest, proof, signals],
        undefined,
        3_000_000n,
      );
      reportGas(`fulfillZk (1l_mlp): ${mined.gasUsed} gas`);
      assert.equal(
        (await balance(prover.address)) + mined.gasUsed * mined.effectiveGasPrice - before,
        fee,
        'the fee went to the prover',
      );
      assert.equal(await read(d.exampleConsumer, 'ExampleConsumer', 'results', [requestId]), honest);
      assert.equal(
        await read(d.exampleConsumer, 'ExampleConsumer', 'resultNode', [requestId]),
        prover.address,
      );
    });
  });
});
