/** zk routes: uploads a push refers to (ptau, calibration input), a model's verification key and layout, its Solidity verifier. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { PlumbError } from '../../core/errors.ts';
import type { PlumbNode } from '../../node/node.ts';
import { checkedPath, zkArtifactsOf, zkKeyOf } from '../../node/zk/keys.ts';
import { uploadBody } from '../node-body.ts';
import { BlobResultSchema, ZkInfoSchema } from '../schemas.ts';
import { binaryContent, cidParams, errorResponses, json } from './responses.ts';

const upload = createRoute({
  method: 'post',
  path: '/v1/blobs',
  tags: ['zk'],
  summary: 'Store bytes by CID (a ptau file or calibration input a zk push refers to)',
  request: {
    body: { required: true, content: binaryContent },
  },
  responses: {
    201: json(BlobResultSchema, 'Stored: CID and size'),
    400: errorResponses[400],
    413: errorResponses[400],
  },
});

const info = createRoute({
  method: 'get',
  path: '/v1/files/{cid}/zk',
  tags: ['zk'],
  summary: "A model's zk setup: artifact CIDs, the verification key and the circuit layout",
  request: { params: cidParams },
  responses: { 200: json(ZkInfoSchema, 'The registered verification key'), 404: errorResponses[404] },
});

const verifier = createRoute({
  method: 'get',
  path: '/v1/files/{cid}/zk/verifier.sol',
  tags: ['zk'],
  summary: "A Solidity Groth16 verifier for the model's proofs (snarkjs template)",
  request: { params: cidParams },
  responses: {
    200: { description: 'Solidity source', content: { 'text/plain': { schema: z.string() } } },
    404: errorResponses[404],
  },
});

function noSetup(cid: string): PlumbError {
  return new PlumbError('NOT_FOUND', `model ${cid} has no zk setup: it was pushed without --zk`, {
    metaMessages: ['Push it again with --zk to prove it and register its verification key.'],
  });
}

export function zkRoutes(app: OpenAPIHono, node: PlumbNode): void {
  app.openapi(upload, async (c) => {
    const body = uploadBody(c, node.config.maxUploadBytes);
    if (!body) throw new PlumbError('INVALID_ARGUMENT', 'the body is empty');
    const result = await node.hub.blobs.put(body, { maxBytes: node.config.maxUploadBytes });
    return c.json(result, 201);
  });

  app.openapi(info, async (c) => {
    const { cid } = c.req.valid('param');
    node.hub.resolve(cid); // MODEL_NOT_FOUND for an unknown CID
    const key = await zkKeyOf(node, cid);
    if (!key) throw noSetup(cid);
    return c.json({ ...key, artifacts: node.hub.meta.getArtifacts(cid) }, 200);
  });

  app.openapi(verifier, async (c) => {
    const { cid } = c.req.valid('param');
    node.hub.resolve(cid);
    const artifacts = zkArtifactsOf(node, cid);
    if (!artifacts) throw noSetup(cid);
    const source = await node.zk.solidity(await checkedPath(node, artifacts['zk.zkey']!));
    return new Response(source, {
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    }) as never;
  });
}
