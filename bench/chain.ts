/**
 * Plumb chain bench: Merkle-batch settlement against the per-receipt ecrecover baseline it
 * replaces, on a fresh devnet (one anvil, stopped at the end), in one run.
 *
 *   npm run bench:chain [-- --quick] [-- --no-zk] [-- --chunk 100] [-- --ptau-cache DIR]
 *
 * 1. gas        per settled receipt, for batches of 1, 100, 1,000 and 10,000 real receipts
 *               (draftReceipt + signDigest under the EIP-712 domain {Plumb, 1, chainId,
 *               Settlement}, by a node staked in NodeRegistry): Merkle = the gasUsed of one
 *               `submitBatch(root, count)` / count; baseline = `settleReceipts` of the same
 *               receipts (in transactions of --chunk receipts: 1,000 receipts exceed a block),
 *               summed / count; plus one `settleReceipt` alone. Calldata bytes per receipt too.
 * 2. throughput receipts/s for the largest batch: end to end (sign, tree, submit, mined) and
 *               the Merkle part alone (tree, submit, mined), vs `settleReceipts` chunks.
 * 3. Merkle     off chain: tree build for 10,000 ids (median of 3), proof per receipt; on chain:
 *               `isSettled` gas by eth_estimateGas of the view call, per batch size.
 * 4. zk         Groth16 verifyProof gas for ezkl 1l_mlp (real proof, exported verifier) and a
 *               full `FraudProofs.challenge` that slashes a node for a wrong signed output.
 *
 * Every transaction goes through src/chain/send.ts (simulate, send, wait until mined), as the
 * node sends them; anvil automines. `--quick`: batches up to 1,000 and no zk section.
 * Prints tables and a Markdown table for the README; writes bench/chain-results.json.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { encodeFunctionData, type Hex, parseEther, parseEventLogs } from 'viem';
import { FraudProofsAbi, ModelRegistryAbi, NodeRegistryAbi, SettlementAbi } from '../src/chain/abi.ts';
import { compileSource } from '../src/chain/compile.ts';
import { type ChainConnection, connectChain } from '../src/chain/connect.ts';
import { type Deployment, deployContracts } from '../src/chain/deploy.ts';
import { anvilBinary, type Devnet, startDevnet } from '../src/chain/devnet.ts';
import { type ReceiptTree, receiptProof, receiptTree } from '../src/chain/merkle.ts';
import { type OnchainReceipt, receiptStruct } from '../src/chain/receipt-struct.ts';
import { sendContract } from '../src/chain/send.ts';
import { groth16Calldata, type ZkSpec } from '../src/chain/zk-spec.ts';
import { cidOf, cidToBytes } from '../src/core/cid.ts';
import { encodeTensors, hashTensors } from '../src/core/encoding.ts';
import { fromHex, toHex } from '../src/core/hash.ts';
import { draftReceipt, type ReceiptDomain, sealReceipt } from '../src/core/receipt.ts';
import { privateKeyToAddress, signDigest } from '../src/core/secp256k1.ts';
import type { TensorMap } from '../src/core/tensor.ts';
import { prove } from '../src/proof/zk/prove.ts';
import { releaseZk, setupModel } from '../src/proof/zk/setup.ts';
import { exportSolidityVerifier } from '../src/proof/zk/solidity.ts';
import { ezklModels, loadEzklCase } from '../test/helpers/ezkl.ts';
import { benchDir, fmt, formatJson, numberFlag, parseFlags, round, table } from './common.ts';

/** anvil's first default account (public knowledge: a devnet key only); deploys and challenges. */
const devKey = fromHex('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');

/** Settlement.Receipt as the contract takes it. */
type Signed = { id: Hex; r: OnchainReceipt; sig: Hex };

type Signer = { key: Uint8Array; address: Hex; domain: ReceiptDomain; modelCid: string; cidHex: Hex };

type GasRow = {
  batch: number;
  merkleGas: number;
  merkleGasPerReceipt: number;
  merkleCalldataBytesPerReceipt: number;
  ecrecoverGas: number;
  ecrecoverGasPerReceipt: number;
  ecrecoverCalldataBytesPerReceipt: number;
  ecrecoverTxs: number;
  ratio: number;
  /** Wall-clock times of this batch, ms. */
  signMs: number;
  treeMs: number;
  submitMs: number;
  baselineMs: number;
  /** Proof length (hashes) and isSettled gas by eth_estimateGas, for one receipt of this batch. */
  proofLength: number;
  isSettledEstimateGas: number;
};

const ms = (t0: number) => performance.now() - t0;
const bytesOf = (data: Hex) => (data.length - 2) / 2;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (x: number) => `${x < 10 ? x.toFixed(2) : fmt(x, 1)}x`;
const load = () => loadavg().map((x) => round(x, 2));

/** `n` receipts for distinct small inferences, drafted and signed as the node does it. */
function signReceipts(n: number, s: Signer): Signed[] {
  const out = new Array<Signed>(n);
  const timestamp = Date.now();
  for (let i = 0; i < n; i++) {
    const inputs: TensorMap = {
      input: { dtype: 'float32', shape: [1, 3], data: Float32Array.of(i, i / 2, -i) },
    };
    const outputs: TensorMap = {
      output: { dtype: 'float32', shape: [1, 2], data: Float32Array.of(i / 4, 1) },
    };
    const draft = draftReceipt({
      domain: s.domain,
      modelCid: s.modelCid,
      inputs,
      outputs,
      mode: 'signed',
      node: s.address,
      nonce: toHex(randomBytes(32)),
      timestamp,
    });
    const receipt = sealReceipt(draft, signDigest(draft.digest, s.key));
    out[i] = {
      id: receipt.id as Hex,
      sig: receipt.evidence.signature as Hex,
      r: receiptStruct(receipt),
    };
  }
  return out;
}

/** settleReceipts over `batch` in transactions of `chunk` receipts: gas, calldata and tx count. */
async function settleOneByOne(
  conn: ChainConnection,
  settlement: Hex,
  batch: readonly Signed[],
  chunk: number,
): Promise<{ gas: number; calldata: number; txs: number }> {
  let gas = 0;
  let calldata = 0;
  let txs = 0;
  for (let i = 0; i < batch.length; i += chunk) {
    const part = batch.slice(i, i + chunk);
    const args = [part.map((x) => x.r), part.map((x) => x.sig)] as const;
    const mined = await sendContract(conn, {
      address: settlement,
      abi: SettlementAbi,
      functionName: 'settleReceipts',
      args,
    });
    gas += Number(mined.gasUsed);
    calldata += bytesOf(encodeFunctionData({ abi: SettlementAbi, functionName: 'settleReceipts', args }));
    txs++;
  }
  return { gas, calldata, txs };
}

async function submitRoot(
  conn: ChainConnection,
  settlement: Hex,
  root: Hex,
  count: number,
): Promise<{ gas: number; calldata: number; batchId: bigint }> {
  const mined = await sendContract(conn, {
    address: settlement,
    abi: SettlementAbi,
    functionName: 'submitBatch',
    args: [root, count],
  });
  const [event] = parseEventLogs({ abi: SettlementAbi, logs: mined.logs, eventName: 'BatchSettled' });
  if (!event) throw new Error('submitBatch: no BatchSettled event');
  const calldata = bytesOf(
    encodeFunctionData({ abi: SettlementAbi, functionName: 'submitBatch', args: [root, count] }),
  );
  return { gas: Number(mined.gasUsed), calldata, batchId: event.args.batchId };
}

async function isSettledGas(
  conn: ChainConnection,
  settlement: Hex,
  batchId: bigint,
  id: Hex,
  proof: Hex[],
): Promise<number> {
  const call = {
    address: settlement,
    abi: SettlementAbi,
    functionName: 'isSettled',
    args: [batchId, id, proof],
  } as const;
  if (!(await conn.publicClient.readContract(call))) throw new Error(`isSettled(${batchId}, ${id}) is false`);
  // A view function: estimateContractGas is typed for state-changing ones, so the raw call.
  const data = encodeFunctionData(call);
  return Number(await conn.publicClient.estimateGas({ account: conn.account, to: settlement, data }));
}

async function benchBatch(
  conn: ChainConnection,
  d: Deployment,
  s: Signer,
  n: number,
  chunk: number,
): Promise<GasRow> {
  let t = performance.now();
  const batch = signReceipts(n, s);
  const signMs = ms(t);
  t = performance.now();
  const tree = receiptTree(batch.map((x) => x.id));
  const treeMs = ms(t);
  t = performance.now();
  const merkle = await submitRoot(conn, d.settlement, tree.root as Hex, n);
  const submitMs = ms(t);
  t = performance.now();
  const base = await settleOneByOne(conn, d.settlement, batch, chunk);
  const baselineMs = ms(t);
  const probe = batch[Math.floor(n / 2)]!;
  const proof = receiptProof(tree, probe.id);
  const isSettledEstimateGas = await isSettledGas(conn, d.settlement, merkle.batchId, probe.id, proof);
  const settledOne = await conn.publicClient.readContract({
    address: d.settlement,
    abi: SettlementAbi,
    functionName: 'receiptSettled',
    args: [probe.id],
  });
  if (!settledOne) throw new Error('settleReceipts did not record a receipt');
  return {
    batch: n,
    merkleGas: merkle.gas,
    merkleGasPerReceipt: merkle.gas / n,
    merkleCalldataBytesPerReceipt: merkle.calldata / n,
    ecrecoverGas: base.gas,
    ecrecoverGasPerReceipt: base.gas / n,
    ecrecoverCalldataBytesPerReceipt: base.calldata / n,
    ecrecoverTxs: base.txs,
    ratio: base.gas / n / (merkle.gas / n),
    signMs,
    treeMs,
    submitMs,
    baselineMs,
    proofLength: proof.length,
    isSettledEstimateGas,
  };
}

/** Off-chain Merkle costs for `n` ids: tree build (median of 3) and a proof per receipt. */
function merkleOffchain(n: number): { n: number; treeMs: number; treeRunsMs: number[]; proofMs: number } {
  const ids = Array.from({ length: n }, () => toHex(randomBytes(32)));
  const runs: number[] = [];
  let tree: ReceiptTree | undefined;
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    tree = receiptTree(ids);
    runs.push(ms(t));
  }
  // Every receipt's proof by id, as the node answers GET /v1/settlement/:id (the first lookup
  // indexes the tree, included).
  const t = performance.now();
  for (const id of ids) receiptProof(tree!, id);
  return { n, treeMs: median(runs), treeRunsMs: runs.map((x) => round(x, 1)), proofMs: ms(t) / n };
}

type ZkResult =
  | { skipped: string }
  | {
      model: string;
      publicSignals: number;
      verifierDeployGas: number;
      verifyProofTxGas: number;
      verifyProofGasLessBase: number;
      challengeGas: number | undefined;
      /** The commitment a challenger sends a block before the challenge. */
      commitGas?: number;
      challengeSkipped?: string;
      setupS: number;
      proveMs: number;
    };

/** Groth16 verification gas for 1l_mlp and a full FraudProofs.challenge of a lying receipt. */
async function benchZk(
  deployer: ChainConnection,
  d: Deployment,
  fund: (address: Hex) => Promise<void>,
  rpcUrl: string,
  dataDir: string,
  ptauDir: string,
): Promise<ZkResult> {
  if (!ezklModels().includes('1l_mlp')) return { skipped: 'the ezkl corpus (1l_mlp) is not present' };
  const work = mkdtempSync(join(tmpdir(), 'plumb-bench-chain-zk-'));
  try {
    const c = loadEzklCase('1l_mlp');
    let t = performance.now();
    const artifacts = await setupModel(c.bytes, { workDir: join(work, 'mlp'), ptauDir });
    const setupS = ms(t) / 1000;
    t = performance.now();
    const p = await prove(artifacts, c.inputs);
    const proveMs = ms(t);
    const verifier = await compileSource('Groth16Verifier', await exportSolidityVerifier(artifacts.zkeyPath));
    const { walletClient, publicClient } = deployer;
    const deployHash = await walletClient.deployContract({ abi: verifier.abi, bytecode: verifier.bytecode });
    const deployed = await publicClient.waitForTransactionReceipt({ hash: deployHash });
    if (deployed.status !== 'success' || !deployed.contractAddress)
      throw new Error('verifier deployment failed');
    const address = deployed.contractAddress;
    const proof = groth16Calldata(p.proof);
    const signals = p.publicSignals.map(BigInt);
    const verifyArgs = [proof.a, proof.b, proof.c, signals];
    const ok = await publicClient.readContract({
      address,
      abi: verifier.abi,
      functionName: 'verifyProof',
      args: verifyArgs,
    });
    if (ok !== true) throw new Error('verifyProof returned false for a real proof');
    // A transaction with ample gas, not estimateGas: the snarkjs template returns false (does
    // not revert) when the pairing runs out of gas, so an estimate would find too little.
    const verifyHash = await walletClient.sendTransaction({
      to: address,
      data: encodeFunctionData({ abi: verifier.abi, functionName: 'verifyProof', args: verifyArgs }),
      gas: 2_000_000n,
    });
    const verifyMined = await publicClient.waitForTransactionReceipt({ hash: verifyHash });
    if (verifyMined.status !== 'success') throw new Error('the verifyProof transaction reverted');
    const verifyProofTxGas = Number(verifyMined.gasUsed);

    let challengeGas: number | undefined;
    let commitGas: number | undefined;
    let challengeSkipped: string | undefined;
    try {
      ({ challengeGas, commitGas } = await challengeOnce(deployer, d, fund, rpcUrl, dataDir, {
        address,
        circuit: artifacts.circuit,
        modelBytes: c.bytes,
        inputs: c.inputs,
        outputs: p.outputs,
        proof,
        signals,
      }));
    } catch (error) {
      challengeSkipped = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    }
    return {
      model: '1l_mlp',
      publicSignals: signals.length,
      verifierDeployGas: Number(deployed.gasUsed),
      verifyProofTxGas,
      verifyProofGasLessBase: verifyProofTxGas - 21_000,
      challengeGas,
      ...(commitGas !== undefined ? { commitGas } : {}),
      ...(challengeSkipped ? { challengeSkipped } : {}),
      setupS,
      proveMs,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

type TensorLayout = { name: string; publicOffset: number; size: number };

/** A node stakes, signs a wrong output of 1l_mlp; the deployer challenges it with the proof. */
async function challengeOnce(
  deployer: ChainConnection,
  d: Deployment,
  fund: (address: Hex) => Promise<void>,
  rpcUrl: string,
  dataDir: string,
  m: {
    address: Hex;
    circuit: {
      scale: number;
      bits: number;
      nPublic: number;
      inputs: TensorLayout[];
      outputs: TensorLayout[];
    };
    modelBytes: Uint8Array;
    inputs: TensorMap;
    outputs: Record<string, { shape: number[]; values: Float32Array }>;
    proof: ReturnType<typeof groth16Calldata>;
    signals: bigint[];
  },
): Promise<{ challengeGas: number; commitGas: number }> {
  const byName = (xs: readonly TensorLayout[]) =>
    [...xs].sort((x, y) => Buffer.compare(Buffer.from(x.name, 'utf8'), Buffer.from(y.name, 'utf8')));
  const spec: ZkSpec = {
    verifier: m.address,
    scale: m.circuit.scale,
    inputBits: m.circuit.bits,
    tolerance: BigInt(Math.round(0.01 * 2 ** m.circuit.scale)),
    nPublic: m.circuit.nPublic,
    inputOffsets: byName(m.circuit.inputs).map((t) => t.publicOffset),
    inputSizes: byName(m.circuit.inputs).map((t) => t.size),
    outputOffsets: byName(m.circuit.outputs).map((t) => t.publicOffset),
    outputSizes: byName(m.circuit.outputs).map((t) => t.size),
  };
  const modelCid = cidOf(m.modelBytes);
  const cidHex = toHex(cidToBytes(modelCid));
  await sendContract(deployer, {
    address: d.modelRegistry,
    abi: ModelRegistryAbi,
    functionName: 'registerModel',
    args: [cidHex, toHex(randomBytes(32))],
  });
  await sendContract(deployer, {
    address: d.modelRegistry,
    abi: ModelRegistryAbi,
    functionName: 'setZkSpec',
    args: [cidHex, spec],
  });
  // The liar: its own key, staked.
  const key = new Uint8Array(randomBytes(32));
  const liar = await connectChain({ privateKey: key, rpcUrl, dataDir });
  await fund(liar.account.address);
  await sendContract(liar, {
    address: d.nodeRegistry,
    abi: NodeRegistryAbi,
    functionName: 'stake',
    value: parseEther('1'),
  });
  const wrong: TensorMap = Object.fromEntries(
    Object.entries(m.outputs).map(([name, o]) => [
      name,
      {
        dtype: 'float32' as const,
        shape: o.shape,
        data: Float32Array.from(o.values, (v, i) => (i === 0 ? v + 1 : v)),
      },
    ]),
  );
  const domain: ReceiptDomain = {
    name: 'Plumb',
    version: '1',
    chainId: deployer.chainId,
    verifyingContract: d.settlement,
  };
  const address = privateKeyToAddress(key);
  const draft = draftReceipt({
    domain,
    modelCid,
    inputs: m.inputs,
    outputs: wrong,
    mode: 'signed',
    node: address,
    nonce: toHex(randomBytes(32)),
    timestamp: Date.now(),
  });
  const sig = signDigest(draft.digest, key);
  const r: OnchainReceipt = receiptStruct(draft.receipt);
  if (hashTensors(wrong) !== r.outputHash) throw new Error('output hash mismatch');
  const args = [
    r,
    sig,
    toHex(encodeTensors(m.inputs)),
    toHex(encodeTensors(wrong)),
    m.proof,
    m.signals,
  ] as const;
  // The challenger commits first; the proof may follow in a later block (not part of the figure).
  const commitment = await deployer.publicClient.readContract({
    address: d.fraudProofs,
    abi: FraudProofsAbi,
    functionName: 'commitmentOf',
    args: [toHex(draft.digest) as Hex, deployer.account.address],
  });
  const committed = await sendContract(deployer, {
    address: d.fraudProofs,
    abi: FraudProofsAbi,
    functionName: 'commitChallenge',
    args: [commitment],
  });
  await deployer.publicClient.request({ method: 'evm_mine' } as never);
  // Simulated first (a revert names its error), then sent with ample gas (see verifyProof).
  await deployer.publicClient.simulateContract({
    address: d.fraudProofs,
    abi: FraudProofsAbi,
    functionName: 'challenge',
    args,
    account: deployer.account,
  });
  const hash = await deployer.walletClient.writeContract({
    address: d.fraudProofs,
    abi: FraudProofsAbi,
    functionName: 'challenge',
    args,
    gas: 3_000_000n,
  });
  const mined = await deployer.publicClient.waitForTransactionReceipt({ hash });
  if (mined.status !== 'success') throw new Error('the challenge transaction reverted');
  const [event] = parseEventLogs({ abi: FraudProofsAbi, logs: mined.logs, eventName: 'Challenged' });
  if (!event || event.args.receiptId !== toHex(draft.digest)) throw new Error('no Challenged event');
  const active = await deployer.publicClient.readContract({
    address: d.nodeRegistry,
    abi: NodeRegistryAbi,
    functionName: 'isActive',
    args: [address],
  });
  if (active) throw new Error('the lying node was not slashed');
  await liar.close();
  return { challengeGas: Number(mined.gasUsed), commitGas: Number(committed.gasUsed) };
}

function machine(devnet: Devnet): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  let anvil = '?';
  try {
    anvil = execFileSync(anvilBinary()!, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {}
  const solc = JSON.parse(readFileSync(require.resolve('solc/package.json'), 'utf8')) as { version: string };
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch} ${release()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    anvil,
    solc: solc.version,
    chainId: devnet.chainId,
  };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  for (const key of flags.keys())
    if (!['quick', 'no-zk', 'chunk', 'ptau-cache'].includes(key))
      throw new Error(`unknown option --${key} (known: --quick, --no-zk, --chunk N, --ptau-cache DIR)`);
  const quick = flags.has('quick');
  const withZk = !quick && !flags.has('no-zk');
  const chunk = numberFlag(flags, 'chunk', 100);
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error('--chunk: expected a positive integer');
  const ptauDir = flags.get('ptau-cache') ?? join(tmpdir(), 'plumb-zk-ptau-cache');
  const sizes = quick ? [1, 100, 1_000] : [1, 100, 1_000, 10_000];
  const started = performance.now();
  const loadStart = load();
  const dataDir = mkdtempSync(join(tmpdir(), 'plumb-bench-chain-'));
  const devnet = await startDevnet();
  const conns: ChainConnection[] = [];
  try {
    const info = machine(devnet);
    const deployer = await connectChain({ privateKey: devKey, rpcUrl: devnet.rpcUrl, dataDir });
    conns.push(deployer);
    const fund = async (address: Hex) => {
      await deployer.publicClient.request({
        method: 'anvil_setBalance',
        params: [address, `0x${parseEther('1000000').toString(16)}`],
      } as never);
    };
    const block = await deployer.publicClient.getBlock();
    let hardfork: string | undefined;
    try {
      const nodeInfo = (await deployer.publicClient.request({ method: 'anvil_nodeInfo' } as never)) as {
        hardFork?: string;
      };
      hardfork = nodeInfo.hardFork;
    } catch {}
    console.log(
      `Plumb bench:chain | ${info.anvil} (${hardfork ?? '?'}, block gas limit ${int(Number(block.gasLimit))}) | ` +
        `node ${process.version}, ${cpus().length} CPUs (${info.cpuModel}), load ${loadStart.join(' ')} | batches ${sizes.map(int).join(', ')}; ` +
        `baseline settleReceipts in txs of ${chunk}`,
    );
    const d = await deployContracts(deployer);
    const nodeKey = new Uint8Array(randomBytes(32));
    const node = await connectChain({ privateKey: nodeKey, rpcUrl: devnet.rpcUrl, dataDir });
    conns.push(node);
    await fund(node.account.address);
    const minStake = await node.publicClient.readContract({
      address: d.nodeRegistry,
      abi: NodeRegistryAbi,
      functionName: 'minStake',
    });
    await sendContract(node, {
      address: d.nodeRegistry,
      abi: NodeRegistryAbi,
      functionName: 'stake',
      value: minStake,
    });
    const domain: ReceiptDomain = {
      name: 'Plumb',
      version: '1',
      chainId: node.chainId,
      verifyingContract: d.settlement,
    };
    const modelCid = cidOf(new TextEncoder().encode('plumb bench:chain model'));
    const signer: Signer = {
      key: nodeKey,
      address: privateKeyToAddress(nodeKey),
      domain,
      modelCid,
      cidHex: toHex(cidToBytes(modelCid)),
    };

    // Sanity: the contract hashes a receipt to its id; then one warm-up batch and one warm-up
    // receipt, so every measured call sees a live contract (batchCount already non-zero).
    const [warm] = signReceipts(1, signer);
    const onchainId = await node.publicClient.readContract({
      address: d.settlement,
      abi: SettlementAbi,
      functionName: 'hashReceipt',
      args: [warm!.r],
    });
    if (onchainId !== warm!.id)
      throw new Error(`Settlement.hashReceipt ${onchainId} != receipt id ${warm!.id}`);
    const warmBatch = await submitRoot(node, d.settlement, receiptTree([warm!.id]).root as Hex, 1);
    const warmSingle = await sendContract(node, {
      address: d.settlement,
      abi: SettlementAbi,
      functionName: 'settleReceipt',
      args: [warm!.r, warm!.sig],
    });
    const [single] = signReceipts(1, signer);
    const singleArgs = [single!.r, single!.sig] as const;
    const singleMined = await sendContract(node, {
      address: d.settlement,
      abi: SettlementAbi,
      functionName: 'settleReceipt',
      args: singleArgs,
    });
    const settleReceiptGas = Number(singleMined.gasUsed);
    const settleReceiptCalldata = bytesOf(
      encodeFunctionData({ abi: SettlementAbi, functionName: 'settleReceipt', args: singleArgs }),
    );

    const rows: GasRow[] = [];
    for (const n of sizes) {
      const row = await benchBatch(node, d, signer, n, chunk);
      rows.push(row);
      console.log(
        `  batch ${int(n)}: Merkle ${int(row.merkleGas)} gas (${fmt(row.merkleGasPerReceipt, 1)}/receipt), ` +
          `ecrecover ${int(row.ecrecoverGas)} gas in ${row.ecrecoverTxs} tx (${fmt(row.ecrecoverGasPerReceipt, 0)}/receipt) | ` +
          `sign ${fmt(row.signMs, 0)} ms, tree ${fmt(row.treeMs, 1)} ms, submit ${fmt(row.submitMs, 0)} ms, baseline ${fmt(row.baselineMs, 0)} ms`,
      );
    }

    const big = rows.at(-1)!;
    const N = big.batch;
    const e2eMs = big.signMs + big.treeMs + big.submitMs;
    const merkleOnlyMs = big.treeMs + big.submitMs;
    const baseE2eMs = big.signMs + big.baselineMs;
    const throughput = {
      receipts: N,
      chunk,
      signMs: round(big.signMs, 1),
      treeMs: round(big.treeMs, 1),
      submitMs: round(big.submitMs, 1),
      baselineSettleMs: round(big.baselineMs, 1),
      merkleEndToEndPerSec: round((N / e2eMs) * 1000, 0),
      merkleOnlyPerSec: round((N / merkleOnlyMs) * 1000, 0),
      baselineEndToEndPerSec: round((N / baseE2eMs) * 1000, 0),
      baselineOnlyPerSec: round((N / big.baselineMs) * 1000, 0),
      endToEndRatio: round(baseE2eMs / e2eMs, 1),
      settlementRatio: round(big.baselineMs / merkleOnlyMs, 1),
    };
    const off = merkleOffchain(10_000);

    let zk: ZkResult = { skipped: quick ? '--quick' : '--no-zk' };
    if (withZk) {
      try {
        zk = await benchZk(deployer, d, fund, devnet.rpcUrl, dataDir, ptauDir);
      } catch (error) {
        zk = { skipped: (error instanceof Error ? error.message : String(error)).split('\n')[0]! };
      } finally {
        await releaseZk();
      }
    }

    // ---------------------------------------------------------------- print
    const gasHeaders = [
      'batch',
      'Merkle gas/receipt',
      'ecrecover gas/receipt',
      'ratio',
      'Merkle calldata B/receipt',
      'ecrecover calldata B/receipt',
    ];
    const gasCells = rows.map((r) => [
      int(r.batch),
      fmt(r.merkleGasPerReceipt, 1),
      fmt(r.ecrecoverGasPerReceipt, 0),
      ratio(r.ratio),
      fmt(r.merkleCalldataBytesPerReceipt, 2),
      fmt(r.ecrecoverCalldataBytesPerReceipt, 0),
    ]);
    gasCells.splice(1, 0, [
      '1 (settleReceipt)',
      fmt(rows[0]!.merkleGasPerReceipt, 1),
      fmt(settleReceiptGas, 0),
      ratio(settleReceiptGas / rows[0]!.merkleGasPerReceipt),
      fmt(rows[0]!.merkleCalldataBytesPerReceipt, 2),
      fmt(settleReceiptCalldata, 0),
    ]);
    console.log(`\nGas per settled receipt (gasUsed of the mined transactions, 21,000 base included)\n`);
    console.log(table(gasHeaders, gasCells));
    const atScale = rows.filter((r) => r.batch >= 1_000);
    const met = atScale.length > 0 && atScale.every((r) => r.merkleGasPerReceipt < 1_000);
    console.log(
      `\ntarget < 1,000 gas/receipt at >= 1,000: ${met ? 'met' : 'not met'} (${atScale
        .map((r) => `${fmt(r.merkleGasPerReceipt, 1)} at ${int(r.batch)}`)
        .join(', ')})`,
    );
    console.log(
      `warm-up (not in the table): first submitBatch on a fresh contract ${int(warmBatch.gas)} gas, first settleReceipt ${int(Number(warmSingle.gasUsed))} gas`,
    );

    console.log(`\nSettlement throughput, ${int(N)} receipts on the devnet (anvil automine)\n`);
    console.log(
      table(
        ['path', 'steps', 'ms', 'receipts/s'],
        [
          [
            'Merkle end to end',
            'sign + tree + submitBatch mined',
            fmt(e2eMs, 0),
            int(throughput.merkleEndToEndPerSec),
          ],
          [
            'Merkle settlement',
            'tree + submitBatch mined',
            fmt(merkleOnlyMs, 0),
            int(throughput.merkleOnlyPerSec),
          ],
          [
            'ecrecover end to end',
            `sign + ${big.ecrecoverTxs} settleReceipts txs mined`,
            fmt(baseE2eMs, 0),
            int(throughput.baselineEndToEndPerSec),
          ],
          [
            'ecrecover settlement',
            `${big.ecrecoverTxs} settleReceipts txs mined`,
            fmt(big.baselineMs, 0),
            int(throughput.baselineOnlyPerSec),
          ],
        ],
      ),
    );
    console.log(
      `\nMerkle / ecrecover: ${fmt(throughput.endToEndRatio, 1)}x end to end, ${fmt(throughput.settlementRatio, 1)}x settlement alone ` +
        `(signing ${fmt(big.signMs, 0)} ms = ${int((N / big.signMs) * 1000)} receipts/s, shared by both)`,
    );

    console.log(`\nMerkle proofs\n`);
    console.log(
      `off chain, ${int(off.n)} ids: tree build ${fmt(off.treeMs, 1)} ms (median of ${off.treeRunsMs.join(', ')}), ` +
        `proof ${fmt(off.proofMs, 4)} ms per receipt (receiptProof by id, all ${int(off.n)})`,
    );
    console.log(
      table(
        ['batch', 'proof hashes', 'isSettled gas (eth_estimateGas)', 'less 21,000 base'],
        rows.map((r) => [
          int(r.batch),
          String(r.proofLength),
          int(r.isSettledEstimateGas),
          int(r.isSettledEstimateGas - 21_000),
        ]),
      ),
    );

    console.log('\nzk (ezkl 1l_mlp)\n');
    if ('skipped' in zk) console.log(`skipped: ${zk.skipped}`);
    else {
      console.log(
        `Groth16 verifyProof (${zk.publicSignals} public signals): ${int(zk.verifyProofTxGas)} gas per transaction ` +
          `(${int(zk.verifyProofGasLessBase)} less the 21,000 base); verifier deployment ${int(zk.verifierDeployGas)} gas`,
      );
      console.log(
        zk.challengeGas === undefined
          ? `FraudProofs.challenge: skipped: ${zk.challengeSkipped}`
          : `FraudProofs.challenge (signature, hashes, Groth16 verify, tensor checks, slash): ${int(zk.challengeGas)} gas, after a commitChallenge of ${int(zk.commitGas ?? 0)} gas`,
      );
      console.log(`(setup ${fmt(zk.setupS, 1)} s, prove ${fmt(zk.proveMs, 0)} ms: off chain, not gas)`);
    }

    const md = [
      '| batch | Merkle gas/receipt | ecrecover gas/receipt | ecrecover / Merkle | calldata B/receipt (Merkle / ecrecover) |',
      '|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${int(r.batch)} | ${fmt(r.merkleGasPerReceipt, 1)} | ${int(r.ecrecoverGasPerReceipt)} | ${ratio(r.ratio)} | ${fmt(r.merkleCalldataBytesPerReceipt, 2)} / ${int(r.ecrecoverCalldataBytesPerReceipt)} |`,
      ),
      '',
      `| ${int(N)} receipts | receipts/s |`,
      '|---|---:|',
      `| Merkle, end to end (sign + tree + submit) | ${int(throughput.merkleEndToEndPerSec)} |`,
      `| Merkle, settlement (tree + submit) | ${int(throughput.merkleOnlyPerSec)} |`,
      `| ecrecover, end to end (sign + settleReceipts x${chunk}) | ${int(throughput.baselineEndToEndPerSec)} |`,
      `| ecrecover, settlement (settleReceipts x${chunk}) | ${int(throughput.baselineOnlyPerSec)} |`,
    ];
    console.log(`\nMarkdown (README)\n\n${md.join('\n')}`);

    const seconds = ms(started) / 1000;
    const path = join(benchDir, 'chain-results.json');
    const r1 = (x: number) => round(x, 1);
    writeFileSync(
      path,
      `${formatJson({
        meta: {
          date: new Date().toISOString(),
          ...info,
          hardfork,
          blockGasLimit: Number(block.gasLimit),
          quick,
          seconds: r1(seconds),
          loadAverageStart: loadStart,
          loadAverageEnd: load(),
        },
        gas: {
          rows: rows.map((r) => ({
            ...r,
            merkleGasPerReceipt: round(r.merkleGasPerReceipt, 2),
            ecrecoverGasPerReceipt: r1(r.ecrecoverGasPerReceipt),
            merkleCalldataBytesPerReceipt: round(r.merkleCalldataBytesPerReceipt, 4),
            ecrecoverCalldataBytesPerReceipt: r1(r.ecrecoverCalldataBytesPerReceipt),
            ratio: r1(r.ratio),
            signMs: r1(r.signMs),
            treeMs: r1(r.treeMs),
            submitMs: r1(r.submitMs),
            baselineMs: r1(r.baselineMs),
          })),
          settleReceipt: { gas: settleReceiptGas, calldataBytes: settleReceiptCalldata },
          warmUp: { firstSubmitBatchGas: warmBatch.gas, firstSettleReceiptGas: Number(warmSingle.gasUsed) },
          targetUnder1000AtScale: met,
        },
        throughput,
        merkleOffchain: {
          ids: off.n,
          treeMs: r1(off.treeMs),
          treeRunsMs: off.treeRunsMs,
          proofMsPerReceipt: round(off.proofMs, 4),
        },
        zk,
      })}\n`,
    );
    console.log(`\nresults: ${path} (${seconds.toFixed(0)} s; load average now ${load().join(' ')})`);
  } finally {
    for (const c of conns) await c.close();
    await devnet.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:chain failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
