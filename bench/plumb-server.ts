/**
 * Plumb's HTTP server as a child process for the bench: a PlumbNode on a fresh data dir
 * (`--data-dir`, which must not exist yet; else a new temporary dir; removed on shutdown),
 * the bench models pushed into it, `serve(node)` on 127.0.0.1, port 0.
 *
 *   node bench/plumb-server.ts --spec <spec.json> [--data-dir <dir>]
 *                              [--profile-out <file.cpuprofile>]
 *
 * Prints one JSON line { url, pid, models } when listening; on SIGTERM/SIGINT, or when its
 * parent closes stdin, it closes the server, stops the node, removes the data dir and exits 0.
 * With --profile-out, the V8 CPU profiler (node:inspector, same profile format as --cpu-prof)
 * runs from the moment the server listens until shutdown, so start-up and module loading stay
 * out of the profile, and the profile is written on shutdown.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Server, serve } from '../src/api/serve.ts';
import { PlumbNode } from '../src/node/node.ts';
import { pushModel } from '../src/node/push-model.ts';
import { onParentGoneOrSignal, parseFlags, readSpec, requireFlag } from './common.ts';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const spec = readSpec(requireFlag(flags, 'spec'));
  const profileOut = flags.get('profile-out');
  let profiler: Session | undefined;
  const given = flags.get('data-dir');
  const dataDir = given ?? (await mkdtemp(join(tmpdir(), 'plumb-bench-server-')));
  if (given) await mkdir(given, { recursive: false, mode: 0o700 });
  const threads = Number(process.env['PLUMB_BENCH_INTRA_OP'] ?? 0);
  const node = new PlumbNode({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    ...(threads ? { intraOpThreads: threads } : {}),
    // PLUMB_BENCH_CHAIN=1: as `plumb node start` runs, on the embedded devnet (receipts queued for settlement).
    ...(process.env['PLUMB_BENCH_CHAIN'] === '1' ? { chain: true, autoSettle: true } : {}),
  });
  let server: Server | undefined;
  let stopping = false;
  const shutdown = (code: number) => {
    if (stopping) return;
    stopping = true;
    (async () => {
      try {
        if (profiler) {
          const { profile } = await profiler.post('Profiler.stop');
          writeFileSync(profileOut!, JSON.stringify(profile));
          profiler.disconnect();
        }
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
    if (profileOut) {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 250 });
      await profiler.post('Profiler.start');
    }
    process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid, models })}\n`);
  } catch (error) {
    process.stderr.write(
      `plumb-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    shutdown(1);
  }
}

void main();
