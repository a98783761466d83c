import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { PlinthError } from '../errors.js';
import { respond, type RouteHandler } from '../http/route-handler.js';

export interface ServeHealthOptions {
  /** Default: `{APP}_HEALTH_PORT`. 0 picks a free port (see `port` on the result). */
  readonly port?: number;
  /** Default: `{APP}_HEALTH_HOST`. */
  readonly host?: string;
}

export interface HealthServer {
  readonly port: number;
  readonly server: http.Server;
  /** Closes it at once (probe connections are not drained). Idempotent. */
  close(): Promise<void>;
}

export interface HealthServerInput {
  readonly port: number;
  readonly host: string;
  /** The settings that chose port and host, for an error that says what to change. */
  readonly portSetting: string;
  readonly hostSetting: string;
  readonly routes: () => RouteHandler | undefined;
  readonly logger: Logger;
}

/**
 * A small server with only the probes and `/metrics`, for apps without an HTTP server of
 * their own and for the time before theirs exists. A port that is taken fails with an
 * error naming the setting.
 */
export async function openHealthServer(input: HealthServerInput): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    if (input.routes()?.(req, res)) return;
    respond(req, res, 404, 'application/json; charset=utf-8', '{"status":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(input, error)));
    server.listen({ port: input.port, host: input.host }, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  input.logger.info({ healthPort: bound, healthHost: input.host }, `health endpoints listening on ${input.host}:${bound}`);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  return { port: bound, server, close };
}

function listenError(input: HealthServerInput, error: NodeJS.ErrnoException): Error {
  const where = `${input.host}:${input.port}`;
  if (error.code === 'EADDRINUSE') {
    return new PlinthError(`${input.portSetting}=${input.port}: the health server cannot listen on ${where}, which is already in use; choose another port (0 turns the health server off)`, { cause: error });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new PlinthError(`${input.hostSetting}=${input.host}: the health server cannot listen on ${where}: not an address of this machine`, { cause: error });
  }
  return new PlinthError(`the health server cannot listen on ${where} (${input.portSetting}, ${input.hostSetting}): ${error.message}`, { cause: error });
}
