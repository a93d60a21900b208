/** Response and request declarations shared by routes. */
import { z } from '@hono/zod-openapi';
import { ProblemSchema } from '../schemas.ts';

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

export const errorResponses = {
  400: problem('Bad request: a parameter or the body is malformed'),
  404: problem('Not found'),
  409: problem('Conflict with the current state (an immutable version, a contract refusing the call)'),
  422: problem('Well-formed but invalid: the model, inputs or receipt fail a check'),
  500: problem('Internal error'),
  503: problem('Unavailable: the node is busy, stopping, or its chain is unreachable'),
};

export function json<T>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** The `{cid}` path parameter. */
export const cidParams = z.object({ cid: z.string().openapi({ param: { name: 'cid', in: 'path' } }) });

/** Raw bytes as a body (request or response). */
export const binaryContent = {
  'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
};

/** A required JSON request body validated by `schema`. */
export function jsonRequest<T>(schema: T) {
  return { body: { required: true, content: { 'application/json': { schema } } } };
}
