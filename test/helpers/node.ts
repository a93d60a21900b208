/**
 * A throwaway Plumb node for tests: a started PlumbNode on a fresh temporary data directory,
 * its HTTP app (served in-process through `app.request()`, no socket), and `stop()`, which
 * stops the node and removes the directory. Also small helpers to call the app with JSON.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp } from '../../src/api/app.ts';
import type { NodeConfigInput } from '../../src/node/config.ts';
import { PlumbNode } from '../../src/node/node.ts';

export type TestNode = {
  node: PlumbNode;
  app: OpenAPIHono;
  /** The node's data directory, removed by `stop()`. */
  dir: string;
  /** Stop the node and remove its data directory. Safe to call more than once. */
  stop(): Promise<void>;
};

/** Node config for a test node; `dataDir` is always the fresh temporary directory. */
export type TestNodeOptions = Omit<NodeConfigInput, 'dataDir'>;

/** Start a node on a fresh `plumb-test-*` directory under the OS temp dir. */
export async function createTestNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plumb-test-'));
  const node = new PlumbNode({ port: 0, ...options, dataDir: dir });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await node.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    await node.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { node, app: createApp(node), dir, stop };
}

/** Run `fn` with a started test node, stopping it (and removing its directory) afterwards. */
export async function withNode<T>(
  fn: (t: TestNode) => Promise<T> | T,
  options: TestNodeOptions = {},
): Promise<T> {
  const t = await createTestNode(options);
  try {
    return await fn(t);
  } finally {
    await t.stop();
  }
}

/** A parsed JSON response: status and body (null for an empty body). */
export type JsonResponse<T = unknown> = { status: number; body: T; headers: Headers };

async function readJson<T>(res: Response): Promise<JsonResponse<T>> {
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** Send a JSON request to the app (`body` omitted for GET) and parse the JSON response. */
export async function requestJson<T = unknown>(
  app: OpenAPIHono,
  method: string,
  url: string,
  body?: unknown,
): Promise<JsonResponse<T>> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  return readJson<T>(await app.request(url, init));
}

/** Push model bytes through `POST /v1/models?repo=...` and parse the JSON response. */
export async function pushBytes<T = unknown>(
  app: OpenAPIHono,
  repo: string,
  bytes: Uint8Array,
  query: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const qs = new URLSearchParams({ repo, ...query });
  const res = await app.request(`/v1/models?${qs}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    body: bytes,
  });
  return readJson<T>(res);
}
