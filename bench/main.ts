/**
 * Plumb bench: Plumb against the bare baseline it wraps, side by side, in one run.
 *
 *   npm run bench [-- --quick] [-- --only latency,throughput,receipts,blobs]
 *                 [-- --concurrency 16] [-- --profile]
 *
 * 1. latency     sequential POST /v1/infer through Plumb's HTTP server (serve(node) on
 *                127.0.0.1, fetch from this process) vs infer() called in-process vs a bare
 *                onnxruntime session.run on the same input.
 * 2. throughput  req/s under N concurrent keep-alive connections: Plumb's server
 *                (bench/plumb-server.ts) vs a bare node:http + onnxruntime server
 *                (bench/bare-server.ts), each in its own process, load from a third process
 *                (bench/load.ts). Same request body, same session options.
 * 3. receipts    buildReceipt / verifyReceipt per second over a 784-float input and a 10-float
 *                output, vs plain SHA-256 of the same encoded tensors.
 * 4. blobs       BlobStore write/read MB/s vs plain file copy/read (bench/blob-store.ts).
 *
 * Models: 1l_mlp and 3l_relu_conv_fc from the ezkl corpus, mlp-784-128-10 built in code, and
 * mlp-784-2048x2-10 (built in code, ~6M multiply-adds) to show where the ratio goes once the
 * model, not the request, is the work.
 * Prints tables, then the results as JSON (also written to bench/results.json). `--profile`
 * runs the V8 CPU profiler in each Plumb server child while it serves, prints where its time
 * goes, and keeps the .cpuprofile files in bench/profiles/.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { cidOf } from '../src/core/cid.ts';
import { encodeTensors, hashTensors } from '../src/core/encoding.ts';
import { toHex } from '../src/core/hash.ts';
import { parseInputs } from '../src/core/inputs.ts';
import type { TensorInfo } from '../src/core/manifest.ts';
import { buildReceipt, digestOf, randomNonce, verifyReceipt } from '../src/core/receipt.ts';
import { recoverAddress } from '../src/core/secp256k1.ts';
import { type TensorMap, tensorMapToJson } from '../src/core/tensor.ts';
import { infer } from '../src/node/infer.ts';
import { PlumbNode } from '../src/node/node.ts';
import { pushModel } from '../src/node/push-model.ts';
import { buildMlp, seededRandom } from '../test/fixtures/onnx-builder.ts';
import { type BlobStoreBench, benchBlobStore } from './blob-store.ts';
import {
  type BenchModel,
  firstJsonLine,
  fmt,
  formatJson,
  killAllChildren,
  type LatencySummary,
  lastJsonLineOnExit,
  nowMs,
  numberFlag,
  opsPerSecond,
  parseFlags,
  processCpuSeconds,
  round,
  spawnNode,
  stopChild,
  summarize,
  table,
} from './common.ts';
import { formatProfileSummary, type ProfileSummary, summarizeProfile } from './profile-summary.ts';

const sections = ['latency', 'throughput', 'receipts', 'blobs'] as const;
type Section = (typeof sections)[number];

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const corpusDir = '/work/shared/corpus/ezkl';
const throughputTarget = 0.7;

type Config = {
  quick: boolean;
  only: Section[];
  latencyRequests: number;
  latencyWarmup: number;
  /** Bound on each latency sample loop, in ms. */
  latencyMaxMs: number;
  concurrency: number;
  loadSeconds: number;
  loadWarmupSeconds: number;
  receiptMs: number;
  blobMb: number;
  profile: boolean;
};

function readConfig(argv: readonly string[]): Config {
  const flags = parseFlags(argv);
  for (const key of flags.keys())
    if (!['quick', 'only', 'concurrency', 'profile'].includes(key))
      throw new Error(`unknown option --${key} (known: --quick, --only, --concurrency, --profile)`);
  const quick = flags.has('quick');
  const onlyText = flags.get('only');
  const only = onlyText ? onlyText.split(',').map((s) => s.trim()) : [...sections];
  for (const s of only)
    if (!sections.includes(s as Section))
      throw new Error(`--only: unknown section "${s}" (known: ${sections.join(', ')})`);
  return {
    quick,
    only: only as Section[],
    latencyRequests: quick ? 100 : 300,
    latencyWarmup: quick ? 20 : 50,
    latencyMaxMs: quick ? 10_000 : 30_000,
    concurrency: Math.max(1, Math.floor(numberFlag(flags, 'concurrency', 16))),
    loadSeconds: quick ? 2 : 5,
    loadWarmupSeconds: quick ? 0.5 : 1,
    receiptMs: quick ? 700 : 2000,
    blobMb: quick ? 20 : 100,
    profile: flags.has('profile'),
  };
}

// ---------------------------------------------------------------- models

type PreparedModel = BenchModel & {
  bytes: Uint8Array;
  cid: string;
  /** The request's inputs as Plumb parses them (for the bare in-process run). */
  tensors: TensorMap;
  body: string;
};

type ModelSource = {
  name: string;
  bytes: Uint8Array;
  inputsFor: (declared: readonly TensorInfo[]) => unknown;
};

function modelSources(): ModelSource[] {
  const corpus = (name: string): ModelSource => {
    const ezkl = JSON.parse(readFileSync(join(corpusDir, name, 'input.json'), 'utf8')) as {
      input_data: unknown[][];
    };
    return {
      name,
      bytes: new Uint8Array(readFileSync(join(corpusDir, name, 'network.onnx'))),
      // Plumb tensor-map form with the corpus values as written; shapes as Plumb resolves them.
      inputsFor: (declared) => {
        const parsed = parseInputs(ezkl, declared);
        return Object.fromEntries(
          declared.map((info, i) => [
            info.name,
            {
              dtype: info.dtype,
              shape: [...parsed[info.name]!.shape],
              data: ezkl.input_data[i]!.flat(Infinity),
            },
          ]),
        );
      },
    };
  };
  const mlp = buildMlp({ sizes: [784, 128, 10], seed: 1 });
  const wide = buildMlp({ sizes: [784, 2048, 2048, 10], seed: 2 });
  const random = seededRandom(42);
  const data = Array.from({ length: 784 }, () => Math.round(random() * 1e4) / 1e4);
  return [
    corpus('1l_mlp'),
    corpus('3l_relu_conv_fc'),
    {
      name: 'mlp-784-128-10',
      bytes: mlp.bytes,
      inputsFor: () => ({ [mlp.inputName]: { dtype: 'float32', shape: [1, 784], data } }),
    },
    {
      name: 'mlp-784-2048x2-10',
      bytes: wide.bytes,
      inputsFor: () => ({ [wide.inputName]: { dtype: 'float32', shape: [1, 784], data } }),
    },
  ];
}

async function prepareModels(node: PlumbNode, dir: string): Promise<PreparedModel[]> {
  const out: PreparedModel[] = [];
  for (const source of modelSources()) {
    const repo = `bench/${source.name}`;
    const pushed = await pushModel(node, { source: source.bytes, repo });
    const inputs = source.inputsFor(pushed.manifest.inputs);
    const body = JSON.stringify({ model: repo, inputs });
    const path = join(dir, `${source.name}.onnx`);
    const bodyPath = join(dir, `${source.name}.body.json`);
    await writeFile(path, source.bytes);
    await writeFile(bodyPath, body);
    const tensors = parseInputs(inputs, pushed.manifest.inputs);
    out.push({
      name: source.name,
      repo,
      path,
      bodyPath,
      bytes: source.bytes,
      cid: pushed.cid,
      tensors,
      body,
    });
  }
  return out;
}

// ---------------------------------------------------------------- server children

type Ready = { url: string; pid: number };
type Running = { child: ChildProcess; ready: Ready };

/** Start bench/plumb-server.ts or bench/bare-server.ts serving `models`; wait for its URL. */
async function startServer(
  script: 'plumb-server.ts' | 'bare-server.ts',
  models: readonly PreparedModel[],
  tmp: string,
  tag: string,
  extraArgs: readonly string[] = [],
): Promise<Running> {
  const specPath = join(tmp, `spec-${tag}.json`);
  const spec = { models: models.map(({ name, repo, path, bodyPath }) => ({ name, repo, path, bodyPath })) };
  await writeFile(specPath, JSON.stringify(spec));
  // Plumb's data dir lives in the bench's temp dir, so it goes even if the child is killed.
  const dataDir = script === 'plumb-server.ts' ? ['--data-dir', join(tmp, `data-${tag}`)] : [];
  const child = spawnNode(join(benchDir, script), ['--spec', specPath, ...dataDir, ...extraArgs]);
  try {
    return { child, ready: await firstJsonLine<Ready>(child, `${script} (${tag})`) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/**
 * One POST /v1/infer over a raw TCP connection with `Connection: close`, reading every byte the
 * server sends until it closes: the declared Content-Length and the real body length.
 */
function rawPost(
  url: string,
  body: string,
): Promise<{ status: number; contentLength: number; bodyBytes: number; text: string }> {
  const u = new URL(url);
  const payload = Buffer.from(body);
  const head =
    `POST /v1/infer HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer within 30 s')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error('no HTTP header in the answer'));
      const lines = all.subarray(0, split).toString('latin1').split('\r\n');
      const header = lines.find((l) => /^content-length:/i.test(l));
      const bodyBuf = all.subarray(split + 4);
      resolve({
        status: Number(lines[0]?.split(' ')[1] ?? 0),
        contentLength: header ? Number(header.slice(header.indexOf(':') + 1)) : Number.NaN,
        bodyBytes: bodyBuf.length,
        text: bodyBuf.toString('utf8'),
      });
    });
    socket.write(head);
    socket.write(payload);
  });
}

type IntegrityResult = {
  /** True when one Plumb server hosting all models answered each with its own, right Content-Length. */
  responsesIntact: boolean;
  models: {
    name: string;
    status: number;
    contentLength: number;
    bodyBytes: number;
    parses: boolean;
  }[];
};

/**
 * One Plumb server, all models, one request each (smallest receipt first), on fresh
 * connections: does each answer declare the length of the body actually sent?
 */
async function checkIntegrity(
  node: PlumbNode,
  models: PreparedModel[],
  tmp: string,
): Promise<IntegrityResult> {
  const sizes = new Map<string, number>();
  for (const m of models) {
    const { json } = await infer(node, {
      model: m.repo,
      inputs: (JSON.parse(m.body) as { inputs: unknown }).inputs,
    });
    sizes.set(m.name, Buffer.byteLength(json));
  }
  const ordered = [...models].sort((a, b) => sizes.get(a.name)! - sizes.get(b.name)!);
  const server = await startServer('plumb-server.ts', ordered, tmp, 'integrity');
  const out: IntegrityResult['models'] = [];
  try {
    for (const m of ordered) {
      const r = await rawPost(server.ready.url, m.body);
      let parses = true;
      try {
        JSON.parse(r.text);
      } catch {
        parses = false;
      }
      out.push({
        name: m.name,
        status: r.status,
        contentLength: r.contentLength,
        bodyBytes: r.bodyBytes,
        parses,
      });
    }
  } finally {
    await stopChild(server.child);
  }
  const ok = out.every((x) => x.status === 200 && x.parses && x.contentLength === x.bodyBytes);
  return { responsesIntact: ok, models: out };
}

function printIntegrity(r: IntegrityResult): void {
  console.log('\n== 0. Response integrity: one Plumb server hosting all models, one POST /v1/infer each ==');
  console.log(
    table(
      ['model (in request order)', 'HTTP', 'declared Content-Length', 'body bytes sent', 'body is JSON'],
      r.models.map((x) => [
        x.name,
        String(x.status),
        String(x.contentLength),
        String(x.bodyBytes),
        x.parses ? 'yes' : 'NO',
      ]),
    ),
  );
  if (!r.responsesIntact) {
    console.log(
      '   WARNING: Plumb answers with a stale Content-Length: every /v1/infer response after the first',
    );
    console.log("   carries the first response's length (longer receipts are cut, shorter ones overrun).");
    console.log('   Cause: src/api/routes/inference.ts passes one shared `jsonHeaders` object to every');
    console.log('   `new Response(...)`, and @hono/node-server writes Content-Length into that object.');
    console.log(
      '   The bench therefore gives each model its own Plumb server process (fixed-size receipts).',
    );
  }
}

// ---------------------------------------------------------------- 1. latency

type LatencyResult = {
  requests: number;
  plumbHttp: LatencySummary;
  /** The same request to bench/bare-server.ts: the cost of HTTP + JSON alone. */
  bareHttp: LatencySummary;
  plumbInfer: LatencySummary;
  bareOrt: LatencySummary;
  /** Plumb HTTP over bare session.run. */
  ratioP50: number;
  ratioP99: number;
  /** Largest |Plumb output - bare output|: both must compute the same thing. */
  outputsMaxAbsDiff: number;
};

async function sampleAsync(fn: () => Promise<unknown>, n: number, maxMs: number): Promise<number[]> {
  const samples: number[] = [];
  const deadline = nowMs() + maxMs;
  for (let i = 0; i < n && nowMs() < deadline; i++) {
    const t = nowMs();
    await fn();
    samples.push(nowMs() - t);
  }
  return samples;
}

function ortFeeds(tensors: TensorMap): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32')
      throw new Error(`bench: input ${name} is ${t.dtype}; the bench feeds float32 only`);
    feeds[name] = new ort.Tensor('float32', t.data, [...t.shape]);
  }
  return feeds;
}

async function benchLatency(
  node: PlumbNode,
  models: PreparedModel[],
  cfg: Config,
  tmp: string,
): Promise<Record<string, LatencyResult>> {
  const results: Record<string, LatencyResult> = {};
  for (const m of models) {
    const server = await startServer('plumb-server.ts', [m], tmp, `latency-${m.name}`);
    let bareServer: Running | undefined;
    const session = await ort.InferenceSession.create(m.bytes, { graphOptimizationLevel: 'all' });
    try {
      bareServer = await startServer('bare-server.ts', [m], tmp, `latency-bare-${m.name}`);
      const post = (url: string, who: string) => async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: m.body,
        });
        const text = await res.text();
        if (!res.ok)
          throw new Error(`${who} answered HTTP ${res.status} for ${m.name}: ${text.slice(0, 500)}`);
        return text;
      };
      const overHttp = post(`${server.ready.url}/v1/infer`, 'Plumb');
      const bareHttp = post(`${bareServer.ready.url}/v1/infer`, 'the bare server');
      const inputs = (JSON.parse(m.body) as { inputs: unknown }).inputs;
      const direct = () => infer(node, { model: m.repo, inputs });
      const bare = () => session.run(ortFeeds(m.tensors));

      // The HTTP answer must be a valid receipt with the outputs bare onnxruntime computes.
      const receipt = JSON.parse(await overHttp()) as { outputs: Record<string, { data: number[] }> };
      const verdict = verifyReceipt(receipt);
      if (!verdict.valid)
        throw new Error(`bench: Plumb's receipt for ${m.name} does not verify: ${verdict.reason}`);
      const bareOut = await bare();
      let maxDiff = 0;
      for (const name of session.outputNames) {
        const a = receipt.outputs[name]?.data;
        const b = (bareOut[name] as ort.Tensor).data as Float32Array;
        if (!a || a.length !== b.length)
          throw new Error(`bench: output ${name} of ${m.name} differs in size`);
        for (let i = 0; i < b.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
      }

      for (let i = 0; i < cfg.latencyWarmup; i++) {
        await overHttp();
        await bareHttp();
        await direct();
        await bare();
      }
      const n = cfg.latencyRequests;
      const plumbHttp = summarize(await sampleAsync(overHttp, n, cfg.latencyMaxMs));
      const bareServerHttp = summarize(await sampleAsync(bareHttp, n, cfg.latencyMaxMs));
      const plumbInfer = summarize(await sampleAsync(direct, n, cfg.latencyMaxMs));
      const bareOrt = summarize(await sampleAsync(bare, n, cfg.latencyMaxMs));
      results[m.name] = {
        requests: n,
        plumbHttp,
        bareHttp: bareServerHttp,
        plumbInfer,
        bareOrt,
        ratioP50: round(plumbHttp.p50Ms / bareOrt.p50Ms, 1),
        ratioP99: round(plumbHttp.p99Ms / bareOrt.p99Ms, 1),
        outputsMaxAbsDiff: maxDiff,
      };
    } finally {
      await Promise.all([stopChild(server.child), bareServer ? stopChild(bareServer.child) : undefined]);
      await session.release();
    }
  }
  return results;
}

function printLatency(r: Record<string, LatencyResult>, cfg: Config): void {
  console.log(
    `\n== 1. Latency: ${cfg.latencyRequests} sequential infers per model after ${cfg.latencyWarmup} warmup, in ms ==`,
  );
  for (const line of [
    'HTTP     = fetch POST /v1/infer (keep-alive) to serve(node) on 127.0.0.1 in a child process,',
    '           incl. reading the whole receipt body',
    'bareHTTP = the same request and client against bench/bare-server.ts in a child process',
    '           (what HTTP + JSON cost alone on this machine)',
    'infer()  = Plumb infer() in this process (parse, check, run, hash, sign, store receipt), no HTTP',
    'bare     = onnxruntime session.run on the same input tensors, in this process',
    'HTTP/bare = Plumb HTTP over bare session.run',
  ])
    console.log(`   ${line}`);
  const rows = Object.entries(r).map(([name, x]) => [
    name,
    fmt(x.plumbHttp.p50Ms, 3),
    fmt(x.plumbHttp.p99Ms, 3),
    fmt(x.bareHttp.p50Ms, 3),
    fmt(x.bareHttp.p99Ms, 3),
    fmt(x.plumbInfer.p50Ms, 3),
    fmt(x.plumbInfer.p99Ms, 3),
    fmt(x.bareOrt.p50Ms, 3),
    fmt(x.bareOrt.p99Ms, 3),
    `${fmt(x.ratioP50, 1)}x`,
    `${fmt(x.ratioP99, 1)}x`,
    x.outputsMaxAbsDiff.toExponential(1),
  ]);
  console.log(
    table(
      [
        'model',
        'HTTP p50',
        'HTTP p99',
        'bareHTTP p50',
        'bareHTTP p99',
        'infer() p50',
        'infer() p99',
        'bare p50',
        'bare p99',
        'HTTP/bare p50',
        'HTTP/bare p99',
        'max |diff|',
      ],
      rows,
    ),
  );
}

// ---------------------------------------------------------------- 2. throughput

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
type ThroughputResult = {
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

async function benchThroughput(models: PreparedModel[], cfg: Config, tmp: string): Promise<ThroughputResult> {
  const out: ThroughputResult['models'] = {};
  const profiles: Record<string, ProfileSummary> = {};
  for (const m of models) {
    // One server pair per model: see checkIntegrity for why Plumb needs it; bare gets the same.
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

function printThroughput(r: ThroughputResult, cfg: Config): void {
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

// ---------------------------------------------------------------- 3. receipts

type Rate = { opsPerSec: number; usPerOp: number; ops: number };
type ReceiptsResult = {
  inputFloats: number;
  outputFloats: number;
  receiptBytes: number;
  sign: Rate;
  verify: Rate;
  baselineSha256: Rate;
  components: Record<string, Rate>;
  signVsBaseline: number;
  verifyVsBaseline: number;
};

function benchReceipts(node: PlumbNode, maxMs: number): ReceiptsResult {
  const mlp = buildMlp({ sizes: [784, 128, 10], seed: 1 });
  const random = seededRandom(7);
  const x = Float32Array.from({ length: 784 }, () => random());
  const inputs: TensorMap = { input: { dtype: 'float32', shape: [1, 784], data: x } };
  const outputs: TensorMap = { output: { dtype: 'float32', shape: [1, 10], data: mlp.forward(x) } };
  const modelCid = cidOf(mlp.bytes);
  const key = node.key;
  const build = () =>
    buildReceipt({
      domain: node.domain,
      modelCid,
      model: { repo: 'bench/mlp-784-128-10', version: '1.0.0' },
      inputs,
      outputs,
      mode: 'signed',
      node: key.address,
      nonce: randomNonce(),
      timestamp: Date.now(),
      sign: key.sign,
    });
  const receipt = build();
  const receiptText = JSON.stringify(receipt);
  const receiptJson = JSON.parse(receiptText) as unknown;
  const check = verifyReceipt(receiptJson);
  if (!check.valid) throw new Error(`bench: a fresh receipt does not verify: ${check.reason}`);
  const encIn = encodeTensors(inputs);
  const encOut = encodeTensors(outputs);
  const digest = digestOf(node.domain, receipt);
  if (toHex(digest) !== receipt.id) throw new Error('bench: digestOf disagrees with the receipt id');
  const signature = receipt.evidence.signature as `0x${string}`;
  const opts = { maxMs, minIters: 20 };

  const sign = opsPerSecond(build, opts);
  const verify = opsPerSecond(() => {
    if (!verifyReceipt(receiptJson).valid) throw new Error('bench: receipt stopped verifying');
  }, opts);
  const baselineSha256 = opsPerSecond(() => {
    createHash('sha256').update(encIn).digest();
    createHash('sha256').update(encOut).digest();
  }, opts);
  const part = (fn: () => unknown) => opsPerSecond(fn, { maxMs: Math.max(200, maxMs / 4), minIters: 20 });
  const components: Record<string, Rate> = {
    'hashTensors(in)+hashTensors(out)': part(() => {
      hashTensors(inputs);
      hashTensors(outputs);
    }),
    'EIP-712 digest (digestOf)': part(() => digestOf(node.domain, receipt)),
    'secp256k1 sign (node key)': part(() => key.sign(digest)),
    'tensorMapToJson(in)+(out)': part(() => {
      tensorMapToJson(inputs);
      tensorMapToJson(outputs);
    }),
    'JSON.stringify(receipt)': part(() => JSON.stringify(receipt)),
    'JSON.parse(receipt)': part(() => JSON.parse(receiptText)),
    'recoverAddress (verify side)': part(() => recoverAddress(digest, signature)),
  };
  return {
    inputFloats: 784,
    outputFloats: 10,
    receiptBytes: Buffer.byteLength(receiptText),
    sign,
    verify,
    baselineSha256,
    components,
    signVsBaseline: round(sign.opsPerSec / baselineSha256.opsPerSec, 4),
    verifyVsBaseline: round(verify.opsPerSec / baselineSha256.opsPerSec, 4),
  };
}

function printReceipts(r: ReceiptsResult): void {
  console.log(
    `\n== 3. Receipts: ${r.inputFloats}-float input, ${r.outputFloats}-float output, single thread ==`,
  );
  console.log(
    '   baseline = node:crypto sha256 of the canonically encoded input tensors + of the output tensors',
  );
  console.log(
    '   (2 digests per op, encodings precomputed): the floor any receipt must pay for its two hashes.',
  );
  const row = (name: string, x: Rate, vs?: number) => [
    name,
    fmt(x.opsPerSec, 1),
    fmt(x.usPerOp, 2),
    vs === undefined ? '' : `${fmt(vs * 100, 2)}%`,
  ];
  console.log(
    table(
      ['operation', 'ops/s', 'us/op', 'vs baseline'],
      [
        row('buildReceipt (hash + EIP-712 + sign + JSON form)', r.sign, r.signVsBaseline),
        row('verifyReceipt (zod + re-hash + recover)', r.verify, r.verifyVsBaseline),
        row('baseline: sha256(enc(in)) + sha256(enc(out))', r.baselineSha256),
        ...Object.entries(r.components).map(([name, x]) => row(`  part: ${name}`, x)),
      ],
    ),
  );
  console.log(`   receipt JSON size: ${r.receiptBytes} bytes (inputs included)`);
}

// ---------------------------------------------------------------- 4. blobs

function printBlobs(b: BlobStoreBench): void {
  console.log(`\n== 4. Blob store: ${b.sizeMb} MB random file, MB/s (reads from page cache) ==`);
  const ratio = (a: number, p: number) => `${fmt(a / p, 2)}x`;
  console.log(
    table(
      ['operation', 'BlobStore', 'plain', 'store/plain'],
      [
        [
          'write, streamed from a file (+fsync)',
          fmt(b.writeMBps, 1),
          fmt(b.copyWriteMBps, 1),
          ratio(b.writeMBps, b.copyWriteMBps),
        ],
        [
          'write, bytes in memory (+fsync)',
          fmt(b.putBufferMBps, 1),
          fmt(b.plainWriteMBps, 1),
          ratio(b.putBufferMBps, b.plainWriteMBps),
        ],
        [
          'read, stream to end (+re-hash)',
          fmt(b.readMBps, 1),
          fmt(b.copyReadMBps, 1),
          ratio(b.readMBps, b.copyReadMBps),
        ],
        [
          'read, get() whole (+re-hash)',
          fmt(b.getMBps, 1),
          fmt(b.copyReadMBps, 1),
          ratio(b.getMBps, b.copyReadMBps),
        ],
        [
          'hash only: cidOf vs one sha256',
          fmt(b.cidMBps, 1),
          fmt(b.sha256MBps, 1),
          ratio(b.cidMBps, b.sha256MBps),
        ],
      ],
    ),
  );
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  let cfg: Config;
  try {
    cfg = readConfig(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    console.error(
      'usage: npm run bench -- [--quick] [--only latency,throughput,receipts,blobs] [--concurrency N] [--profile]',
    );
    process.exit(2);
  }
  const tmp = await mkdtemp(join(tmpdir(), 'plumb-bench-'));
  // No orphans, no leftovers: on any exit, kill children and remove the temp dir.
  process.on('exit', () => {
    killAllChildren();
    rmSync(tmp, { recursive: true, force: true });
  });
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));

  const started = nowMs();
  const results: Record<string, unknown> = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      onnxruntime: ort.env.versions.common ?? 'unknown',
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      quick: cfg.quick,
      only: cfg.only,
      profile: cfg.profile,
    },
  };
  console.log(
    `Plumb bench${cfg.quick ? ' (--quick)' : ''}: ${cfg.only.join(', ')} | node ${process.version}, onnxruntime ${ort.env.versions.common}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`,
  );

  let node: PlumbNode | undefined;
  try {
    const needsModels = cfg.only.some((s) => s !== 'blobs');
    if (needsModels) {
      const dataDir = join(tmp, 'node');
      const modelDir = join(tmp, 'models');
      await mkdir(modelDir, { recursive: true });
      node = new PlumbNode({ dataDir, host: '127.0.0.1', port: 0 });
      await node.start();
      const models = await prepareModels(node, modelDir);
      console.log(
        `models: ${models.map((m) => `${m.name} (${m.bytes.length} B, body ${Buffer.byteLength(m.body)} B)`).join(', ')}`,
      );

      if (cfg.only.includes('latency') || cfg.only.includes('throughput')) {
        const r = await checkIntegrity(node, models, tmp);
        results['integrity'] = r;
        printIntegrity(r);
      }
      if (cfg.only.includes('latency')) {
        const r = await benchLatency(node, models, cfg, tmp);
        results['latency'] = r;
        printLatency(r, cfg);
      }
      if (cfg.only.includes('throughput')) {
        const r = await benchThroughput(models, cfg, tmp);
        results['throughput'] = r;
        printThroughput(r, cfg);
      }
      if (cfg.only.includes('receipts')) {
        const r = benchReceipts(node, cfg.receiptMs);
        results['receipts'] = r;
        printReceipts(r);
      }
    }
    if (cfg.only.includes('blobs')) {
      const r = await benchBlobStore({ sizeMb: cfg.blobMb });
      results['blobs'] = r;
      printBlobs(r);
    }
  } finally {
    await node?.stop();
  }

  (results['meta'] as Record<string, unknown>)['seconds'] = round((nowMs() - started) / 1000, 1);
  const json = formatJson(results);
  const resultsPath = join(benchDir, 'results.json');
  await writeFile(resultsPath, `${json}\n`);
  console.log(`\n== Results JSON (also written to ${resultsPath}) ==`);
  console.log(json);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
