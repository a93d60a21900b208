/**
 * What every command gets: where it runs, where output goes, and a client on either a
 * running node (`--node URL`) or an in-process node on a data directory.
 */
import { resolve } from 'node:path';
import { createApp } from '../api/app.ts';
import { resolveDataDir } from '../node/config.ts';
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
};

export type Session = { client: Client; local: PlumbNode | undefined; close(): Promise<void> };

/** Open a client: remote when `--node` is set, else an in-process node on the data directory. */
export async function openSession(ctx: CommandContext): Promise<Session> {
  if (ctx.node) return { client: createClient({ url: ctx.node }), local: undefined, close: async () => {} };
  const node = await startLocalNode(ctx);
  const app = createApp(node);
  return {
    client: createClient({ transport: inProcess((request) => app.fetch(request)) }),
    local: node,
    close: () => node.stop(),
  };
}

export async function startLocalNode(
  ctx: CommandContext,
  extra: { port?: number; host?: string; zkConcurrency?: number } = {},
): Promise<PlumbNode> {
  const ptauDir = ctx.env['PLUMB_ZK_PTAU_DIR'];
  const node = new PlumbNode({
    dataDir: resolveDataDir({ dataDir: ctx.dataDir, cwd: ctx.cwd, env: ctx.env }),
    ...(ptauDir ? { zkPtauDir: resolve(ctx.cwd, ptauDir) } : {}),
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
