/**
 * 2. Throughput: req/s under N concurrent keep-alive connections, Plumb's server vs the bare
 * server, each in its own process, load from bench/load.ts in a third. `--profile` runs the
 * V8 CPU profiler in each Plumb server and keeps the profiles in bench/profiles/.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  benchDir,
  fmt,
  lastJsonLineOnExit,
  nowMs,
  processCpuSeconds,
  round,
  spawnNode,
  stopChild,
  table,
} from './common.ts';
import type { Config } from './config.ts';
import type { PreparedModel } from './models.ts';
import { formatProfileSummary, type ProfileSummary, summarizeProfile } from './profile-summary.ts';
import { type Ready, type Running, startServer } from './servers.ts';

const throughputTarget = 0.7;

type LoadResult = {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  totalRequests: number;
  wallSeconds: number;
  cpuCores: number;
  bodyBytes: number;
};
type ServerLoad = LoadResult & {
  /** Server CPU (all threads) per request over the whole run including warmup, in ms. */
  serverCpuMsPerReq: number | undefined;
  /** Server CPU over the run's wall time, in cores. */
  serverCores: number | undefined;
};
export type ThroughputResult = {
  concurrency: number;
  seconds: number;
  models: Record<string, { plumb: ServerLoad; bare: ServerLoad; ratio: number }>;
  minRatio: number;
  target: number;
  profiles?: Record<string, ProfileSummary>;
};

async function runLoad(name: string, ready: Ready, m: PreparedModel, cfg: Config): Promise<ServerLoad> {
  const cpu0 = processCpuSeconds(ready.pid);
  const t0 = nowMs();
  const child = spawnNode(join(benchDir, 'load.ts'), [
    '--url',
    ready.url,
    '--body',
    m.bodyPath,
    '--concurrency',
    String(cfg.concurrency),
    '--duration',
    String(cfg.loadSeconds),
    '--warmup',
    String(cfg.loadWarmupSeconds),
  ]);
  const budget = (cfg.loadSeconds + cfg.loadWarmupSeconds) * 1000 + 90_000;
  const result = await lastJsonLineOnExit<LoadResult>(child, `load on ${name} (${m.name})`, budget);
  const wall = (nowMs() - t0) / 1000;
  const cpu1 = processCpuSeconds(ready.pid);
  const cpu = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
  return {
    ...result,
    serverCpuMsPerReq: cpu === undefined ? undefined : round((cpu * 1000) / result.totalRequests, 3),
    serverCores: cpu === undefined ? undefined : round(cpu / wall, 2),
  };
}

export async function benchThroughput(
  models: PreparedModel[],
  cfg: Config,
  tmp: string,
): Promise<ThroughputResult> {
  const out: ThroughputResult['models'] = {};
  const profiles: Record<string, ProfileSummary> = {};
  for (const m of models) {
    // One server pair per model (see checkIntegrity in integrity.ts for why Plumb needs it);
    // bare gets the same.
    const profileFile = join(tmp, `plumb-${m.name}.cpuprofile`);
    const plumb = await startServer(
      'plumb-server.ts',
      [m],
      tmp,
      `plumb-${m.name}`,
      cfg.profile ? ['--profile-out', profileFile] : [],
    );
    let bare: Running | undefined;
    try {
      bare = await startServer('bare-server.ts', [m], tmp, `bare-${m.name}`);
      const plumbLoad = await runLoad('plumb-server', plumb.ready, m, cfg);
      const bareLoad = await runLoad('bare-server', bare.ready, m, cfg);
      out[m.name] = { plumb: plumbLoad, bare: bareLoad, ratio: round(plumbLoad.rps / bareLoad.rps, 3) };
    } finally {
      await Promise.all([stopChild(plumb.child), bare ? stopChild(bare.child) : undefined]);
    }
    if (cfg.profile) {
      if (!existsSync(profileFile))
        throw new Error(`bench: --profile: the Plumb server for ${m.name} wrote no profile`);
      const keep = join(benchDir, 'profiles');
      await mkdir(keep, { recursive: true });
      await copyFile(profileFile, join(keep, `plumb-${m.name}.cpuprofile`));
      profiles[m.name] = summarizeProfile(profileFile, 12);
    }
  }
  return {
    concurrency: cfg.concurrency,
    seconds: cfg.loadSeconds,
    models: out,
    minRatio: Math.min(...Object.values(out).map((x) => x.ratio)),
    target: throughputTarget,
    ...(cfg.profile ? { profiles } : {}),
  };
}

export function printThroughput(r: ThroughputResult, cfg: Config): void {
  console.log(
    `\n== 2. Throughput: ${r.concurrency} keep-alive connections, ${r.seconds} s measured after ${cfg.loadWarmupSeconds} s warmup ==`,
  );
  console.log(
    '   plumb = bench/plumb-server.ts (PlumbNode + serve), bare = bench/bare-server.ts (node:http + onnxruntime);',
  );
  console.log(
    '   each in its own process, load from bench/load.ts in a third process; same body, same session options.',
  );
  console.log(
    '   srv ms/req = server CPU (all threads) per request; srv/load cores = CPU used by the server/load process.',
  );
  if (cfg.profile)
    console.log(
      '   NOTE: --profile: the Plumb server ran under the V8 CPU profiler, so its figures are lower than usual.',
    );
  const rows = Object.entries(r.models).map(([name, x]) => [
    name,
    fmt(x.plumb.rps, 0),
    fmt(x.bare.rps, 0),
    fmt(x.ratio, 3),
    x.ratio >= r.target ? 'yes' : 'NO',
    `${fmt(x.plumb.p50Ms, 2)}/${fmt(x.plumb.p99Ms, 2)}`,
    `${fmt(x.bare.p50Ms, 2)}/${fmt(x.bare.p99Ms, 2)}`,
    `${fmt(x.plumb.serverCpuMsPerReq, 3)}/${fmt(x.bare.serverCpuMsPerReq, 3)}`,
    `${fmt(x.plumb.serverCores, 2)}/${fmt(x.bare.serverCores, 2)}`,
    `${fmt(x.plumb.cpuCores, 2)}/${fmt(x.bare.cpuCores, 2)}`,
  ]);
  console.log(
    table(
      [
        'model',
        'plumb req/s',
        'bare req/s',
        'plumb/bare',
        `>= ${r.target}`,
        'plumb p50/p99 ms',
        'bare p50/p99 ms',
        'srv ms/req p/b',
        'srv cores p/b',
        'load cores p/b',
      ],
      rows,
    ),
  );
  const verdict = r.minRatio >= r.target ? 'meets' : 'BELOW';
  console.log(`   lowest plumb/bare ratio ${fmt(r.minRatio, 3)}: ${verdict} the target of ${r.target}`);
  for (const [name, p] of Object.entries(r.profiles ?? {})) {
    console.log(
      `\n   Plumb server CPU profile for ${name} (V8 profiler, from listen to shutdown; bench/profiles/):`,
    );
    console.log(
      formatProfileSummary(p, false)
        .split('\n')
        .map((l) => `   ${l}`)
        .join('\n'),
    );
  }
}
