/**
 * Plumb's HTTP server as a child process for the throughput bench: a PlumbNode on a fresh
 * temporary data dir, the bench models pushed into it, `serve(node)` on 127.0.0.1, port 0.
 *
 *   node bench/plumb-server.ts --spec <spec.json>
 *
 * Prints one JSON line { url, pid, models } when listening; on SIGTERM/SIGINT, or when its
 * parent closes stdin, it closes the server, stops the node, removes the data dir and exits 0
 * (so `--cpu-prof` can write its profile).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Server, serve } from '../src/api/serve.ts';
import { PlumbNode } from '../src/node/node.ts';
import { pushModel } from '../src/node/push-model.ts';
import { onParentGoneOrSignal, parseFlags, readSpec, requireFlag } from './common.ts';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const spec = readSpec(requireFlag(flags, 'spec'));
  const dataDir = await mkdtemp(join(tmpdir(), 'plumb-bench-server-'));
  const node = new PlumbNode({ dataDir, host: '127.0.0.1', port: 0 });
  let server: Server | undefined;
  let stopping = false;
  const shutdown = (code: number) => {
    if (stopping) return;
    stopping = true;
    (async () => {
      try {
        await server?.close();
        await node.stop();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    })()
      .catch((error: unknown) => {
        process.stderr.write(`plumb-server: shutdown: ${String(error)}\n`);
        code = code || 1;
      })
      .finally(() => process.exit(code));
  };
  onParentGoneOrSignal(() => shutdown(0));
  try {
    await node.start();
    const models: Record<string, string> = {};
    for (const m of spec.models) {
      const pushed = await pushModel(node, { source: readFileSync(m.path), repo: m.repo });
      models[m.repo] = pushed.cid;
    }
    server = await serve(node);
    process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid, models })}\n`);
  } catch (error) {
    process.stderr.write(`plumb-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    shutdown(1);
  }
}

void main();
