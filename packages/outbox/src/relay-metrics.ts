import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Publish lag buckets in seconds: from a few ms (notified) to minutes (a broker outage). */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface BacklogSnapshot {
  /** Events written and not yet confirmed by the broker. */
  readonly pending: number;
  /** Age of the oldest of them in ms (0 when none). */
  readonly oldestMs: number;
}

/**
 * The relay's own counts, kept whether or not a registry is attached, so metrics
 * registered late still show totals since start.
 */
export class RelayCounts {
  published = 0;
  failed = 0;
  readonly lag = new Histogram({
    name: 'plinth_outbox_publish_lag_seconds',
    help: 'Time from an outbox event being written to the broker confirming it',
    labelNames: ['outbox'],
    buckets: LAG_BUCKETS,
    registers: [],
  });
}

/** Registers the outbox's metrics on `registry` (the app's `app.metrics`). */
export function registerRelayMetrics(
  registry: Registry,
  outbox: string,
  counts: RelayCounts,
  backlog: () => Promise<BacklogSnapshot | undefined>,
): void {
  const registers = [registry];
  new Gauge({
    name: 'plinth_outbox_backlog',
    help: 'Outbox events written and not yet published (confirmed)',
    labelNames: ['outbox'],
    registers,
    async collect() {
      const snapshot = await backlog();
      if (snapshot) this.set({ outbox }, snapshot.pending);
    },
  });
  new Gauge({
    name: 'plinth_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest outbox event not yet published (0 when none)',
    labelNames: ['outbox'],
    registers,
    async collect() {
      const snapshot = await backlog();
      if (snapshot) this.set({ outbox }, snapshot.oldestMs / 1000);
    },
  });
  new Counter({
    name: 'plinth_outbox_published_total',
    help: 'Outbox events the broker confirmed and the relay marked sent',
    labelNames: ['outbox'],
    registers,
    collect() {
      this.reset();
      this.inc({ outbox }, counts.published);
    },
  });
  new Counter({
    name: 'plinth_outbox_publish_failures_total',
    help: 'Outbox publishes that failed (left pending, tried again later)',
    labelNames: ['outbox'],
    registers,
    collect() {
      this.reset();
      this.inc({ outbox }, counts.failed);
    },
  });
  registry.registerMetric(counts.lag);
}
