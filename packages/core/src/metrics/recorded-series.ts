import type { Registry } from 'prom-client';
import type { RequestRecord } from '../app/plugin-host.js';
import type { CheckResults } from '../health/health-report.js';
import { LocalCounter, LocalHistogram, register, type CounterCell, type HistogramCell } from './local-series.js';

const HEALTH_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The label of a request whose route template is unknown (a 404, a plain node server): never the raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

/** `2xx`… from a status code: five values whatever the app answers. */
export function statusClass(statusCode: number): string {
  return statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'other';
}

/**
 * The app's series that count events as they happen (health check latencies, HTTP requests,
 * config reloads), kept from the app's creation in core's light local families. The
 * Prometheus registry is made at its first use (`app.metrics`, a scrape, a plugin's first
 * metric): most apps, a test's above all, never build one, and nothing observed before it is lost.
 */
export class RecordedSeries {
  readonly #healthLatency = new LocalHistogram(
    'plinth_health_check_duration_seconds',
    'How long health checks take (a check cut off at its timeout counts its timeout)',
    ['check'],
    HEALTH_BUCKETS,
  );
  readonly #httpDuration = new LocalHistogram(
    'plinth_http_request_duration_seconds',
    'HTTP request duration by method, route template and status class',
    ['method', 'route', 'status_class'],
    HTTP_BUCKETS,
  );
  readonly #configReloads = new LocalCounter('plinth_config_reloads_total', 'Config reloads (SIGHUP, app.reload()) by outcome', ['outcome']);
  readonly #checks = this.#healthLatency.group();
  readonly #requests = this.#httpDuration.group();
  readonly #reloads = this.#configReloads.group();

  /** One latency per check that ran (disabled ones did not). */
  observeChecks(results: CheckResults): void {
    for (const [check, result] of Object.entries(results)) {
      if (result.status === 'disabled') continue;
      let cell: HistogramCell | undefined = this.#checks.get(check);
      if (cell === undefined) this.#checks.set(check, (cell = this.#healthLatency.newCell({ check })));
      this.#healthLatency.observe(cell, result.latencyMs / 1000);
    }
  }

  observeRequest(record: RequestRecord): void {
    const route = record.route ?? UNMATCHED_ROUTE;
    const status = statusClass(record.statusCode);
    const key = `${record.method} ${status} ${route}`;
    let cell: HistogramCell | undefined = this.#requests.get(key);
    if (cell === undefined) this.#requests.set(key, (cell = this.#httpDuration.newCell({ method: record.method, route, status_class: status })));
    this.#httpDuration.observe(cell, record.durationMs / 1000);
  }

  countReload(outcome: string): void {
    let cell: CounterCell | undefined = this.#reloads.get(outcome);
    if (cell === undefined) this.#reloads.set(outcome, (cell = { labels: { outcome }, value: 0 }));
    cell.value += 1;
  }

  /** The health latencies; `settle` is awaited before each read (a scrape may be what runs the checks). */
  registerHealthLatency(registry: Registry, settle: () => Promise<unknown>): void {
    register(registry, this.#healthLatency, settle);
  }

  registerHttpDuration(registry: Registry): void {
    register(registry, this.#httpDuration);
  }

  registerConfigReloads(registry: Registry): void {
    register(registry, this.#configReloads);
  }
}
