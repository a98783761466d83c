import { Counter, Gauge, type Registry } from 'prom-client';
import type { RequestRecord } from '../app/plugin-host.js';
import { LocalHistogram, register, type HistogramCell } from './local-series.js';

/** What the HTTP metrics read from the app's servers. */
export interface HttpTrafficSource {
  onRequest(listener: (record: RequestRecord) => void): () => void;
  /** Summed over every attached server. */
  traffic(): { readonly inFlight: number; readonly closedWhileDraining: number };
}

/** The label of a request whose route template is unknown (a 404, a plain node server): never the raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `2xx`… from a status code: five values whatever the app answers. */
export function statusClass(statusCode: number): string {
  return statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'other';
}

/**
 * Request duration by method, route template and status class for every attached server
 * (its `_count` is the request count), requests in flight, and connections the drain
 * closed. The framework's own routes (probes, `/metrics`) are not counted.
 */
export function registerHttpMetrics(registry: Registry, source: HttpTrafficSource): void {
  const registers = [registry];
  const duration = new LocalHistogram('plinth_http_request_duration_seconds', 'HTTP request duration by method, route template and status class', ['method', 'route', 'status_class'], HTTP_BUCKETS);
  register(registry, duration);
  const series = duration.group();
  source.onRequest((record) => {
    const route = record.route ?? UNMATCHED_ROUTE;
    const status = statusClass(record.statusCode);
    const key = `${record.method} ${status} ${route}`;
    let cell: HistogramCell | undefined = series.get(key);
    if (cell === undefined) series.set(key, (cell = duration.newCell({ method: record.method, route, status_class: status })));
    duration.observe(cell, record.durationMs / 1000);
  });
  new Gauge({
    name: 'plinth_http_requests_in_flight',
    help: 'HTTP requests begun and not yet answered',
    registers,
    collect() {
      this.set(source.traffic().inFlight);
    },
  });
  new Counter({
    name: 'plinth_http_drain_closed_connections_total',
    help: 'HTTP connections closed by the shutdown drain',
    registers,
    collect() {
      this.reset();
      this.inc(source.traffic().closedWhileDraining);
    },
  });
}
