import type { PluginMetrics } from '@plinth/core/resilience';

/** Publish lag buckets in seconds: from a few ms (notified) to minutes (a broker outage). */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface BacklogSnapshot {
  /** Events written and not yet confirmed by the broker. */
  readonly pending: number;
  /** Age of the oldest of them in ms (0 when none). */
  readonly oldestMs: number;
}

/** The relay's totals since start: `stats`, and the counters read at scrape time. */
export class RelayCounts {
  published = 0;
  failed = 0;
}

/**
 * `plinth_outbox_*` on the app's registry (through `ctx.metrics`, so each sample carries
 * `plugin="outbox"` and the outbox's `prefix`). The backlog gauges run `backlog` at scrape
 * time; it resolves `undefined` when the table cannot be read, which leaves the last value.
 * Returns the observer of the publish lag (write → confirm, in seconds).
 */
export function createRelayMetrics(metrics: PluginMetrics, counts: RelayCounts, backlog: () => Promise<BacklogSnapshot | undefined>): (lagSeconds: number) => void {
  metrics.gauge({
    name: 'plinth_outbox_backlog',
    help: 'Outbox events written and not yet published (confirmed)',
    async collect(gauge) {
      const snapshot = await backlog();
      if (snapshot) gauge.set({}, snapshot.pending);
    },
  });
  metrics.gauge({
    name: 'plinth_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest outbox event not yet published (0 when none)',
    async collect(gauge) {
      const snapshot = await backlog();
      if (snapshot) gauge.set({}, snapshot.oldestMs / 1000);
    },
  });
  metrics.counter({
    name: 'plinth_outbox_published_total',
    help: 'Outbox events the broker confirmed and the relay marked sent',
    collect: (counter) => counter.set({}, counts.published),
  });
  metrics.counter({
    name: 'plinth_outbox_publish_failures_total',
    help: 'Outbox publishes that failed (left pending, tried again later)',
    collect: (counter) => counter.set({}, counts.failed),
  });
  const lag = metrics.histogram({
    name: 'plinth_outbox_publish_lag_seconds',
    help: 'Time from an outbox event being written to the broker confirming it',
    buckets: LAG_BUCKETS,
  });
  return (lagSeconds) => lag.observe({}, lagSeconds);
}
