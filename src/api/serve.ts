/** Serve a node's API over HTTP with @hono/node-server. */
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import { PlumbError } from '../core/errors.ts';
import type { PlumbNode } from '../node/node.ts';
import { createApp } from './app.ts';

export type Server = { url: string; port: number; close(): Promise<void> };

export function serve(node: PlumbNode): Promise<Server> {
  const app = createApp(node);
  const { host, port } = node.config;
  return new Promise((resolve, reject) => {
    const server = honoServe({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const shownHost = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new PlumbError(
          'UNAVAILABLE',
          error.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is in use: pick another with --port`
            : `cannot listen on ${host}:${port}: ${error.message}`,
          { cause: error },
        ),
      );
    });
  });
}
