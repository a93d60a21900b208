/**
 * The on-chain loop through the `plumb` command (`run()` in-process, no --node), on one data
 * directory whose embedded devnet (anvil) every command starts and stops: chain status, node
 * register, model push --zk --onchain, infer, verify --onchain before and after settle, a
 * tampered receipt, a challenge of an honest receipt, and the clear errors (a bad stake amount,
 * --no-chain, an unreachable --rpc, a wrong --chain-id). No anvil may outlive a command.
 * Skipped where the anvil binary is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ChainStatus } from '../src/chain/actions/status.ts';
import { anvilBinary } from '../src/chain/devnet.ts';
import type { Receipt } from '../src/core/receipt.ts';
import { releaseZk } from '../src/proof/zk/setup.ts';
import { type CliResult, runPlumb } from './helpers/cli.ts';

const skip = anvilBinary() ? false : 'no anvil binary for this platform (@foundry-rs/anvil-linux-amd64)';
const corpus = new URL('../../shared/corpus/ezkl/', import.meta.url).pathname;
const model = join(corpus, '1l_mlp/network.onnx');
const input = join(corpus, '1l_mlp/input.json');
const ptauDir = join(tmpdir(), 'plumb-zk-ptau-cache');
const work = mkdtempSync(join(tmpdir(), 'plumb-chain-cli-'));
const dataDir = join(work, 'data');
const address = /0x[0-9a-fA-F]{40}/;
const hash = /0x[0-9a-f]{64}/;

/** Processes (anvil and its guard shell) whose command line names this data directory's devnet state. */
function devnetProcesses(): string[] {
  const state = join(dataDir, 'chain', 'devnet-state.json');
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (cmdline.includes(state)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ').slice(0, 200)}`);
  }
  return found;
}

/** `plumb ...argv --data-dir <dataDir>`; afterwards, no devnet of the data directory is left running. */
async function plumb(...argv: string[]): Promise<CliResult> {
  const r = await runPlumb([...argv, '--data-dir', dataDir], work, { PLUMB_ZK_PTAU_DIR: ptauDir });
  assert.deepEqual(devnetProcesses(), [], `plumb ${argv.join(' ')} left its devnet running`);
  assert.equal(existsSync(join(dataDir, 'chain', 'devnet.json')), false, 'a stale devnet.json record');
  return r;
}

/** The error line on stderr (its last line). */
function lastError(r: CliResult): string {
  const lines = r.stderr.trimEnd().split('\n');
  return lines[lines.length - 1]!;
}

function fails(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}\n${r.stdout}${r.stderr}`);
  assert.match(lastError(r), pattern);
}

describe('plumb on chain (embedded devnet)', { skip, timeout: 120_000 }, () => {
  let status: ChainStatus;
  after(async () => {
    await releaseZk(); // the curve threads of zk setup and proving in this process
    const left = existsSync('/proc') ? devnetProcesses() : [];
    rmSync(work, { recursive: true, force: true });
    assert.deepEqual(left, [], 'an anvil outlived the test');
  });

  test('chain status --json: the devnet with its contracts; the node is not staked yet', async () => {
    const r = await plumb('chain', 'status', '--json');
    assert.equal(r.code, 0, r.stderr);
    status = JSON.parse(r.stdout) as ChainStatus;
    assert.equal(status.devnet, true);
    assert.equal(status.chainId, 31337);
    assert.match(status.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(status.contracts['settlement'] ?? '', address);
    assert.match(status.node.address, address);
    assert.equal(status.node.active, false);
    assert.equal(status.node.staked, '0');
    assert.ok(existsSync(join(dataDir, 'chain', 'devnet-state.json')), 'the devnet state was saved');
    // Deployed once: a second command finds the same contracts on the restarted devnet.
    const again = await plumb('chain', 'status', '--json');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as ChainStatus).contracts, status.contracts);
  });

  test('node register: a bad or missing amount is refused; --stake 1.0 makes the node active', async () => {
    const abc = await plumb('node', 'register', '--stake', 'abc');
    fails(abc, 1, /^plumb: --stake: expected an ether amount such as 1\.0, got "abc"$/);
    assert.equal(abc.stdout, '');
    fails(await plumb('node', 'register', '--stake', '0'), 1, /^plumb: --stake: must be more than 0$/);
    fails(await plumb('node', 'unbond', 'lots'), 1, /^plumb: amount: expected an ether amount/);
    fails(await plumb('node', 'register'), 2, /^plumb: missing --stake ETH \(e\.g\. --stake 1\.0\)/);
    fails(await plumb('node', 'unbond'), 2, /^plumb: missing amount: plumb node unbond ETH/);
    const r = await plumb('node', 'register', '--stake', '1.0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^staked 1\\.0 ETH \\(transaction ${hash.source}\\)$`, 'm'));
    assert.match(r.stdout, new RegExp(`^node +${status.node.address}: active, balance [0-9.]+ ETH$`, 'm'));
    assert.match(r.stdout, /^ {2}staked +1 ETH \(minimum [0-9.]+\)$/m);
  });

  test('model push --zk --onchain registers the model and its verifier contract', async () => {
    const r = await plumb('model', 'push', model, '--name', 'acme/mlp', '--zk', '--onchain', '--json');
    assert.equal(r.code, 0, r.stderr);
    const pushed = JSON.parse(r.stdout) as {
      cid: string;
      zk?: unknown;
      onchain?: { owner: string; manifestHash: string; verifier?: string; tolerance?: number };
    };
    assert.ok(pushed.zk, 'zk setup in the push result');
    assert.ok(pushed.onchain, r.stdout);
    assert.match(pushed.onchain.verifier ?? '', address);
    assert.equal(pushed.onchain.owner.toLowerCase(), status.node.address.toLowerCase());
  });

  test('infer signs for the chain; verify --onchain fails until settle, then passes every on-chain check', async () => {
    const r = await plumb('infer', 'acme/mlp', '--input', input, '--out', 'r.json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /written to r\.json/);
    const receipt = JSON.parse(readFileSync(join(work, 'r.json'), 'utf8')) as Receipt;
    assert.equal(receipt.domain.chainId, status.chainId);
    assert.equal(
      receipt.domain.verifyingContract?.toLowerCase(),
      status.contracts['settlement']?.toLowerCase(),
    );

    const early = await plumb('verify', 'r.json', '--onchain');
    fails(early, 1, /^plumb: receipt does not verify: not settled yet/);
    assert.match(
      early.stdout,
      /^FAIL settled: not settled yet: the receipt is queued for settlement \(run plumb settle\)$/m,
    );
    for (const check of ['signature', 'chainDomain', 'onchainDigest', 'nodeStake'])
      assert.match(early.stdout, new RegExp(`^ok {3}${check}: `, 'm'));
    assert.doesNotMatch(early.stdout, /receipt verified/);

    const s = await plumb('settle');
    assert.equal(s.code, 0, s.stderr);
    assert.match(
      s.stdout,
      new RegExp(`^batch \\d+: 1 receipt, root ${hash.source} \\(transaction ${hash.source}\\)$`, 'm'),
    );
    assert.match(s.stdout, /^settled 1 receipt in 1 batch$/m);
    const none = await plumb('settle');
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /^nothing to settle: no receipts are queued$/m);

    const v = await plumb('verify', 'r.json', '--onchain');
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(
      v.stdout,
      new RegExp(`^ok {3}chainDomain: signed for Settlement ${address.source} on chain 31337$`, 'm'),
    );
    assert.match(v.stdout, /^ok {3}onchainDigest: the Settlement contract hashes the receipt to its id$/m);
    assert.match(v.stdout, /^ok {3}nodeStake: node 0x[0-9a-fA-F]{40} is registered with 1 ETH staked$/m);
    assert.match(
      v.stdout,
      /^ok {3}settled: settled in batch \d+ \(root 0x[0-9a-f]{64}, Merkle proof checked on chain\)$/m,
    );
    assert.doesNotMatch(v.stdout, /FAIL/);
    assert.match(v.stdout, /^receipt verified$/m);

    const text = await plumb('chain', 'status');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^chain +31337 \(embedded devnet\) at http:\/\/127\.0\.0\.1:\d+, block \d+$/m);
    assert.match(text.stdout, /: active, balance/);
    assert.match(text.stdout, /^settlement 0 queued, 0 batches pending, 1 receipt in 1 settled batch$/m);
  });

  test('a tampered receipt fails verify (outputHash) before any on-chain check', async () => {
    const receipt = JSON.parse(readFileSync(join(work, 'r.json'), 'utf8')) as Receipt;
    const [name] = Object.keys(receipt.outputs);
    const data = receipt.outputs[name!]!.data as number[];
    data[0] = data[0]! + 1;
    writeFileSync(join(work, 'tampered.json'), JSON.stringify(receipt));
    const t = await plumb('verify', 'tampered.json', '--onchain');
    fails(t, 1, /^plumb: receipt does not verify: .*outputs/);
    assert.match(t.stdout, /^FAIL outputHash: /m);
    assert.doesNotMatch(t.stdout, /chainDomain|settled/);
  });

  test('challenge of an honest receipt: nothing to slash, and the node keeps its stake', async () => {
    const c = await plumb('challenge', 'r.json');
    fails(c, 1, /^plumb: .*signed output is correct/);
    assert.equal(c.stdout, '');
    const s = await plumb('chain', 'status', '--json');
    assert.equal(s.code, 0, s.stderr);
    const after = JSON.parse(s.stdout) as ChainStatus;
    assert.equal(after.node.active, true);
    assert.equal(after.node.staked, '1');
  });

  test('--no-chain, an unreachable --rpc and a wrong --chain-id are clear errors', async () => {
    fails(await plumb('--no-chain', 'chain', 'status'), 1, /^plumb: --no-chain: this command needs a chain/);
    fails(
      await plumb('--rpc', 'http://127.0.0.1:9', 'chain', 'status'),
      1,
      /^plumb: cannot reach the chain RPC at http:\/\/127\.0\.0\.1:9\b/,
    );
    fails(
      await plumb('--chain-id', '1', 'chain', 'status'),
      1,
      /^plumb: wrong chain: http:\/\/127\.0\.0\.1:\d+ is chain 31337, not 1 - Check --rpc and --chain-id/,
    );
    fails(await plumb('--chain-id', 'one', 'chain', 'status'), 2, /^plumb: --chain-id: expected an integer/);
    const json = await plumb('--chain-id', '1', 'chain', 'status', '--json');
    assert.equal(json.code, 1);
    const { error } = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.match(error.message, /wrong chain/);
  });
});
