import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RequestRecord } from '../app/plugin-host.js';

export type RecordRequest = (record: RequestRecord) => void;

/** The parts of a fastify request and reply a record needs. */
interface FastifyRequestLike {
  readonly method: string;
  readonly routeOptions?: { readonly url?: string };
}
interface FastifyReplyLike {
  readonly statusCode: number;
  readonly elapsedTime: number;
}

/**
 * Records a fastify instance's requests through its hooks, so a record carries the route
 * template (`/orders/:id`) and the error behind a 5xx. Returns false when it cannot (not
 * fastify, or too late to add hooks): the caller then records at the node level.
 */
export function recordFastifyRequests(source: object, record: RecordRequest): boolean {
  const addHook: unknown = (source as { addHook?: unknown }).addHook;
  if (typeof addHook !== 'function') return false;
  const errors = new WeakMap<object, unknown>();
  try {
    Reflect.apply(addHook, source, ['onError', async (request: object, _reply: unknown, error: unknown) => {
      errors.set(request, error);
    }]);
    Reflect.apply(addHook, source, ['onResponse', async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
      const error = errors.get(request);
      record({
        method: request.method,
        route: request.routeOptions?.url,
        statusCode: reply.statusCode,
        durationMs: reply.elapsedTime,
        ...(error === undefined ? {} : { error }),
      });
    }]);
    return true;
  } catch {
    return false; // already listening: fastify takes no more hooks
  }
}

/** Records one request of a plain node server once its response is done (no route: node knows none). */
export function recordNodeRequest(req: IncomingMessage, res: ServerResponse, record: RecordRequest): void {
  const started = performance.now();
  res.once('close', () => {
    record({ method: req.method ?? 'GET', route: undefined, statusCode: res.statusCode, durationMs: performance.now() - started });
  });
}
