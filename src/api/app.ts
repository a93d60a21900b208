/**
 * The HTTP API on Hono. Routes are declared with the same zod schemas that validate requests,
 * and `/openapi.json` is generated from them. Every error leaves as problem+json.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { PlumbError } from '../core/errors.ts';
import { type PlumbNode, plumbVersion } from '../node/node.ts';
import { problemResponse } from './problem.ts';
import { chainRoutes } from './routes/chain.ts';
import { inferenceRoutes } from './routes/inference.ts';
import { modelRoutes } from './routes/models.ts';
import { nodeRoutes } from './routes/node.ts';
import { zkRoutes } from './routes/zk.ts';

export type AppEnv = { Variables: Record<string, never> };

/** Build the API for a started node. `app.request()` serves it without a socket. */
export function createApp(node: PlumbNode): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (result.success) return;
      const issue = result.error.issues[0]!;
      const where = `${result.target === 'json' ? 'body' : result.target}${issue.path.length ? `.${issue.path.join('.')}` : ''}`;
      return problemResponse(new PlumbError('INVALID_ARGUMENT', `${where}: ${issue.message}`));
    },
  });
  app.onError((error) => {
    if (error instanceof HTTPException && error.status < 500)
      return problemResponse(new PlumbError('INVALID_ARGUMENT', error.message || `HTTP ${error.status}`));
    return problemResponse(error);
  });
  app.notFound((c) =>
    problemResponse(new PlumbError('NOT_FOUND', `no route ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  nodeRoutes(app, node);
  modelRoutes(app, node);
  inferenceRoutes(app, node);
  zkRoutes(app, node);
  chainRoutes(app, node);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Plumb node API',
      version: plumbVersion,
      description: 'Host ONNX models and serve inference with receipts anyone can verify.',
    },
  });
  return app;
}
