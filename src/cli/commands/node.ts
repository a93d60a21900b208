/** `plumb node start | info` */
import { serve } from '../../api/serve.ts';
import { anvilBinary } from '../../chain/devnet.ts';
import { getNodeInfo } from '../../sdk/actions/getNodeInfo.ts';
import { type CommandContext, openSession, print, printJson, startLocalNode } from '../context.ts';

export type NodeStartOptions = {
  port?: number | undefined;
  host?: string | undefined;
  /** zk setups and proofs run at once (default 1); more wait in a queue. */
  zkConcurrency?: number | undefined;
  settleBatchSize?: number | undefined;
  settleIntervalSeconds?: number | undefined;
  signal?: AbortSignal;
};

/** Start a node and serve its API until `signal` aborts (the entry point wires SIGINT/SIGTERM). */
export async function nodeStart(ctx: CommandContext, o: NodeStartOptions): Promise<void> {
  // The daemon is on a chain by default: the embedded devnet, where this platform has one.
  const devnet = anvilBinary() !== undefined;
  if (!ctx.noChain && !ctx.rpc && !devnet && !ctx.json)
    ctx.stderr.write(
      `plumb: no embedded devnet for ${process.platform}-${process.arch}: running without a chain (pass --rpc URL for one)\n`,
    );
  const node = await startLocalNode(
    ctx,
    {
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.host !== undefined ? { host: o.host } : {}),
      ...(o.zkConcurrency !== undefined ? { zkConcurrency: o.zkConcurrency } : {}),
      ...(o.settleBatchSize !== undefined ? { settleBatchSize: o.settleBatchSize } : {}),
      ...(o.settleIntervalSeconds !== undefined
        ? { settleIntervalMs: Math.max(100, Math.round(o.settleIntervalSeconds * 1000)) }
        : {}),
      autoSettle: true,
      serveRequests: true,
    },
    { chain: !ctx.noChain && (devnet || ctx.rpc !== undefined) },
  );
  if (!ctx.json) node.log = (line) => ctx.stderr.write(`plumb: ${line}\n`);
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    server = await serve(node);
    const info = {
      url: server.url,
      address: node.key.address,
      dataDir: node.config.dataDir,
      keyCreated: node.keyCreated,
      ...(node.chain ? { chain: node.chain.summary } : {}),
    };
    if (ctx.json) printJson(ctx, info);
    else {
      print(ctx, `Plumb node listening on ${server.url}`);
      print(ctx, `  address   ${info.address}${node.keyCreated ? ' (new key)' : ''}`);
      print(ctx, `  data dir  ${info.dataDir}`);
      print(ctx, `  api docs  ${server.url}/openapi.json`);
      if (info.chain) print(ctx, `  chain     ${chainLine(info.chain)}`);
    }
    await new Promise<void>((resolve) => {
      if (o.signal?.aborted) return resolve();
      o.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    if (!ctx.json) print(ctx, 'stopping');
  } finally {
    await server?.close();
    await node.stop();
  }
}

export async function nodeInfo(ctx: CommandContext): Promise<void> {
  const session = await openSession(ctx);
  try {
    const info = await getNodeInfo(session.client);
    if (ctx.json) return printJson(ctx, info);
    print(ctx, `address   ${info.address}`);
    print(
      ctx,
      `version   plumb ${info.version}, onnxruntime ${info.runtime.onnxruntime}, node ${info.runtime.node}`,
    );
    print(
      ctx,
      `models    ${info.counts.repositories} repositories, ${info.counts.versions} versions, ${info.counts.files} files`,
    );
    print(ctx, `receipts  ${info.counts.receipts}`);
    if (info.chain) print(ctx, `chain     ${chainLine(info.chain)}`);
  } finally {
    await session.close();
  }
}

function chainLine(c: { chainId: number; rpcUrl: string; devnet: boolean; settlement: string }): string {
  return `${c.chainId}${c.devnet ? ' (embedded devnet)' : ''} at ${c.rpcUrl}, Settlement ${c.settlement}`;
}
