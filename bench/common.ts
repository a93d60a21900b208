/**
 * Shared helpers for the bench: argument parsing, sample statistics, table printing, and
 * child processes that never outlive the bench (killed on exit, error or signal).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** This directory (bench/): the child scripts, results.json and profiles/ live here. */
export const benchDir = fileURLToPath(new URL('.', import.meta.url));

/** One model as the bench children see it (written to a JSON spec file by main). */
export type BenchModel = {
  /** Short name in the tables, e.g. 1l_mlp. */
  name: string;
  /** Repository the Plumb node serves it under, and the key the bare server uses. */
  repo: string;
  /** The ONNX file. */
  path: string;
  /** The POST /v1/infer body (JSON text), identical for both servers. */
  bodyPath: string;
};

export type BenchSpec = { models: BenchModel[] };

export function readSpec(path: string): BenchSpec {
  return JSON.parse(readFileSync(path, 'utf8')) as BenchSpec;
}

/** `--key value`, `--key=value` and bare `--flag` (value "true"). */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        flags.set(arg.slice(2), next);
        i++;
      } else {
        flags.set(arg.slice(2), 'true');
      }
    }
  }
  return flags;
}

export function requireFlag(flags: Map<string, string>, name: string): string {
  const value = flags.get(name);
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}

export function numberFlag(flags: Map<string, string>, name: string, fallback: number): number {
  const value = flags.get(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`--${name}: expected a non-negative number, got "${value}"`);
  return n;
}

// ---------------------------------------------------------------- statistics

export type LatencySummary = {
  n: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
};

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    meanMs: round(sum / Math.max(1, sorted.length), 4),
    p50Ms: round(percentile(sorted, 50), 4),
    p99Ms: round(percentile(sorted, 99), 4),
    minMs: round(sorted[0] ?? Number.NaN, 4),
    maxMs: round(sorted.at(-1) ?? Number.NaN, 4),
  };
}

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Milliseconds since an arbitrary origin, sub-microsecond resolution. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Run `fn` repeatedly: at least `minIters` times, then until `maxMs` passed or `maxIters`
 * done. Returns operations per second.
 */
export function opsPerSecond(
  fn: () => unknown,
  {
    minIters = 10,
    maxIters = 1_000_000,
    maxMs = 2000,
  }: { minIters?: number; maxIters?: number; maxMs?: number } = {},
): { ops: number; opsPerSec: number; usPerOp: number } {
  const start = nowMs();
  let ops = 0;
  let elapsed = 0;
  while (ops < maxIters) {
    fn();
    ops++;
    // Read the clock every few ops only for very fast functions.
    if (ops >= minIters && (ops & 7) === 0) {
      elapsed = nowMs() - start;
      if (elapsed >= maxMs) break;
    }
  }
  elapsed = nowMs() - start;
  return { ops, opsPerSec: round((ops / elapsed) * 1000, 1), usPerOp: round((elapsed * 1000) / ops, 2) };
}

// ---------------------------------------------------------------- tables

/** Format a number for a table cell. */
export function fmt(value: number | undefined, digits = 2): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------- child processes

const live = new Set<ChildProcess>();

/** Kill every child still running (SIGKILL); safe to call from an 'exit' handler. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

/**
 * Start `node <script> ...args` with this Node binary. Its stdin is a pipe the child watches:
 * when this process dies, the pipe closes and the child stops itself, so no orphans remain
 * even if the bench is killed with SIGKILL.
 */
export function spawnNode(
  script: string,
  args: readonly string[],
  nodeArgs: readonly string[] = [],
): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', ...nodeArgs, script, ...args],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  // An exited child's stdin can fail with EPIPE; nothing is ever written to it.
  child.stdin?.on('error', () => {});
  return child;
}

/** Resolve with the first stdout line of `child` that parses as JSON. */
export function firstJsonLine<T>(child: ChildProcess, what: string, timeoutMs = 60_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => fail(new Error(`${what}: no ready line within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(new Error(`${what} exited (code ${code}, signal ${signal}) before it was ready`));
    function fail(error: Error) {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.close();
      reject(error);
    }
    child.once('exit', onExit);
    lines.on('line', (line) => {
      let parsed: T;
      try {
        parsed = JSON.parse(line) as T;
      } catch {
        return;
      }
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.close();
      // Keep draining stdout so a chatty child never blocks on a full pipe.
      child.stdout?.resume();
      resolve(parsed);
    });
  });
}

/** Collect stdout of `child` and resolve with its last JSON line when it exits with 0. */
export function lastJsonLineOnExit<T>(child: ChildProcess, what: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what}: did not finish within ${timeoutMs} ms (killed)`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${what} failed (exit code ${code}, signal ${signal}); see its stderr above`));
        return;
      }
      const last = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${what}: last stdout line is not JSON: ${last.slice(0, 200)}`));
      }
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stop this process when its parent goes away (stdin closes) or on SIGTERM/SIGINT. */
export function onParentGoneOrSignal(shutdown: () => void): void {
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

/** CPU seconds (user + system, all threads) a process used so far, from /proc; undefined off Linux. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted from "state" = field 3.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- JSON output

/**
 * JSON with two-space indent as the repository's formatter (biome) writes it: objects one key
 * per line, arrays of scalars on one line when that line fits in `width` columns.
 */
export function formatJson(value: unknown, width = 110): string {
  const walk = (v: unknown, indent: string, prefixLength: number): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      if (v.every((x) => x === null || typeof x !== 'object')) {
        const flat = `[${v.map((x) => JSON.stringify(x) ?? 'null').join(', ')}]`;
        if (prefixLength + flat.length + 1 <= width) return flat;
      }
      return `[\n${v.map((x) => `${inner}${walk(x, inner, inner.length)}`).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([k, x]) => {
      const key = `${inner}${JSON.stringify(k)}: `;
      return `${key}${walk(x, inner, key.length)}`;
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  };
  return walk(value, '', 0);
}
