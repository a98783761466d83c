import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionTracker } from './connection-tracker.js';
import { drainHttpServer, type DrainReport } from './drain-server.js';
import { recordFastifyRequests, recordNodeRequest, type RecordRequest } from './request-recorder.js';
import type { RouteHandler } from './route-handler.js';

/** A node `http.Server` (or `https.Server`), or anything that has one as `.server` (a fastify instance). */
export type HttpServerSource = HttpServer | { readonly server: HttpServer };

export interface AttachHttpServerOptions {
  /** Serve the probes and `/metrics` on this server too (default true). */
  readonly endpoints?: boolean;
  /**
   * During the drain, how long a keep-alive connection with nothing in flight stays open for
   * a request that may be on its way (answered with `Connection: close`). Default: 1000 ms,
   * or the server's `keepAliveTimeout` if that is shorter.
   */
  readonly idleGraceMs?: number;
}

export function serverOf(source: HttpServerSource): HttpServer {
  return 'server' in source ? source.server : source;
}

/**
 * A server handed to the app: each request is counted on its connection before any handler
 * sees it (so draining knows what is in flight), and the framework's routes are answered
 * before the service's own handler. Requests are intercepted at `emit('request')`, so it
 * does not matter whether the service adds its handler before or after attaching.
 */
export class AttachedServer {
  readonly server: HttpServer;
  readonly #tracker: ConnectionTracker;
  readonly #idleGraceMs: number;
  #drained: Promise<DrainReport> | undefined;

  constructor(
    source: HttpServerSource,
    routes: () => RouteHandler | undefined,
    record: RecordRequest,
    options: AttachHttpServerOptions = {},
  ) {
    const server = serverOf(source);
    this.server = server;
    const recordAtNodeLevel = !recordFastifyRequests(source, record);
    this.#tracker = new ConnectionTracker(server);
    const keepAlive = server.keepAliveTimeout > 0 ? server.keepAliveTimeout : Number.POSITIVE_INFINITY;
    this.#idleGraceMs = options.idleGraceMs ?? Math.min(1000, keepAlive);
    const serveEndpoints = options.endpoints ?? true;
    const tracker = this.#tracker;
    const emit = server.emit;
    server.emit = function (this: HttpServer, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'request') {
        const [req, res] = args as [IncomingMessage, ServerResponse];
        tracker.onRequest(req, res);
        if (serveEndpoints && routes()?.(req, res)) return true;
        if (recordAtNodeLevel) recordNodeRequest(req, res, record);
      } else if (event === 'upgrade' || event === 'connect') {
        tracker.forget(args[1] as Socket);
      }
      return Reflect.apply(emit, this, [event, ...args]) as boolean;
    } as HttpServer['emit'];
  }

  /** Requests in flight and connections closed by the drain, for metrics. */
  get traffic(): { readonly inFlight: number; readonly closedWhileDraining: number } {
    return { inFlight: this.#tracker.inFlight, closedWhileDraining: this.#tracker.closedWhileDraining };
  }

  /** `HTTP server :3000`, for logs. */
  describe(): string {
    const address = this.server.address();
    const where = address === null ? '(not listening)' : typeof address === 'string' ? address : `:${address.port}`;
    return `HTTP server ${where}`;
  }

  /** What it is still doing, for the hard-deadline log. */
  activity(): string | undefined {
    if (!this.#tracker.draining || this.#tracker.connections === 0) return undefined;
    return `${this.describe()} draining: ${this.#tracker.inFlight} request(s) in flight on ${this.#tracker.connections} connection(s)`;
  }

  /**
   * From now on each connection closes after its next response (or once idle for the grace),
   * while the listener still accepts: kept-alive clients reconnect, through the load
   * balancer, elsewhere. Idempotent.
   */
  closeConnectionsAfterResponses(): void {
    this.#tracker.beginDrain(this.#idleGraceMs);
  }

  /** Stops accepting, finishes in-flight requests, closes keep-alive connections cleanly. Idempotent. */
  drain(timeoutMs: number): Promise<DrainReport> {
    this.#drained ??= drainHttpServer(this.server, this.#tracker, { timeoutMs, idleGraceMs: this.#idleGraceMs });
    return this.#drained;
  }
}
