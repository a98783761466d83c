import { Writable } from 'node:stream';
import amqp from 'amqplib';
import { createApp, type App } from '@plinth/core';
import { postgres, type PostgresPlugin } from '@plinth/plugin-postgres';
import { rabbitmq } from '@plinth/plugin-rabbitmq';
import { outbox, type ClaimMode, type OutboxPlugin } from '../../src/index.js';

/** Discards an app's log lines (pino JSON) but keeps them for assertions. */
export class Logs {
  readonly lines: Record<string, unknown>[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
}

export interface RelayAppOptions {
  readonly dbUrl?: string;
  readonly amqpUrl?: string;
  readonly exchange: string;
  /** A queue bound to every routing key of the exchange, for the test's own consumer. */
  readonly queue: string;
  readonly claim?: ClaimMode;
  readonly env?: Record<string, string>;
}

export interface RelayApp {
  readonly app: App;
  readonly logs: Logs;
  outbox(): OutboxPlugin;
  db(): PostgresPlugin;
}

/** An app `relay-test` with `primary_db`, `events` (not critical) and the outbox `user_events`. */
export function relayApp(options: RelayAppOptions): RelayApp {
  const logs = new Logs();
  const app = createApp({
    name: 'relay-test',
    plugins: [
      postgres('primary_db'),
      rabbitmq('events', {
        critical: false,
        topology: {
          exchanges: [{ name: options.exchange, type: 'topic' }],
          queues: [{ name: options.queue, bindings: [{ exchange: options.exchange, routingKey: '#' }], deadLetter: false }],
        },
      }),
      outbox('user_events', { db: 'primary_db', broker: 'events', exchange: options.exchange, ...(options.claim ? { claim: options.claim } : {}) }),
    ],
    env: {
      RELAY_TEST_LOG_LEVEL: 'info',
      ...(options.dbUrl ? { RELAY_TEST_PRIMARY_DB_URL: options.dbUrl } : {}),
      ...(options.amqpUrl ? { RELAY_TEST_EVENTS_URL: options.amqpUrl } : {}),
      RELAY_TEST_EVENTS_RECONNECT_DELAY: '50',
      RELAY_TEST_EVENTS_RECONNECT_MAX_DELAY: '300',
      RELAY_TEST_EVENTS_HEARTBEAT: '1s',
      RELAY_TEST_USER_EVENTS_PUBLISH_TIMEOUT: '1000',
      ...options.env,
    },
    logDestination: logs.stream,
    recoveryBackoff: { initialDelayMs: 50, maxDelayMs: 300 },
  });
  return {
    app,
    logs,
    outbox: () => app.plugin('user_events') as OutboxPlugin,
    db: () => app.plugin('primary_db') as PostgresPlugin,
  };
}

export interface Received {
  readonly messageId: string;
  readonly body: unknown;
  readonly headers: Record<string, unknown>;
}

/** A plain amqplib consumer that records every delivery, duplicates included (before any deduplication). */
export async function recordDeliveries(url: string, queue: string): Promise<{ received: Received[]; close(): Promise<void> }> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  const received: Received[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      received.push({
        messageId: String(message.properties.messageId),
        body: JSON.parse(message.content.toString('utf8')) as unknown,
        headers: (message.properties.headers ?? {}) as Record<string, unknown>,
      });
    },
    { noAck: true },
  );
  return {
    received,
    async close() {
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

/** Message ids seen more than once. */
export function duplicates(received: readonly Received[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const { messageId } of received) (seen.has(messageId) ? twice : seen).add(messageId);
  return [...twice];
}

/** Writes `count` events, `concurrency` transactions at a time, each event in its own transaction. */
export async function writeEvents(
  relay: RelayApp,
  count: number,
  options: { concurrency?: number; key?: (i: number) => string | undefined } = {},
): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const key = options.key?.(i);
      ids[i] = await relay.db().transaction((tx) => relay.outbox().add(tx, 'user.created', { i, key: key ?? null }, key ? { key } : {}));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return ids;
}

/**
 * Reads the `user_events` outbox's samples from a Prometheus exposition: the value of
 * `name` labelled `plugin="outbox"`, `prefix="user_events"` and nothing else but `app`.
 */
export function outboxMetrics(exposition: string): (name: string) => number | undefined {
  const values = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    const sample = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!sample) continue;
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const { plugin, prefix, app, ...others } = labels;
    if (plugin === 'outbox' && prefix === 'user_events' && app !== undefined && Object.keys(others).length === 0) values.set(sample[1] ?? '', Number(sample[3]));
  }
  return (name) => values.get(name);
}
