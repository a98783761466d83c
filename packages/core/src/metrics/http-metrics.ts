import { Counter, Gauge, type Registry } from 'prom-client';
import type { RecordedSeries } from './recorded-series.js';

/** What the HTTP metrics read from the app's servers. */
export interface HttpTrafficSource {
  /** Summed over every attached server. */
  traffic(): { readonly inFlight: number; readonly closedWhileDraining: number };
}

/**
 * Request duration by method, route template and status class for every attached server
 * (its `_count` is the request count; recorded in `series`), requests in flight, and
 * connections the drain closed. The framework's own routes (probes, `/metrics`) are not counted.
 */
export function registerHttpMetrics(registry: Registry, series: RecordedSeries, source: HttpTrafficSource): void {
  const registers = [registry];
  series.registerHttpDuration(registry);
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
