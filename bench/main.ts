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
 *
 * This file runs the sections in order and writes the results; each section lives in its own
 * module: config.ts (flags), models.ts, servers.ts (server children), integrity.ts, latency.ts,
 * throughput.ts, receipts.ts, blobs.ts (+ blob-store.ts), common.ts (shared helpers).
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PlumbNode } from '../src/node/node.ts';
import { benchBlobStore } from './blob-store.ts';
import { printBlobs } from './blobs.ts';
import { benchDir, formatJson, killAllChildren, nowMs, round } from './common.ts';
import { type Config, readConfig } from './config.ts';
import { checkIntegrity, printIntegrity } from './integrity.ts';
import { benchLatency, printLatency } from './latency.ts';
import { prepareModels } from './models.ts';
import { benchReceipts, printReceipts } from './receipts.ts';
import { benchThroughput, printThroughput } from './throughput.ts';

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
