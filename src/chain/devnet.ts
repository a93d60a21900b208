/**
 * The embedded devnet: Foundry's `anvil` (the `@foundry-rs/anvil-linux-amd64` npm package)
 * started as a child process on a free port, owned by whoever starts it.
 *
 * No orphans: anvil runs under a tiny `sh` guard that holds a pipe from this process. When
 * the pipe closes — `stop()`, or this process dying in any way, SIGKILL included — the guard
 * sends anvil SIGTERM and waits for it, so anvil writes its state file and exits.
 *
 * With `statePath` the chain survives restarts: anvil loads the file at start and dumps it at
 * exit (and every `stateIntervalSeconds` meanwhile, so a crash loses little).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PlumbError } from '../core/errors.ts';

const require = createRequire(import.meta.url);

export type Devnet = {
  rpcUrl: string;
  chainId: number;
  /** anvil's process id. */
  pid: number;
  /** Stop anvil (its state is written first); resolves when it has exited. */
  stop(): Promise<void>;
};

export type StartDevnetOptions = {
  /** Keep the chain in this file across restarts. */
  statePath?: string | undefined;
  stateIntervalSeconds?: number | undefined;
  host?: string | undefined;
  /** Default 0: a free port. */
  port?: number | undefined;
  chainId?: number | undefined;
  startupTimeoutMs?: number | undefined;
};

/** The anvil binary shipped in node_modules, or undefined where this platform has none. */
export function anvilBinary(): string | undefined {
  try {
    const dir = dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json'));
    const bin = join(dir, 'bin', 'anvil');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

// Runs anvil in the background, prints its pid, and kills it when stdin reaches EOF.
const guard = `"$0" "$@" & pid=$!
echo "plumb-anvil-pid $pid"
trap 'kill -TERM $pid 2>/dev/null' TERM INT HUP
read -r _ || true
kill -TERM $pid 2>/dev/null
wait $pid`;

const startLine = /Listening on ([0-9.]+):([0-9]+)/;

export async function startDevnet(options: StartDevnetOptions = {}): Promise<Devnet> {
  const bin = anvilBinary();
  if (!bin)
    throw new PlumbError('UNAVAILABLE', `no anvil binary for ${process.platform}-${process.arch}`, {
      metaMessages: [
        'The embedded devnet ships for linux-x64 (@foundry-rs/anvil-linux-amd64).',
        'Point the node at an EVM chain with --rpc URL instead, or run without a chain (--no-chain).',
      ],
    });
  const chainId = options.chainId ?? 31337;
  const args = [
    '--host',
    options.host ?? '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--chain-id',
    String(chainId),
  ];
  if (options.statePath) {
    await mkdir(dirname(options.statePath), { recursive: true });
    args.push('--state', options.statePath, '--state-interval', String(options.stateIntervalSeconds ?? 5));
  }
  const child = spawn('sh', ['-c', guard, bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  const keep = (d: Buffer) => {
    // anvil logs every block: keep only the tail (for error messages), never stop reading.
    log = (log + d.toString()).slice(-4000);
  };
  child.stderr!.on('data', keep);
  try {
    const { host, port, pid } = await waitForStart(
      child,
      keep,
      options.startupTimeoutMs ?? 20_000,
      () => log,
    );
    let stopping: Promise<void> | undefined;
    return {
      rpcUrl: `http://${host}:${port}`,
      chainId,
      pid,
      stop: () => {
        stopping ??= stopChild(child, exited, pid);
        return stopping;
      },
    };
  } catch (error) {
    await stopChild(child, exited, undefined);
    throw error;
  }
}

function waitForStart(
  child: ChildProcess,
  keep: (d: Buffer) => void,
  timeoutMs: number,
  log: () => string,
): Promise<{ host: string; port: number; pid: number }> {
  return new Promise((resolve, reject) => {
    let pid: number | undefined;
    let out = '';
    let started = false;
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new PlumbError('UNAVAILABLE', `the devnet (anvil) did not start: ${why}`, { details: log() }));
    };
    const timer = setTimeout(() => fail(`no "Listening on" line within ${timeoutMs} ms`), timeoutMs);
    const onExit = (code: number | null, signal: string | null) =>
      fail(`anvil exited (${signal ?? `code ${code}`})`);
    child.once('exit', onExit);
    child.once('error', (error) => fail(error.message));
    child.stdout!.on('data', (d: Buffer) => {
      keep(d);
      if (started) return;
      out += d.toString();
      pid ??= Number(/plumb-anvil-pid ([0-9]+)/.exec(out)?.[1]) || undefined;
      const m = startLine.exec(out);
      if (m && pid !== undefined) {
        clearTimeout(timer);
        child.off('exit', onExit);
        started = true;
        out = '';
        resolve({ host: m[1]!, port: Number(m[2]), pid });
      }
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>, pid: number | undefined): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin!.end(); // the guard sees EOF, stops anvil (state dumped) and exits
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    child.kill('SIGKILL');
    await exited;
  }
}
