import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AttachHttpServerOptions, HttpServerSource } from './attached-server.js';

export interface ServeHttpOptions extends AttachHttpServerOptions {
  /** 0 picks a free port (read it from the returned server's `address()`). */
  readonly port: number;
  /** Default: every interface. */
  readonly host?: string;
}

/**
 * Creates a server for a request listener (an express or koa app, a plain handler),
 * attaches it (so it is probed and drained) before it accepts its first connection, and
 * resolves once it listens.
 */
export async function serveHttp(
  attach: (server: HttpServerSource, options?: AttachHttpServerOptions) => void,
  handler: http.RequestListener,
  options: ServeHttpOptions,
): Promise<http.Server> {
  const server = http.createServer(handler);
  const { port, host, ...attachOptions } = options;
  attach(server, attachOptions);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host ? { host } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function portOf(server: http.Server): number | undefined {
  const address = server.address() as AddressInfo | string | null;
  return address !== null && typeof address === 'object' ? address.port : undefined;
}
