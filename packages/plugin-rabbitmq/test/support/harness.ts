import amqp from 'amqplib';
import { createApp, type App, type LifecycleEvent } from '@plinth/core';
import { LogCapture, requireService } from '@plinth/testkit';
import { rabbitmq, type RabbitMqOptions, type RabbitMqPlugin } from '../../src/index.js';

export { LogCapture };

export interface TestApp {
  readonly app: App;
  readonly mq: RabbitMqPlugin;
  readonly logs: LogCapture;
  readonly events: LifecycleEvent[];
}

/** Fast settings for tests: short heartbeat and reconnect backoff. */
export const FAST = {
  TEST_APP_EVENTS_HEARTBEAT: '1s',
  TEST_APP_EVENTS_RECONNECT_DELAY: '50',
  TEST_APP_EVENTS_RECONNECT_MAX_DELAY: '300',
  TEST_APP_EVENTS_CONNECT_TIMEOUT: '2000',
  TEST_APP_EVENTS_START_TIMEOUT: '5000',
};

/** An app named `test-app` with one `rabbitmq('events')` instance. */
export function testApp(options: { env?: Record<string, string>; rabbitmq?: RabbitMqOptions & { critical?: boolean } } = {}): TestApp {
  const logs = new LogCapture();
  const app = createApp({
    name: 'test-app',
    plugins: [rabbitmq('events', options.rabbitmq ?? {})],
    env: { TEST_APP_LOG_LEVEL: 'debug', ...FAST, ...options.env },
    logDestination: logs,
    retryBackoff: { initialDelayMs: 20, maxDelayMs: 100 },
    recoveryBackoff: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  const events: LifecycleEvent[] = [];
  app.on('lifecycle', (event) => events.push(event));
  // Resolved on each use: the instance exists only once start() has loaded config.
  const mq = new Proxy({} as RabbitMqPlugin, {
    get(_target, property) {
      const real = app.plugin('events') as RabbitMqPlugin;
      const value: unknown = Reflect.get(real, property, real);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(real) : value;
    },
  });
  return { app, mq, logs, events };
}

/** A direct connection for checking what is really in the broker. */
export async function rawConnection(): Promise<amqp.ChannelModel> {
  const connection = await amqp.connect(await requireService('rabbitmq'));
  connection.on('error', () => undefined);
  return connection;
}

/** Runs `fn` on a fresh channel (a failed operation closes its channel in AMQP). */
export async function withChannel<T>(connection: amqp.ChannelModel, fn: (channel: amqp.Channel) => Promise<T>): Promise<T> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    return await fn(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Ready messages in a queue, as the broker counts them (unacked ones are not included). */
export async function messageCount(connection: amqp.ChannelModel, queue: string): Promise<number> {
  return withChannel(connection, async (ch) => (await ch.checkQueue(queue)).messageCount);
}

/** Takes every ready message off a queue (acking them), in order. */
export async function drainQueue(connection: amqp.ChannelModel, queue: string): Promise<amqp.GetMessage[]> {
  return withChannel(connection, async (ch) => {
    const out: amqp.GetMessage[] = [];
    for (;;) {
      const message = await ch.get(queue, { noAck: true });
      if (message === false) return out;
      out.push(message);
    }
  });
}

/** A promise with its resolve function, for handlers that wait on the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
