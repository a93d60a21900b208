/** Model hub routes: push (streaming upload), list, show, and download by CID. */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { PlumbError } from '../../core/errors.ts';
import type { PlumbNode } from '../../node/node.ts';
import { type PushModelReturnType, pushModel } from '../../node/push-model.ts';
import type { SetupProgress } from '../../proof/zk/setup.ts';
import { uploadBody } from '../node-body.ts';
import { problemResponse } from '../problem.ts';
import {
  ModelFileSchema,
  PushQuerySchema,
  PushResultSchema,
  RepositorySchema,
  VersionSchema,
} from '../schemas.ts';
import { binaryContent, cidParams, errorResponses, json } from './responses.ts';

const repoParams = z.object({
  owner: z.string().openapi({ param: { name: 'owner', in: 'path' }, example: 'acme' }),
  name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'mlp' }),
});

const list = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['models'],
  summary: 'List repositories',
  responses: { 200: json(z.object({ repositories: z.array(RepositorySchema) }), 'Repositories') },
});

const push = createRoute({
  method: 'post',
  path: '/v1/models',
  tags: ['models'],
  summary: 'Push a model file (the raw ONNX bytes as the body, streamed)',
  request: {
    query: PushQuerySchema,
    body: { required: true, content: binaryContent },
  },
  responses: {
    201: {
      description:
        'Stored: CID, version and manifest (and the zk setup). With zk and `Accept: application/x-ndjson`, once the setup starts: 200 and NDJSON lines {"progress"} ... then {"result"} or {"error"}.',
      content: {
        'application/json': { schema: PushResultSchema },
        'application/x-ndjson': { schema: z.string() },
      },
    },
    400: errorResponses[400],
    409: errorResponses[400],
    413: errorResponses[400],
    422: errorResponses[422],
  },
});

const repository = createRoute({
  method: 'get',
  path: '/v1/models/{owner}/{name}',
  tags: ['models'],
  summary: 'A repository and its versions',
  request: { params: repoParams },
  responses: {
    200: json(RepositorySchema.extend({ versionRecords: z.array(VersionSchema) }), 'Repository'),
    404: errorResponses[404],
  },
});

const version = createRoute({
  method: 'get',
  path: '/v1/models/{owner}/{name}/versions/{version}',
  tags: ['models'],
  summary: 'One version: its file and manifest',
  request: {
    params: repoParams.extend({ version: z.string().openapi({ param: { name: 'version', in: 'path' } }) }),
  },
  responses: { 200: json(ModelFileSchema, 'Model file'), 404: errorResponses[404] },
});

const file = createRoute({
  method: 'get',
  path: '/v1/files/{cid}',
  tags: ['models'],
  summary: 'A model file by CID: size, manifest, versions that point at it',
  request: { params: cidParams },
  responses: { 200: json(ModelFileSchema, 'Model file'), 404: errorResponses[404] },
});

const content = createRoute({
  method: 'get',
  path: '/v1/files/{cid}/content',
  tags: ['models'],
  summary: 'Download the bytes of a CID (re-hashed as they stream)',
  request: { params: cidParams },
  responses: {
    200: { description: 'The bytes', content: binaryContent },
    404: errorResponses[404],
  },
});

/** A JSON document stored as a blob (uploaded with POST /v1/blobs). */
async function readJsonBlob(node: PlumbNode, cid: string, what: string): Promise<unknown> {
  if (!(await node.hub.blobs.has(cid)))
    throw new PlumbError(
      'INVALID_ARGUMENT',
      `${what}: no blob ${cid} on this node: upload it first (POST /v1/blobs)`,
    );
  try {
    return JSON.parse(new TextDecoder().decode(await node.hub.blobs.get(cid)));
  } catch (error) {
    throw new PlumbError('INVALID_ARGUMENT', `${what}: blob ${cid} is not JSON`, { cause: error });
  }
}

export function modelRoutes(app: OpenAPIHono, node: PlumbNode): void {
  const fileBody = (cid: string) => {
    const { file: f } = node.hub.resolve(cid);
    return { ...f, versions: node.hub.meta.versionsOf(cid) };
  };

  app.openapi(list, (c) => c.json({ repositories: node.hub.listRepositories() }, 200));

  app.openapi(push, async (c) => {
    const q = c.req.valid('query');
    const body = uploadBody(c, node.config.maxUploadBytes);
    if (!body) throw new PlumbError('INVALID_MODEL', 'not a valid ONNX model: the file is empty');
    const zk = q.zk === 'true';
    if (!zk && (q.ptau !== undefined || q.calibrate !== undefined || q.inputBits !== undefined))
      throw new PlumbError('INVALID_ARGUMENT', 'query: ptau, calibrate and inputBits need zk=true');
    const calibrate =
      q.calibrate !== undefined ? await readJsonBlob(node, q.calibrate, 'calibrate') : undefined;
    const stream = zk && (c.req.header('accept') ?? '').includes('application/x-ndjson');
    let onProgress: ((p: SetupProgress) => void) | undefined;
    const started = new Promise<void>((resolve) => {
      onProgress = (p) => {
        resolve();
        events.push(p);
        wake?.();
      };
    });
    const events: (SetupProgress | { done: PushModelReturnType } | { error: unknown })[] = [];
    let wake: (() => void) | undefined;
    const pushing = pushModel(node, {
      source: body,
      repo: q.repo,
      version: q.version,
      description: q.description,
      ...(zk
        ? {
            zk: {
              ...(q.ptau !== undefined ? { ptau: q.ptau } : {}),
              ...(calibrate !== undefined ? { calibrate } : {}),
              ...(q.inputBits !== undefined ? { inputBits: Number(q.inputBits) } : {}),
              ...(stream ? { onProgress } : {}),
            },
          }
        : {}),
    });
    if (!stream) return c.json(await pushing, 201);
    // Answer plainly if the push ends before a setup starts (refused, or artifacts reused).
    const first = await Promise.race([pushing.then((r) => ({ r })), started.then(() => undefined)]);
    if (first) return c.json(first.r, 201);
    pushing
      .then(
        (done) => events.push({ done }),
        (error: unknown) => events.push({ error }),
      )
      .finally(() => wake?.());
    const encoder = new TextEncoder();
    const line = (v: unknown) => encoder.encode(`${JSON.stringify(v)}\n`);
    const body2 = new ReadableStream<Uint8Array>({
      async pull(controller) {
        while (events.length === 0) await new Promise<void>((r) => (wake = r));
        const e = events.shift()!;
        if ('done' in e) {
          controller.enqueue(line({ result: e.done }));
          controller.close();
        } else if ('error' in e) {
          controller.enqueue(line({ error: await problemResponse(e.error).json() }));
          controller.close();
        } else controller.enqueue(line({ progress: e }));
      },
    });
    return new Response(body2, { status: 200, headers: { 'content-type': 'application/x-ndjson' } }) as never;
  });

  app.openapi(repository, (c) => {
    const { owner, name } = c.req.valid('param');
    const repo = node.hub.getRepository(`${owner}/${name}`);
    return c.json({ ...repo, versionRecords: node.hub.meta.listVersions(repo.name) }, 200);
  });

  app.openapi(version, (c) => {
    const { owner, name, version: v } = c.req.valid('param');
    return c.json(fileBody(node.hub.resolve(`${owner}/${name}@${v}`).cid), 200);
  });

  app.openapi(file, (c) => c.json(fileBody(c.req.valid('param').cid), 200));

  app.openapi(content, async (c) => {
    const { cid } = c.req.valid('param');
    const size = await node.hub.blobs.size(cid);
    return new Response(await node.hub.blobs.stream(cid), {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    }) as never;
  });
}
