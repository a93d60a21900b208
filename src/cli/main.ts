/**
 * The `plumb` command's entry point: parse argv, run one command function, map errors to one
 * readable line and an exit code. Only this file calls `process.exit`.
 */
import { parseArgs } from 'node:util';
import { errorMessage, isPlumbError, PlumbError } from '../core/errors.ts';
import { type Mode, modes } from '../core/receipt.ts';
import { plumbVersion } from '../node/node.ts';
import {
  chainDeployCommand,
  chainStatusCommand,
  challengeCommand,
  settleCommand,
  stakeCommand,
} from './commands/chain.ts';
import { infer } from './commands/infer.ts';
import { modelList, modelPull, modelPush, modelShow } from './commands/model.ts';
import { nodeInfo, nodeStart } from './commands/node.ts';
import { verify } from './commands/verify.ts';
import { modelZkReport, zkExportVerifier, zkVkey } from './commands/zk.ts';
import type { CommandContext } from './context.ts';

export const usage = `plumb ${plumbVersion}: host ONNX models, serve inference with receipts anyone can verify

Usage:
  plumb model push FILE --name OWNER/NAME [--version SEMVER] [--description TEXT]
                   [--zk [--calibrate INPUT.json] [--ptau FILE.ptau] [--zk-input-bits 24]]
                                             also set up zk proving (inputs |x| < 2^(bits-13))
                   [--onchain [--tolerance 0.01]]   register it on chain (zk: verifier too)
  plumb model ls
  plumb model show OWNER/NAME[@VERSION] | CID
  plumb model pull CID -o FILE
  plumb model zk-report FILE                 can this model be proven? unsupported ops, cost
  plumb infer OWNER/NAME[@VERSION] | CID --input FILE [--input FILE...] [--out receipt.json]
                                        [--mode signed|zk] [--nonce 0x...]
  plumb verify RECEIPT.json [--reexecute] [--onchain]
                                             zk receipts: against the model's registered key;
                                             --onchain: node staked, receipt settled (Merkle proof)
  plumb zk vkey OWNER/NAME[@VERSION] | CID [-o FILE]     the model's verification key
  plumb zk export-verifier OWNER/NAME[@VERSION] | CID -o Verifier.sol
  plumb node start [--port N] [--host ADDR] [--zk-concurrency N] [--no-chain]
                   [--settle-batch N] [--settle-interval SECONDS]
                                             also runs the embedded devnet unless --rpc/--no-chain
  plumb node info
  plumb node register --stake ETH            stake from the node's account (registers it)
  plumb node unbond ETH | plumb node withdraw
  plumb chain status                         chain id, block, contracts, this node's stake
  plumb chain deploy --rpc URL               deploy Plumb's contracts with the node's funded key
  plumb settle                               settle queued receipts now (Merkle roots on chain)
  plumb challenge RECEIPT.json [--input FILE]
                                             prove a signed output wrong (zk) and slash its node

Options for every command:
  --data-dir DIR   data directory of the in-process node (default $PLUMB_HOME, else ~/.plumb)
  --node URL       talk to a running node instead (e.g. http://127.0.0.1:7070)
  --rpc URL        an EVM chain instead of the data directory's embedded devnet
  --chain-id N     refuse an RPC on another chain
  --settlement ADDRESS   the Plumb deployment to use on --rpc (its Settlement contract)
  --no-chain       no chain at all
  --json           machine-readable output
  -h, --help       this help
  -V, --version    print the version (alone; with push, --version sets the model version)`;

const options = {
  'data-dir': { type: 'string' },
  node: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'string' },
  name: { type: 'string' },
  description: { type: 'string' },
  output: { type: 'string', short: 'o' },
  input: { type: 'string', multiple: true },
  out: { type: 'string' },
  mode: { type: 'string' },
  nonce: { type: 'string' },
  reexecute: { type: 'boolean', default: false },
  zk: { type: 'boolean', default: false },
  calibrate: { type: 'string' },
  'zk-input-bits': { type: 'string' },
  ptau: { type: 'string' },
  'zk-concurrency': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  rpc: { type: 'string' },
  'chain-id': { type: 'string' },
  settlement: { type: 'string' },
  'no-chain': { type: 'boolean', default: false },
  stake: { type: 'string' },
  onchain: { type: 'boolean', default: false },
  tolerance: { type: 'string' },
  'settle-batch': { type: 'string' },
  'settle-interval': { type: 'string' },
} as const;

class UsageError extends PlumbError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

function countOf(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`${flag}: expected 1-64, got "${value}"`);
  return n;
}

function intOf(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag}: expected an integer ${min}-${max}, got "${value}"`);
  return n;
}

function numberOf(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new UsageError(`${flag}: expected a non-negative number, got "${value}"`);
  return n;
}

function portOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--port: expected 0-65535, got "${value}"`);
  return n;
}

export type RunParameters = Omit<CommandContext, 'json' | 'node' | 'dataDir'> & {
  argv: string[];
  /** Aborts long-running commands (`node start`). */
  signal?: AbortSignal;
};

/** Run the command `argv` names. Resolves to the exit code; never exits the process. */
export async function run(p: RunParameters): Promise<number> {
  let ctx: CommandContext | undefined;
  if (p.argv.length === 1 && (p.argv[0] === '--version' || p.argv[0] === '-V')) {
    p.stdout.write(`plumb ${plumbVersion}\n`);
    return 0;
  }
  try {
    const { values: v, positionals } = parseArgs({
      args: p.argv,
      options,
      allowPositionals: true,
      strict: true,
    });
    const [group, sub, ...rest] = positionals;
    ctx = {
      cwd: p.cwd,
      env: p.env,
      stdout: p.stdout,
      stderr: p.stderr,
      json: v.json,
      node: v.node,
      dataDir: v['data-dir'],
      rpc: v.rpc,
      chainId: intOf(v['chain-id'], '--chain-id', 1, Number.MAX_SAFE_INTEGER),
      settlement: v.settlement,
      noChain: v['no-chain'],
    };
    if (v.help || group === undefined || group === 'help') {
      p.stdout.write(`${usage}\n`);
      return 0;
    }
    const mode = v.mode as Mode | undefined;
    if (mode !== undefined && !modes.includes(mode))
      throw new UsageError(`--mode: expected one of ${modes.join(', ')}, got "${mode}"`);
    const grouped = group === 'model' || group === 'node' || group === 'zk' || group === 'chain';
    const command = grouped ? `${group} ${sub ?? ''}`.trim() : group;
    const args = grouped ? rest : [sub, ...rest].filter((a) => a !== undefined);
    switch (command) {
      case 'model push':
        await modelPush(ctx, {
          file: need(args[0], 'FILE: plumb model push FILE --name OWNER/NAME'),
          name: need(v.name, '--name OWNER/NAME'),
          version: v.version,
          description: v.description,
          zk: v.zk,
          calibrate: v.calibrate,
          ptau: v.ptau,
          inputBits: v['zk-input-bits'],
          onchain: v.onchain,
          tolerance: numberOf(v.tolerance, '--tolerance'),
        });
        break;
      case 'zk vkey':
        await zkVkey(ctx, {
          ref: need(args[0], 'model: plumb zk vkey OWNER/NAME[@VERSION] | CID'),
          out: v.output,
        });
        break;
      case 'zk export-verifier':
        await zkExportVerifier(ctx, {
          ref: need(args[0], 'model: plumb zk export-verifier OWNER/NAME[@VERSION] | CID -o Verifier.sol'),
          out: need(v.output, '-o FILE (e.g. -o Verifier.sol)'),
        });
        break;
      case 'model ls':
      case 'model list':
        await modelList(ctx);
        break;
      case 'model show':
        await modelShow(ctx, { ref: need(args[0], 'model: plumb model show OWNER/NAME[@VERSION] | CID') });
        break;
      case 'model zk-report':
        await modelZkReport(ctx, { file: need(args[0], 'FILE: plumb model zk-report FILE') });
        break;
      case 'model pull':
        await modelPull(ctx, {
          cid: need(args[0], 'CID: plumb model pull CID -o FILE'),
          out: need(v.output, '-o FILE'),
        });
        break;
      case 'infer':
        await infer(ctx, {
          model: need(args[0], 'model: plumb infer OWNER/NAME --input FILE'),
          inputs: v.input ?? [],
          out: v.out,
          mode,
          nonce: v.nonce,
        });
        break;
      case 'verify':
        await verify(ctx, {
          file: need(args[0], 'receipt file: plumb verify RECEIPT.json'),
          reexecute: v.reexecute,
          onchain: v.onchain,
        });
        break;
      case 'chain status':
        await chainStatusCommand(ctx);
        break;
      case 'chain deploy':
        await chainDeployCommand(ctx);
        break;
      case 'node register':
        await stakeCommand(ctx, { action: 'stake', amount: need(v.stake, '--stake ETH (e.g. --stake 1.0)') });
        break;
      case 'node unbond':
        await stakeCommand(ctx, { action: 'unbond', amount: need(args[0], 'amount: plumb node unbond ETH') });
        break;
      case 'node withdraw':
        await stakeCommand(ctx, { action: 'withdraw' });
        break;
      case 'settle':
        await settleCommand(ctx);
        break;
      case 'challenge':
        await challengeCommand(ctx, {
          file: need(args[0], 'receipt file: plumb challenge RECEIPT.json'),
          inputs: v.input ?? [],
        });
        break;
      case 'node start':
        await nodeStart(ctx, {
          port: portOf(v.port),
          host: v.host,
          zkConcurrency: countOf(v['zk-concurrency'], '--zk-concurrency'),
          settleBatchSize: intOf(v['settle-batch'], '--settle-batch', 1, 10_000),
          settleIntervalSeconds: numberOf(v['settle-interval'], '--settle-interval'),
          ...(p.signal ? { signal: p.signal } : {}),
        });
        break;
      case 'node info':
        await nodeInfo(ctx);
        break;
      default:
        throw new UsageError(`unknown command "${command}"; run plumb --help`);
    }
    return 0;
  } catch (error) {
    const usageProblem =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const line = isPlumbError(error) ? error.shortMessage : errorMessage(error);
    if (ctx?.json && !usageProblem) {
      const e = isPlumbError(error) ? error : undefined;
      p.stdout.write(
        `${JSON.stringify({ error: { code: e?.code ?? 'INTERNAL', message: line, meta: e?.metaMessages ?? [] } })}\n`,
      );
    }
    // One line: the error, then any hints after a dash.
    const hints = isPlumbError(error) ? error.metaMessages.join(' ') : '';
    p.stderr.write(`plumb: ${line}${hints ? ` - ${hints}` : ''}\n`);
    if (!isPlumbError(error) && !usageProblem && p.env['PLUMB_DEBUG'])
      p.stderr.write(`${(error as Error).stack}\n`);
    return usageProblem ? 2 : 1;
  }
}
