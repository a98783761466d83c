import type { Metric, Registry } from 'prom-client';
import { promClient } from './prom-client.js';
import type { HealthMonitor } from '../health/health-monitor.js';
import { isReady } from '../health/health-report.js';
import type { LifecycleComponent } from '../lifecycle/component.js';
import type { AppState } from '../lifecycle/events.js';
import type { AvailabilityHistory } from './availability-history.js';
import type { LifecycleTimings } from './lifecycle-timings.js';
import type { RecordedSeries } from './recorded-series.js';

export interface MetricsSource {
  /** The app's name, on every series as the `app` label. */
  readonly app: string;
  state(): AppState;
  /** Empty before the app has loaded its settings. */
  components(): readonly LifecycleComponent[];
  readonly health: HealthMonitor;
  readonly timings: LifecycleTimings;
  readonly availability: AvailabilityHistory;
  /** What was counted as it happened, from the app's creation on. */
  readonly series: RecordedSeries;
}

const STATES: readonly AppState[] = ['created', 'starting', 'ready', 'degraded', 'draining', 'stopped', 'failed'];

let processMetrics: readonly Metric[] | undefined;

/**
 * Node's default metrics, created once per process and registered in every app's registry
 * (each registry adds its own `app` label when scraped). They describe the process, not an
 * app, and each set keeps an event-loop delay histogram and a GC observer running for as
 * long as the process lives: a set per app cost every test app about a millisecond and
 * left its sampler running after the app stopped.
 */
function defaultProcessMetrics(): readonly Metric[] {
  if (processMetrics) return processMetrics;
  const { Registry, collectDefaultMetrics } = promClient();
  const shared = new Registry();
  collectDefaultMetrics({ register: shared });
  processMetrics = shared.getMetricsAsArray() as unknown as Metric[];
  return processMetrics;
}

/**
 * A registry of the app's own (not prom-client's global one, so several apps can live in
 * one process), every series labelled `app` with the app's name: lifecycle state, readiness, checks, phase durations, and Node's default
 * process metrics (shared by the apps of a process). Values are read when Prometheus scrapes; a scrape while the app serves
 * runs the checks (through the monitor's shared, cached run). Made at its first use: what
 * happened before then is read from the app's recorded series.
 */
export function createAppMetrics(source: MetricsSource): Registry {
  const { Counter, Gauge, Registry } = promClient();
  const registry = new Registry();
  registry.setDefaultLabels({ app: source.app });
  const registers = [registry];
  for (const metric of defaultProcessMetrics()) registry.registerMetric(metric);

  new Gauge({
    name: 'plinth_app_state',
    help: 'Lifecycle state of the app: 1 for the current state, 0 for the others',
    labelNames: ['state'],
    registers,
    collect() {
      for (const state of STATES) this.set({ state }, state === source.state() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'plinth_app_ready',
    help: 'Whether /health/ready answers 200 (1) or 503 (0)',
    registers,
    async collect() {
      const report = await source.health.report();
      this.set(isReady(report.status) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'plinth_app_startup_duration_seconds',
    help: 'Time from starting to ready (or degraded)',
    registers,
    collect() {
      this.reset();
      const seconds = source.timings.startupSeconds;
      if (seconds !== undefined) this.set(seconds);
    },
  });
  new Gauge({
    name: 'plinth_health_check_up',
    help: 'Latest result of each health check: 1 up, 0 down',
    labelNames: ['check', 'critical'],
    registers,
    async collect() {
      this.reset();
      const checks = await source.health.checks();
      for (const [check, result] of Object.entries(checks)) {
        if (result.status === 'disabled') continue;
        this.set({ check, critical: String(result.critical) }, result.status === 'up' ? 1 : 0);
      }
    },
  });
  // A scrape may be what runs the checks: let that run be observed before it is read.
  source.series.registerHealthLatency(registry, () => source.health.checks());
  new Gauge({
    name: 'plinth_component_phase_duration_seconds',
    help: 'How long the latest run of each lifecycle phase of each component took, retries included',
    labelNames: ['component', 'kind', 'phase'],
    registers,
    collect() {
      this.reset();
      for (const t of source.timings.phases()) this.set({ component: t.component, kind: t.kind, phase: t.phase }, t.seconds);
    },
  });
  new Counter({
    name: 'plinth_component_phase_total',
    help: 'Lifecycle phases that ended, by outcome (succeeded, failed, timedOut, skipped, degraded)',
    labelNames: ['component', 'phase', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const o of source.timings.outcomes()) this.inc({ component: o.component, phase: o.phase, outcome: o.outcome }, o.count);
    },
  });
  new Gauge({
    name: 'plinth_plugin_available',
    help: 'Whether each plugin instance is available (1) or marked unavailable (0)',
    labelNames: ['plugin', 'prefix'],
    registers,
    collect() {
      this.reset();
      for (const c of source.components()) {
        if (c.availability) this.set({ plugin: c.pluginType ?? 'unknown', prefix: c.id }, c.availability.available ? 1 : 0);
      }
    },
  });
  new Counter({
    name: 'plinth_plugin_unavailable_seconds_total',
    help: 'Time each plugin instance spent unavailable since the app first served, the current outage included',
    labelNames: ['plugin', 'prefix'],
    registers,
    collect() {
      this.reset();
      for (const h of source.availability.snapshot()) this.inc({ plugin: h.component.pluginType ?? 'unknown', prefix: h.component.id }, h.unavailableSeconds);
    },
  });
  new Counter({
    name: 'plinth_plugin_recoveries_total',
    help: 'Times each plugin instance became available again after an outage',
    labelNames: ['plugin', 'prefix'],
    registers,
    collect() {
      this.reset();
      for (const h of source.availability.snapshot()) this.inc({ plugin: h.component.pluginType ?? 'unknown', prefix: h.component.id }, h.recoveries);
    },
  });
  source.series.registerConfigReloads(registry);
  return registry;
}
