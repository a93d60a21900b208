/**
 * The baseline server for the throughput bench: node:http + onnxruntime-node, nothing else.
 * It takes the same POST /v1/infer body as Plumb ({ model, inputs: { name: { dtype, shape,
 * data } } }), runs the session and answers { outputs } as JSON. No schema validation, no
 * hashing, no signing, no storage. Sessions use the options Plumb's OnnxRuntime uses
 * (graphOptimizationLevel 'all', onnxruntime's default thread counts).
 *
 *   node bench/bare-server.ts --spec <spec.json>
 *
 * Prints one JSON line { url, pid } when listening; stops on SIGTERM/SIGINT or when its
 * parent closes stdin.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ort from 'onnxruntime-node';
import { onParentGoneOrSignal, parseFlags, readSpec, requireFlag } from './common.ts';

type JsonTensor = { dtype: string; shape: number[]; data: unknown[] };

function toOrt(t: JsonTensor): ort.Tensor {
  const d = t.data;
  switch (t.dtype) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(d as number[]), t.shape);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(d as number[]), t.shape);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(d as number[]), t.shape);
    case 'int64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(d, (v) => BigInt(v as number | string)),
        t.shape,
      );
    case 'uint8':
      return new ort.Tensor('uint8', Uint8Array.from(d as number[]), t.shape);
    case 'bool':
      return new ort.Tensor(
        'bool',
        Uint8Array.from(d, (v) => (v === true || v === 1 ? 1 : 0)),
        t.shape,
      );
    default:
      throw new Error(`dtype ${t.dtype} not handled by the bare server`);
  }
}

function toJson(t: ort.Tensor): JsonTensor {
  const data = t.data as ArrayLike<unknown>;
  const values =
    t.type === 'int64' || t.type === 'uint64'
      ? Array.from(data as ArrayLike<bigint>, (v) => v.toString())
      : Array.from(data);
  return { dtype: t.type, shape: t.dims.map(Number), data: values };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const spec = readSpec(requireFlag(flags, 'spec'));
  const threads = Number(process.env['PLUMB_BENCH_INTRA_OP'] ?? 0);
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(threads ? { intraOpNumThreads: threads } : {}),
  };
  const sessions = new Map<string, ort.InferenceSession>();
  for (const m of spec.models)
    sessions.set(m.repo, await ort.InferenceSession.create(readFileSync(m.path), options));

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    if (req.method !== 'POST' || req.url !== '/v1/infer') return send(res, 404, { error: 'not found' });
    let body: { model?: unknown; inputs?: unknown };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      return send(res, 400, { error: 'body is not JSON' });
    }
    const session = typeof body.model === 'string' ? sessions.get(body.model) : undefined;
    if (!session) return send(res, 404, { error: `no model ${String(body.model)}` });
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(body.inputs as Record<string, JsonTensor>)) feeds[name] = toOrt(t);
    const results = await session.run(feeds);
    const outputs: Record<string, JsonTensor> = {};
    for (const name of session.outputNames) outputs[name] = toJson(results[name] as ort.Tensor);
    send(res, 200, { outputs });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, { error: String(error) });
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let stopping = false;
  onParentGoneOrSignal(() => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeAllConnections();
    Promise.allSettled([...sessions.values()].map((s) => s.release())).finally(() => process.exit(0));
  });
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bare-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
