import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { appHttpOf } from '../http/app-http.js';
import { respond } from '../http/route-handler.js';
import type { StateChange } from '../lifecycle/events.js';

export interface ServeHealthOptions {
  /** Default: the app's `{APP}_HEALTH_PORT`. 0 picks a free port (see `port` on the result). */
  readonly port?: number;
  /** Default: every interface. */
  readonly host?: string;
}

export interface HealthServer {
  readonly port: number;
  readonly server: http.Server;
  /** Closes it at once (probe connections are not drained). Idempotent. */
  close(): Promise<void>;
}

/** The part of an app the dedicated server needs; `App` has it once `start()` has loaded config. */
export interface HealthServerApp {
  readonly logger: Logger;
  readonly coreConfig: { readonly healthPort: number };
  on(event: 'state', listener: (change: StateChange) => void): () => void;
}

/**
 * A small server with only the probes and `/metrics`, for apps without an HTTP server of
 * their own and for the time before theirs exists. `app.run()` opens it (on
 * `{APP}_HEALTH_PORT`) once config is loaded, before any preStart, so the startup and
 * liveness probes answer while the app starts. It stays up while the app drains (liveness
 * stays 200) and closes when the app has stopped.
 */
export async function serveHealth(app: HealthServerApp, options: ServeHealthOptions = {}): Promise<HealthServer> {
  const endpoints = appHttpOf(app);
  endpoints.servingEndpoints();
  const server = http.createServer((req, res) => {
    if (endpoints.routes()?.(req, res)) return;
    respond(req, res, 404, 'application/json; charset=utf-8', '{"status":"not found"}');
  });
  const port = options.port ?? app.coreConfig.healthPort;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(options.host ? { host: options.host } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  endpoints.addHealthServer(server);
  const bound = (server.address() as AddressInfo).port;
  app.logger.info({ healthPort: bound }, `health endpoints listening on :${bound}`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  const off = app.on('state', ({ to }) => {
    if (to !== 'stopped') return;
    off();
    void close();
  });
  return { port: bound, server, close };
}
