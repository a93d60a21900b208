/** Inference, receipts and verification routes. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { PlumbError } from '../../core/errors.ts';
import { parseReceipt } from '../../core/receipt.ts';
import { infer } from '../../node/infer.ts';
import type { PlumbNode } from '../../node/node.ts';
import { reexecute } from '../../node/reexecute.ts';
import { zkKeyOf } from '../../node/zk/keys.ts';
import { verifyReceipt } from '../../proof/zk/verify-receipt.ts';
import { jsonBody } from '../node-body.ts';
import {
  InferRequestSchema,
  ReceiptSchema,
  ReceiptSummarySchema,
  VerifyRequestSchema,
  VerifyResultSchema,
} from '../schemas.ts';
import { errorResponses, json } from './responses.ts';

const inferRoute = createRoute({
  method: 'post',
  path: '/v1/infer',
  tags: ['inference'],
  summary: 'Run a model; returns the outputs in a signed receipt (mode zk: with a Groth16 proof)',
  request: { body: { required: true, content: { 'application/json': { schema: InferRequestSchema } } } },
  responses: {
    200: json(ReceiptSchema, 'The receipt, with outputs and evidence'),
    400: errorResponses[400],
    404: errorResponses[404],
    422: errorResponses[422],
    500: errorResponses[500],
  },
});

const receiptsRoute = createRoute({
  method: 'get',
  path: '/v1/receipts',
  tags: ['inference'],
  summary: 'Receipts this node issued, newest first',
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(50),
      before: z.coerce
        .number()
        .int()
        .optional()
        .openapi({ description: 'Only receipts before this time (ms)' }),
    }),
  },
  responses: { 200: json(z.object({ receipts: z.array(ReceiptSummarySchema) }), 'Receipt summaries') },
});

const receiptRoute = createRoute({
  method: 'get',
  path: '/v1/receipts/{id}',
  tags: ['inference'],
  summary: 'One receipt by id (its EIP-712 digest)',
  request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: { 200: json(ReceiptSchema, 'The receipt'), 404: errorResponses[404] },
});

const verifyRoute = createRoute({
  method: 'post',
  path: '/v1/verify',
  tags: ['inference'],
  summary:
    "Verify a receipt (hashes and signature; zk receipts: the proof, against the model's registered key; optionally re-execute)",
  request: { body: { required: true, content: { 'application/json': { schema: VerifyRequestSchema } } } },
  responses: {
    200: json(VerifyResultSchema, 'The checks and the verdict'),
    400: errorResponses[400],
    422: errorResponses[422],
  },
});

/**
 * A JSON response from text already serialized. Headers are a fresh object per response: the
 * Node adapter writes Content-Length into the object it is given.
 */
function jsonText(body: string): Response {
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
}

export function inferenceRoutes(app: OpenAPIHono, node: PlumbNode): void {
  const body = jsonBody(node.config.maxJsonBytes);
  app.use('/v1/infer', body);
  app.use('/v1/verify', body);
  app.openapi(inferRoute, async (c) => {
    const { json: body } = await infer(node, c.req.valid('json'));
    return jsonText(body) as never;
  });

  app.openapi(receiptsRoute, (c) => {
    const { limit: n, before } = c.req.valid('query');
    const rows = node.hub.meta.listReceipts({ limit: n, ...(before !== undefined ? { before } : {}) });
    return c.json(
      { receipts: rows.map(({ id, modelCid, createdAt }) => ({ id, modelCid, createdAt })) },
      200,
    );
  });

  app.openapi(receiptRoute, (c) => {
    const id = c.req.valid('param').id.toLowerCase();
    const row = node.hub.meta.getReceipt(id);
    if (!row) throw new PlumbError('RECEIPT_NOT_FOUND', `no receipt ${id} on this node`);
    return jsonText(row.body) as never;
  });

  app.openapi(verifyRoute, async (c) => {
    const { receipt: json, reexecute: again } = c.req.valid('json');
    const receipt = parseReceipt(json); // malformed: 422 problem; well-formed but false: valid=false
    // zk receipts: against the verification key registered here for the receipt's model.
    const result = await verifyReceipt(receipt, { zk: (cid) => zkKeyOf(node, cid) });
    if (again && result.valid) {
      const r = await reexecute(node, receipt);
      result.checks.push({ check: 'reexecute', ok: r.ok, message: r.message });
      if (!r.ok) Object.assign(result, { valid: false, reason: r.message });
    }
    return c.json(result, 200);
  });
}
