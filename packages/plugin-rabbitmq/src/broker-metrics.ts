import type { PluginHistogram, PluginMetrics } from '@plinth/core/resilience';
import { PublishError } from './errors.js';
import type { RabbitMqStats } from './stats.js';

/** What publishing and consuming report besides the counts kept in `RabbitMqStats`. */
export interface BrokerMetrics {
  /** A publish call began. */
  publishing(): void;
  /** A publish call settled `seconds` after it began: confirmed, or failed with `error`. */
  published(seconds: number, error?: unknown): void;
  handled(queue: string, seconds: number, ok: boolean): void;
}

/** Publish failures by reason: `nacked`, `unroutable` (returned), `timeout`… */
function reasonOf(error: unknown): string {
  return PublishError.is(error) ? error.reason : 'other';
}

/**
 * `plinth_rabbitmq_*`: publishes and their confirms, consumed messages by how they were
 * settled, handler duration, messages in flight, reconnects. Totals kept in `stats` are
 * read at scrape time.
 */
export function createBrokerMetrics(metrics: PluginMetrics, stats: RabbitMqStats, inFlight: () => number): BrokerMetrics {
  const published = metrics.counter({ name: 'plinth_rabbitmq_published_total', help: 'Publish calls (each resolves confirmed or rejects)' });
  metrics.counter({
    name: 'plinth_rabbitmq_confirmed_total',
    help: 'Publishes the broker confirmed',
    collect: (c) => c.set({}, stats.confirmed),
  });
  const failed = metrics.counter<'reason'>({
    name: 'plinth_rabbitmq_publish_failures_total',
    help: 'Publishes not confirmed, by reason (nacked, unroutable: returned by the broker, timeout, exchange-not-found, stopped, channel-error)',
    labelNames: ['reason'],
  });
  const confirmDuration: PluginHistogram<'outcome'> = metrics.histogram<'outcome'>({
    name: 'plinth_rabbitmq_publish_duration_seconds',
    help: 'From a publish call to the broker confirm (ok) or the failure (error)',
    labelNames: ['outcome'],
  });
  metrics.counter({ name: 'plinth_rabbitmq_resent_total', help: 'Messages written again because their channel closed before the confirm', collect: (c) => c.set({}, stats.resent) });
  metrics.counter({ name: 'plinth_rabbitmq_consumed_total', help: 'Deliveries that reached a consumer', collect: (c) => c.set({}, stats.delivered) });
  metrics.counter<'outcome'>({
    name: 'plinth_rabbitmq_settled_total',
    help: 'Consumed messages by how they were settled (acked, retried, dead_lettered, requeued)',
    labelNames: ['outcome'],
    collect(c) {
      c.set({ outcome: 'acked' }, stats.handled);
      c.set({ outcome: 'retried' }, stats.retried);
      c.set({ outcome: 'dead_lettered' }, stats.deadLettered);
      c.set({ outcome: 'requeued' }, stats.requeued);
    },
  });
  const handlerDuration = metrics.histogram<'queue' | 'outcome'>({
    name: 'plinth_rabbitmq_handler_duration_seconds',
    help: 'Message handler duration by queue (as subscribed in code) and outcome (ok, error)',
    labelNames: ['queue', 'outcome'],
  });
  metrics.gauge({ name: 'plinth_rabbitmq_messages_in_flight', help: 'Messages whose handler is running', collect: (g) => g.set({}, inFlight()) });
  metrics.counter({ name: 'plinth_rabbitmq_reconnects_total', help: 'Times the connection was lost and made again', collect: (c) => c.set({}, stats.reconnects) });
  return {
    publishing: () => published.inc(),
    published(seconds, error) {
      confirmDuration.observe({ outcome: error === undefined ? 'ok' : 'error' }, seconds);
      if (error !== undefined) failed.inc({ reason: reasonOf(error) });
    },
    handled: (queue, seconds, ok) => handlerDuration.observe({ queue, outcome: ok ? 'ok' : 'error' }, seconds),
  };
}
