/**
 * Request bodies straight from Node's socket stream when the app runs on @hono/node-server.
 *
 * Reading a body through the web `Request` costs more per request than everything else Plumb
 * does for a small model, so JSON bodies are read from the underlying `IncomingMessage` and
 * handed to Hono's body cache; validation still runs on the route's zod schema. Without a
 * Node request (`app.request()` in tests and the in-process CLI) the web path is used.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PlumbError } from '../core/errors.ts';

/** The Node request behind a Hono context, when there is one. */
export function incomingOf(c: Context): IncomingMessage | undefined {
  const env = c.env as { incoming?: IncomingMessage } | undefined;
  return env?.incoming;
}

/**
 * A raw upload's body, streamed: Node's request when there is one (cheaper than the web
 * stream), else the web body; refused up front when its declared length is over `maxBytes`.
 */
export function uploadBody(c: Context, maxBytes: number): AsyncIterable<Uint8Array> | null {
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (declared > maxBytes)
    throw new PlumbError(
      'PAYLOAD_TOO_LARGE',
      `upload of ${declared} bytes is over this node's limit of ${maxBytes} bytes`,
    );
  return incomingOf(c) ?? (c.req.raw.body as AsyncIterable<Uint8Array> | null);
}

function tooLarge(maxBytes: number): PlumbError {
  return new PlumbError('PAYLOAD_TOO_LARGE', `request body is over the limit of ${maxBytes} bytes`);
}

/** Read the body (at most `maxBytes`) into Hono's body cache, from Node's stream if possible. */
export function jsonBody(maxBytes: number): MiddlewareHandler {
  const webLimit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge(maxBytes);
    },
  });
  return async (c, next) => {
    const incoming = incomingOf(c);
    if (!incoming) return webLimit(c, next);
    if (Number(c.req.header('content-length')) > maxBytes) throw tooLarge(maxBytes);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(chunk);
    }
    const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
    (c.req.bodyCache as unknown as { text?: Promise<string> }).text = Promise.resolve(text);
    await next();
  };
}
