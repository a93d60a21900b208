/**
 * 1. Latency: sequential POST /v1/infer through Plumb's server vs the bare server vs infer()
 * in-process vs a bare onnxruntime session.run, on the same input.
 */
import * as ort from 'onnxruntime-node';
import { verifyReceipt } from '../src/core/receipt.ts';
import type { TensorMap } from '../src/core/tensor.ts';
import { infer } from '../src/node/infer.ts';
import type { PlumbNode } from '../src/node/node.ts';
import { fmt, type LatencySummary, nowMs, round, stopChild, summarize, table } from './common.ts';
import type { Config } from './config.ts';
import type { PreparedModel } from './models.ts';
import { type Running, startServer } from './servers.ts';

export type LatencyResult = {
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

export async function benchLatency(
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

export function printLatency(r: Record<string, LatencyResult>, cfg: Config): void {
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
