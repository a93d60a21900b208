/**
 * Load generator for the throughput bench, run as its own process so that neither server
 * shares an event loop with the client.
 *
 *   node bench/load.ts --url http://127.0.0.1:PORT --body body.json
 *        [--concurrency 16] [--duration 5] [--warmup 1] [--max-requests 1000000]
 *
 * `concurrency` workers each keep one keep-alive connection (node:http Agent) busy with
 * sequential POST /v1/infer requests. Responses completing during the first `warmup` seconds
 * are not counted; then responses completing within the next `duration` seconds are. Any
 * non-2xx response, socket error or 30 s request timeout fails the run (exit code 1, the
 * response on stderr). Bounded by time and by `max-requests`.
 *
 * Prints one JSON line: { requests, seconds, rps, p50Ms, p99Ms, totalRequests, cpuCores, ... }.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { nowMs, numberFlag, parseFlags, requireFlag, round, summarize } from './common.ts';

const flags = parseFlags(process.argv.slice(2));
const url = new URL('/v1/infer', requireFlag(flags, 'url'));
if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost')
  throw new Error(`load: refusing a non-loopback target ${url.host}`);
const body = readFileSync(requireFlag(flags, 'body'));
const concurrency = Math.max(1, Math.floor(numberFlag(flags, 'concurrency', 16)));
const durationMs = numberFlag(flags, 'duration', 5) * 1000;
const warmupMs = numberFlag(flags, 'warmup', 1) * 1000;
const maxRequests = Math.floor(numberFlag(flags, 'max-requests', 1_000_000));

const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });

function fail(message: string): never {
  process.stderr.write(`load: ${message}\n`);
  process.exit(1);
}

/** One POST; resolves with the response body, rejects on any non-2xx status. */
function post(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300)
            reject(new Error(`HTTP ${status} from ${url.href}: ${text.toString('utf8').slice(0, 1000)}`));
          else resolve(text);
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  // Watchdog: the run can never outlive its budget by much.
  setTimeout(() => fail('watchdog: run exceeded its time budget'), warmupMs + durationMs + 60_000).unref();

  // One checked request first: the answer must be JSON with outputs.
  const first = JSON.parse((await post()).toString('utf8')) as { outputs?: unknown };
  if (typeof first.outputs !== 'object' || first.outputs === null) fail('first response has no "outputs"');

  const start = nowMs();
  const measureStart = start + warmupMs;
  const end = measureStart + durationMs;
  let issued = 0;
  let completed = 0;
  let counted = 0;
  let lastCompletion = measureStart;
  const latencies: number[] = [];
  let cpuAtMeasure: NodeJS.CpuUsage | undefined;

  const worker = async () => {
    while (issued < maxRequests) {
      const sent = nowMs();
      if (sent >= end) break;
      issued++;
      await post();
      const done = nowMs();
      completed++;
      if (done >= measureStart && !cpuAtMeasure) cpuAtMeasure = process.cpuUsage();
      if (done >= measureStart && done <= end) {
        counted++;
        lastCompletion = done;
        if (sent >= measureStart) latencies.push(done - sent);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const finished = nowMs();
  const cpu = process.cpuUsage(cpuAtMeasure);
  // Shorter than `duration` only if max-requests stopped the run early.
  const windowMs = Math.max(1, (issued >= maxRequests ? lastCompletion : end) - measureStart);
  const s = summarize(latencies);
  const result = {
    url: url.href,
    concurrency,
    requests: counted,
    seconds: round(windowMs / 1000, 3),
    rps: round((counted / windowMs) * 1000, 1),
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    meanMs: s.meanMs,
    totalRequests: completed + 1,
    wallSeconds: round((finished - start) / 1000, 3),
    /** CPU the load generator itself used during the measured window, in cores. */
    cpuCores: round((cpu.user + cpu.system) / 1000 / Math.max(1, finished - measureStart), 2),
    bodyBytes: body.length,
  };
  agent.destroy();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

// The parent's death ends the run too.
process.stdin.on('close', () => fail('parent went away'));
process.stdin.on('error', () => {});
process.stdin.resume();

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
