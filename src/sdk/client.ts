/**
 * The SDK client: a transport plus plain action functions that take the client first (viem
 * style). The same actions work over HTTP (`http(url)`) and against an in-process node
 * (`inProcess(app.fetch)`), because both speak the node's HTTP API.
 */
import { PlumbError } from '../core/errors.ts';
import { fromProblem } from '../core/problem.ts';

export type Transport = {
  /** Where requests go, for messages ("http://127.0.0.1:7070" or "in-process"). */
  readonly url: string;
  request(path: string, init?: RequestInit): Promise<Response>;
};

export type Client = { transport: Transport };

export type CreateClientParameters = { transport: Transport } | { url: string };

export function createClient(p: CreateClientParameters): Client {
  return { transport: 'transport' in p ? p.transport : http(p.url) };
}

/** HTTP transport: requests go to a running node with `fetch`. */
export function http(url: string): Transport {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new PlumbError('INVALID_ARGUMENT', `invalid node URL "${url}"`, {
      metaMessages: ['Give a URL such as http://127.0.0.1:7070'],
    });
  }
  const root = base.href.replace(/\/$/, '');
  return {
    url: root,
    async request(path, init) {
      try {
        return await fetch(`${root}${path}`, init);
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        throw new PlumbError(
          'UNAVAILABLE',
          `cannot reach the Plumb node at ${root}${cause?.code ? ` (${cause.code})` : ''}`,
          {
            metaMessages: [
              'Is it running? Start one with `plumb node start`, or drop --node to work on a local data directory.',
            ],
            cause: error,
          },
        );
      }
    },
  };
}

/** In-process transport: requests are handed to a fetch handler (e.g. a Hono app's `fetch`). */
export function inProcess(handler: (request: Request) => Response | Promise<Response>): Transport {
  return {
    url: 'in-process',
    request: (path, init) => Promise.resolve(handler(new Request(`http://plumb.local${path}`, init))),
  };
}

/** Send a request; throw the node's error (rebuilt from problem+json) on a non-2xx status. */
export async function send(client: Client, path: string, init?: RequestInit): Promise<Response> {
  const response = await client.transport.request(path, init);
  if (response.ok) return response;
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  throw fromProblem(body, response.status);
}

export async function sendJson<T>(client: Client, path: string, init?: RequestInit): Promise<T> {
  return (await (await send(client, path, init)).json()) as T;
}

export function postJson(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
