/**
 * 0. Response integrity: one Plumb server hosting every model, one raw POST /v1/infer each;
 * does each answer declare the length of the body it actually sends?
 */
import { connect } from 'node:net';
import { infer } from '../src/node/infer.ts';
import type { PlumbNode } from '../src/node/node.ts';
import { stopChild, table } from './common.ts';
import type { PreparedModel } from './models.ts';
import { startServer } from './servers.ts';

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

export type IntegrityResult = {
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
export async function checkIntegrity(
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

export function printIntegrity(r: IntegrityResult): void {
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
