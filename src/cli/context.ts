/**
 * What every command gets: where it runs, where output goes, and a client on either a
 * running node (`--node URL`) or an in-process node on a data directory.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createApp } from '../api/app.ts';
import { PlumbError } from '../core/errors.ts';
import { type NodeConfigInput, resolveDataDir } from '../node/config.ts';
import { PlumbNode } from '../node/node.ts';
import { type Client, createClient, inProcess } from '../sdk/client.ts';

export type Output = { write(text: string): void; isTTY?: boolean | undefined };

export type CommandContext = {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: Output;
  stderr: Output;
  /** Machine-readable output: one JSON document on stdout, no progress. */
  json: boolean;
  /** `--node URL`: talk to a running node. */
  node?: string | undefined;
  /** `--data-dir DIR`: the in-process node's data directory. */
  dataDir?: string | undefined;
  /** `--rpc URL`, `--chain-id N`, `--settlement ADDRESS`: the chain of an in-process node. */
  rpc?: string | undefined;
  chainId?: number | undefined;
  settlement?: string | undefined;
  /** `--no-chain`: never start or join a chain. */
  noChain?: boolean | undefined;
};

export type Session = { client: Client; local: PlumbNode | undefined; close(): Promise<void> };

/** Open a client: remote when `--node` is set, else an in-process node on the data directory. */
export async function openSession(ctx: CommandContext, o: ChainUse = {}): Promise<Session> {
  if (ctx.node) return { client: createClient({ url: ctx.node }), local: undefined, close: async () => {} };
  const node = await startLocalNode(ctx, {}, o);
  const app = createApp(node);
  return {
    client: createClient({ transport: inProcess((request) => app.fetch(request)) }),
    local: node,
    close: () => node.stop(),
  };
}

/**
 * How a command uses the chain: `true` needs it; `'if-used'` (commands that sign receipts) joins
 * it when this data directory has used one before, so its receipts keep being signed for and
 * queued on that chain; otherwise only when `--rpc` names one. Never with `--no-chain`.
 */
export type ChainUse = { chain?: boolean | 'if-used' };

/** An in-process node on the data directory, on a chain as `o` and the flags say. */
export async function startLocalNode(
  ctx: CommandContext,
  extra: Partial<NodeConfigInput> = {},
  o: ChainUse = {},
): Promise<PlumbNode> {
  const ptauDir = ctx.env['PLUMB_ZK_PTAU_DIR'];
  const dataDir = resolveDataDir({ dataDir: ctx.dataDir, cwd: ctx.cwd, env: ctx.env });
  if (ctx.noChain && (o.chain === true || ctx.rpc))
    throw new PlumbError(
      'INVALID_ARGUMENT',
      '--no-chain: this command needs a chain (drop --no-chain; add --rpc URL for an external chain)',
    );
  const chain =
    !ctx.noChain &&
    (o.chain === true || ctx.rpc !== undefined || (o.chain === 'if-used' && usedChain(dataDir)));
  const node = new PlumbNode({
    dataDir,
    ...(ptauDir ? { zkPtauDir: resolve(ctx.cwd, ptauDir) } : {}),
    ...(chain ? { chain: true } : {}),
    ...(ctx.rpc !== undefined ? { rpcUrl: ctx.rpc } : {}),
    ...(ctx.chainId !== undefined ? { chainId: ctx.chainId } : {}),
    ...(ctx.settlement !== undefined ? { settlement: ctx.settlement } : {}),
    ...extra,
  });
  await node.start();
  return node;
}

export function print(ctx: CommandContext, text: string): void {
  ctx.stdout.write(`${text}\n`);
}

export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A progress line on stderr (TTY only, never in --json mode). Returns an updater and a finisher. */
export function progress(
  ctx: CommandContext,
  label: string,
): { update(done: number, total?: number): void; end(): void } {
  const enabled = !ctx.json && ctx.stderr.isTTY === true;
  let last = 0;
  return {
    update(done, total) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      const pct = total ? ` ${((100 * done) / total).toFixed(0)}%` : '';
      const of = total ? ` / ${mb(total)}` : '';
      ctx.stderr.write(`\r${label}${pct} (${mb(done)}${of})   `);
    },
    end() {
      if (enabled && last) ctx.stderr.write('\n');
    },
  };
}

export function mb(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** True when a node on this data directory has deployed to or used a chain. */
function usedChain(dataDir: string): boolean {
  const dir = join(dataDir, 'chain');
  return existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('deployment-'));
}
