import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { modes } from '../../core/receipt.ts';
import { type PlumbNode, plumbVersion } from '../../node/node.ts';
import { OnnxRuntime } from '../../runtime/onnx/onnx-runtime.ts';
import { NodeInfoSchema } from '../schemas.ts';
import { errorResponses, json } from './responses.ts';

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['node'],
  summary: 'Liveness',
  responses: { 200: json(z.object({ status: z.literal('ok') }), 'The node is serving') },
});

const info = createRoute({
  method: 'get',
  path: '/v1/node',
  tags: ['node'],
  summary: "The node's address, version, runtime and counts",
  responses: { 200: json(NodeInfoSchema, 'Node information'), 500: errorResponses[500] },
});

export function nodeRoutes(app: OpenAPIHono, node: PlumbNode): void {
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(info, (c) =>
    c.json(
      {
        name: 'plumb' as const,
        version: plumbVersion,
        address: node.key.address,
        modes: [...modes],
        runtime: {
          onnxruntime: OnnxRuntime.version,
          node: process.version,
          sessionsLoaded: node.runtime.size,
        },
        counts: node.hub.meta.counts(),
        limits: { maxUploadBytes: node.config.maxUploadBytes },
        zk: { concurrency: node.zk.concurrency, ...node.zk.load },
        ...(node.chain ? { chain: node.chain.summary } : {}),
        startedAt: node.startedAt.toISOString(),
      },
      200,
    ),
  );
}
