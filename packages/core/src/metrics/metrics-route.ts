import type { Registry } from 'prom-client';
import { allowReadOnly, requestPath, respond, routePrefix, type RouteHandler } from '../http/route-handler.js';

/** Serves the registry in Prometheus text format at `path`. */
export function createMetricsRoute(registry: () => Registry, path: string): RouteHandler {
  const route = routePrefix(path) || '/';
  return (req, res) => {
    if (requestPath(req.url) !== route) return false;
    if (!allowReadOnly(req, res)) return true;
    const metrics = registry();
    metrics.metrics().then(
      (text) => respond(req, res, 200, metrics.contentType, text),
      () => respond(req, res, 500, 'text/plain; charset=utf-8', 'metrics collection failed\n'),
    );
    return true;
  };
}
