/**
 * `plumb chain status`, `plumb chain deploy`, `plumb node register --stake ETH`,
 * `plumb node unbond ETH`, `plumb node withdraw`, `plumb settle`, `plumb challenge R.json`.
 */
import { resolve } from 'node:path';
import { etherAmount } from '../../chain/actions/stake.ts';
import type { ChainStatus } from '../../chain/actions/status.ts';
import { PlumbError } from '../../core/errors.ts';
import { challenge, getChainStatus, settle, stake } from '../../sdk/actions/chain.ts';
import { type CommandContext, openSession, print, printJson, startLocalNode } from '../context.ts';
import { readInputFiles, readJson } from '../read-inputs.ts';

function printStatus(ctx: CommandContext, s: ChainStatus): void {
  print(
    ctx,
    `chain      ${s.chainId}${s.devnet ? ' (embedded devnet)' : ''} at ${s.rpcUrl}, block ${s.block}`,
  );
  print(ctx, 'contracts');
  for (const [name, address] of Object.entries(s.contracts)) print(ctx, `  ${name.padEnd(13)} ${address}`);
  const n = s.node;
  print(ctx, `node       ${n.address}: ${n.active ? 'active' : 'NOT active'}, balance ${n.balance} ETH`);
  print(ctx, `  staked   ${n.staked} ETH (minimum ${n.minStake})`);
  if (n.unbonding !== '0')
    print(ctx, `  unbonding ${n.unbonding} ETH, withdrawable ${new Date(n.unlockAt * 1000).toISOString()}`);
  const q = s.settlement;
  print(
    ctx,
    `settlement ${q.queued} queued, ${plural(q.pendingBatches, 'batch', 'batches')} pending, ${plural(q.settledReceipts, 'receipt')} in ${plural(q.settledBatches, 'settled batch', 'settled batches')}`,
  );
  if (q.lastError) print(ctx, `  last error: ${q.lastError}`);
}

export async function chainStatusCommand(ctx: CommandContext): Promise<void> {
  const session = await openSession(ctx, { chain: true });
  try {
    const s = await getChainStatus(session.client);
    if (ctx.json) return printJson(ctx, s);
    printStatus(ctx, s);
  } finally {
    await session.close();
  }
}

export async function stakeCommand(
  ctx: CommandContext,
  o: { action: 'stake' | 'unbond' | 'withdraw'; amount?: string | undefined },
): Promise<void> {
  if (o.action !== 'withdraw' && o.amount === undefined)
    throw new PlumbError(
      'INVALID_ARGUMENT',
      o.action === 'stake' ? 'missing --stake ETH' : 'missing the amount of ETH',
    );
  // Checked here, naming the flag, before a chain is started for nothing.
  if (o.amount !== undefined) etherAmount(o.amount, o.action === 'stake' ? '--stake' : 'amount');
  const session = await openSession(ctx, { chain: true });
  try {
    const r = await stake(
      session.client,
      o.action === 'withdraw' ? { action: 'withdraw' } : { action: o.action, amount: o.amount! },
    );
    if (ctx.json) return printJson(ctx, r);
    const verb = {
      stake: `staked ${o.amount} ETH`,
      unbond: `unbonding ${o.amount} ETH`,
      withdraw: 'withdrew',
    };
    print(ctx, `${verb[o.action]} (transaction ${r.txHash})`);
    printStatus(ctx, r.status);
  } finally {
    await session.close();
  }
}

export async function settleCommand(ctx: CommandContext): Promise<void> {
  const session = await openSession(ctx, { chain: true });
  try {
    const r = await settle(session.client);
    if (ctx.json) return printJson(ctx, r);
    if (r.batches.length === 0) return print(ctx, 'nothing to settle: no receipts are queued');
    for (const b of r.batches)
      print(
        ctx,
        `batch ${b.chainBatchId}: ${plural(b.count, 'receipt')}, root ${b.root} (transaction ${b.txHash})`,
      );
    print(ctx, `settled ${plural(r.receipts, 'receipt')} in ${plural(r.batches.length, 'batch', 'batches')}`);
  } finally {
    await session.close();
  }
}

export async function challengeCommand(
  ctx: CommandContext,
  o: { file: string; inputs: string[] },
): Promise<void> {
  const receipt = await readJson(resolve(ctx.cwd, o.file));
  const inputs = o.inputs.length ? await readInputFiles(ctx.cwd, o.inputs, async () => []) : undefined;
  const session = await openSession(ctx, { chain: true });
  try {
    const r = await challenge(session.client, {
      receipt,
      ...(inputs ? { inputs: inputs as never } : {}),
    });
    if (ctx.json) return printJson(ctx, r);
    print(ctx, `the signed output is off by ${r.distance} (tolerance ${r.tolerance}): proven wrong on chain`);
    print(ctx, `node ${r.node} slashed ${r.slashed} ETH; reward ${r.reward} ETH (transaction ${r.txHash})`);
  } finally {
    await session.close();
  }
}

/** Deploy Plumb's contracts to `--rpc` with the node's (funded) key, and remember them here. */
export async function chainDeployCommand(ctx: CommandContext): Promise<void> {
  if (ctx.rpc === undefined)
    throw new PlumbError('INVALID_ARGUMENT', 'missing --rpc URL (the embedded devnet deploys by itself)');
  const node = await startLocalNode(ctx, { chainDeploy: true }, { chain: true });
  try {
    const d = node.chain!.deployment;
    if (ctx.json) return printJson(ctx, d);
    print(ctx, `Plumb contracts on chain ${d.chainId} (from block ${d.block})`);
    for (const [name, address] of Object.entries(d))
      if (typeof address === 'string') print(ctx, `  ${name.padEnd(13)} ${address}`);
    print(ctx, `other nodes join with --rpc ${ctx.rpc} --settlement ${d.settlement}`);
  } finally {
    await node.stop();
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
