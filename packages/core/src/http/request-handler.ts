import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/** A handler's decision to answer the request itself: the service's routes never see it. */
export interface RequestStop {
  readonly stop: true;
  readonly status: number;
  /** A string is sent as is; anything else as JSON. */
  readonly body: unknown;
  readonly headers: OutgoingHttpHeaders;
}

/** What `onRequest` returns: nothing to let the request go on, `ctx.stop(…)` to answer it. */
export type RequestOutcome = RequestStop | undefined | void;

/** One request as a handler sees it. */
export interface RequestContext {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly method: string;
  /** The path without its query string. */
  readonly path: string;
  /** Aborts when the handler's deadline passes. */
  readonly signal: AbortSignal;
  /** Logs with the request's fields (those added so far by handlers). */
  readonly logger: Logger;
  /** A request header (the first, when sent twice). */
  header(name: string): string | undefined;
  /** Sets a header on the response, whoever answers it. */
  setResponseHeader(name: string, value: string): void;
  /** Fields every log line of this request carries from now on (`{ requestId }`). */
  addLogFields(fields: Readonly<Record<string, unknown>>): void;
  /** The outcome that answers the request with `status`, `body` and `headers`. */
  stop(status: number, body?: unknown, headers?: OutgoingHttpHeaders): RequestStop;
}

/** A finished request, for `onResponse`. */
export interface ResponseContext extends Omit<RequestContext, 'stop' | 'signal' | 'setResponseHeader'> {
  readonly statusCode: number;
  readonly durationMs: number;
}

/**
 * A request-handler plugin's contribution to every HTTP server the app serves (attached or
 * served): run in `priority` order (lower first) after the probes and `/metrics`, before
 * the service's own routes. `onRequest` may stop the request with its own response; it
 * has `timeoutMs` (default 1000) to decide, after which the request gets 503. A throw gives
 * 500. `onResponse` runs once the response is sent, in reverse order, for every handler
 * whose `onRequest` let the request through.
 */
export interface RequestHandler {
  readonly name: string;
  readonly priority: number;
  readonly timeoutMs?: number;
  onRequest?(ctx: RequestContext): RequestOutcome | Promise<RequestOutcome>;
  onResponse?(ctx: ResponseContext): void;
}

export const DEFAULT_HANDLER_TIMEOUT_MS = 1000;
