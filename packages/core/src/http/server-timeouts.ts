import type { Server as HttpServer } from 'node:http';

export interface ServerTimeouts {
  /** The whole request (headers and body) must arrive within this (ms); else 408 and close. */
  readonly requestTimeout: number;
  /** The headers must arrive within this (ms); capped at `requestTimeout`. */
  readonly headersTimeout: number;
  /** An idle kept-alive connection closes after this (ms). */
  readonly keepAliveTimeout: number;
}

/**
 * How often Node looks for requests past their timeouts. Its default (30 s) lets a body
 * sent at 1 byte/s hold a connection up to 30 s past `requestTimeout`.
 */
const CHECK_INTERVAL_MS = 1000;

/**
 * Applies plinth's timeouts to a server handed to the app (node:http, or the one inside
 * fastify or behind express), so slow senders are cut the same way whatever built it.
 * Node reads its check interval when the server starts listening: a server attached
 * before `listen()` gets the short interval; one already listening keeps its own.
 */
export function applyServerTimeouts(server: HttpServer, timeouts: () => ServerTimeouts | undefined): void {
  const apply = (): void => {
    const values = timeouts();
    if (!values) return;
    server.requestTimeout = values.requestTimeout;
    server.headersTimeout = values.requestTimeout > 0 ? Math.min(values.headersTimeout, values.requestTimeout) : values.headersTimeout;
    server.keepAliveTimeout = values.keepAliveTimeout;
  };
  apply();
  if (server.listening) return;
  // A public field of http.Server that @types/node does not declare.
  const checked = server as HttpServer & { connectionsCheckingInterval: number };
  checked.connectionsCheckingInterval = Math.min(checked.connectionsCheckingInterval, CHECK_INTERVAL_MS);
  // Runs before Node's own 'listening' listener, which starts the check timer.
  server.prependOnceListener('listening', apply);
}
