import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError, createApp, InjectPlugin, PluginUnavailableError, Service, type LifecycleEvent } from '@plinth/core';
import { waitFor } from '@plinth/testkit';
import { ExchangeNotFoundError, UnroutableError, rabbitmq, type RabbitMqPlugin, type ReceivedMessage, type TopologyDeclaration } from '../src/index.js';
import { deferred, LogCapture, testApp } from './support/harness.js';

const topology: TopologyDeclaration = {
  exchanges: [
    { name: 'orders', type: 'topic' },
    { name: 'audit', type: 'fanout' },
  ],
  queues: [
    { name: 'orders.created', bindings: [{ exchange: 'orders', routingKey: 'order.created' }] },
    { name: 'orders.all', bindings: [{ exchange: 'orders', routingKey: 'order.#' }] },
    { name: 'audit.log', bindings: [{ exchange: 'audit' }] },
  ],
};

describe('embedded in-process broker', () => {
  it('is the default without URL or HOST outside production, announced in one log line naming the env var to switch', async () => {
    const { app, mq, logs } = testApp({ rabbitmq: { topology } });
    try {
      await app.start();
      assert.equal(mq.embedded, true);
      assert.equal(mq.target, 'in-process broker');
      const announcements = logs.matching(/running embedded/);
      assert.equal(announcements.length, 1);
      assert.match(String(announcements[0]?.['msg']), /^events running embedded \(in-process broker\): .*set TEST_APP_EVENTS_URL to use a server$/);
      await mq.healthCheck();
      assert.equal(app.state, 'ready');
    } finally {
      await app.stop();
    }
  });

  it('is a config error in production without URL or HOST, unless EMBEDDED=true asks for it', async () => {
    const refused = testApp({ env: { NODE_ENV: 'production' } });
    await assert.rejects(refused.app.start(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((p) => p.env), ['TEST_APP_EVENTS_URL']);
      assert.match(error.message, /TEST_APP_EVENTS_URL \(or TEST_APP_EVENTS_HOST\) is required in production/);
      return true;
    });
    const { app, mq } = testApp({ env: { NODE_ENV: 'production', TEST_APP_EVENTS_EMBEDDED: 'true' } });
    try {
      await app.start();
      assert.equal(mq.embedded, true);
    } finally {
      await app.stop();
    }
  });

  it('routes like RabbitMQ (topic, fanout, default exchange) and rejects unroutable and unknown-exchange publishes', async () => {
    const { app, mq } = testApp({ rabbitmq: { topology } });
    const got = new Map<string, unknown[]>();
    const record = (queue: string) => (message: ReceivedMessage<unknown>) => void got.set(queue, [...(got.get(queue) ?? []), message.body]);
    try {
      await app.start();
      for (const queue of ['orders.created', 'orders.all', 'audit.log']) mq.subscribe(queue, record(queue));
      await mq.publish('orders', 'order.created', { n: 1 });
      await mq.publish('orders', 'order.shipped.late', { n: 2 });
      await mq.publish('audit', 'anything', { n: 3 });
      await mq.sendToQueue('orders.created', { n: 4 });
      await assert.rejects(mq.publish('orders', 'invoice.created', { n: 5 }), UnroutableError);
      await mq.publish('orders', 'invoice.created', { n: 5 }, { mandatory: false });
      await assert.rejects(mq.publish('nope', 'x', { n: 6 }), ExchangeNotFoundError);
      await waitFor(() => got.get('orders.created')?.length === 2 && got.get('orders.all')?.length === 2 && got.get('audit.log')?.length === 1);
      assert.deepEqual(got.get('orders.created'), [{ n: 1 }, { n: 4 }]);
      assert.deepEqual(got.get('orders.all'), [{ n: 1 }, { n: 2 }]);
      assert.deepEqual(got.get('audit.log'), [{ n: 3 }]);
      assert.deepEqual({ confirmed: mq.stats.confirmed, rejected: mq.stats.rejected }, { confirmed: 5, rejected: 2 });
    } finally {
      await app.stop();
    }
  });

  it('retries a failing handler up to maxAttempts, then dead-letters it with the attempts and error', async () => {
    const { app, mq } = testApp({ rabbitmq: { topology } });
    const attempts: number[] = [];
    const dead = deferred<ReceivedMessage<unknown>>();
    try {
      await app.start();
      const { messageId } = await mq.publish('orders', 'order.created', { poison: true });
      mq.subscribe(
        'orders.created',
        (message) => {
          attempts.push(message.attempt);
          throw new Error('handler bug');
        },
        { maxAttempts: 4 },
      );
      mq.subscribe('orders.created.dlq', (message) => dead.resolve(message));
      const message = await dead.promise;
      assert.deepEqual(attempts, [1, 2, 3, 4]);
      assert.equal(message.id, messageId);
      assert.equal(message.headers['x-attempts'], 4);
      assert.match(String(message.headers['x-error']), /handler bug/);
      assert.deepEqual(message.body, { poison: true });
      assert.deepEqual({ retried: mq.stats.retried, deadLettered: mq.stats.deadLettered }, { retried: 3, deadLettered: 1 });
    } finally {
      await app.stop();
    }
  });

  it('never runs more handlers at once than the prefetch allows', async () => {
    const { app, mq } = testApp({ rabbitmq: { topology } });
    let running = 0;
    let peak = 0;
    let done = 0;
    try {
      await app.start();
      mq.subscribe(
        'orders.created',
        async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running -= 1;
          done += 1;
        },
        { prefetch: 3 },
      );
      await Promise.all(Array.from({ length: 20 }, (_, i) => mq.publish('orders', 'order.created', { i })));
      await waitFor(() => done === 20);
      assert.equal(peak, 3);
    } finally {
      await app.stop();
    }
  });

  it('starts a subscription made before start in onStart, and a stop waits for handlers in flight', async () => {
    const order: string[] = [];
    const release = deferred();
    const inHandler = deferred();

    @Service()
    class Consumer {
      constructor(@InjectPlugin('events') mq: RabbitMqPlugin) {
        // Constructed before preStart: the subscription waits for onStart.
        mq.subscribe('orders.created', async () => {
          order.push('handler started');
          inHandler.resolve();
          await release.promise;
          order.push('handler finished');
        });
      }
    }

    const logs = new LogCapture();
    const app = createApp({
      name: 'test-app',
      plugins: [rabbitmq('events', { topology })],
      services: [Consumer],
      env: { TEST_APP_LOG_LEVEL: 'silent' },
      logDestination: logs.stream,
    });
    const events: LifecycleEvent[] = [];
    app.on('lifecycle', (event) => events.push(event));
    await app.start();
    const mq = app.plugin('events') as RabbitMqPlugin;
    await mq.publish('orders', 'order.created', { n: 1 });
    await inHandler.promise;
    const stopped = app.stop().then(() => order.push('stop resolved'));
    await waitFor(() => events.some((e) => e.component === 'events' && e.phase === 'onStop' && e.outcome === 'begin'));
    order.push('released');
    release.resolve();
    await stopped;
    assert.deepEqual(order, ['handler started', 'released', 'handler finished', 'stop resolved']);
    assert.equal(mq.stats.handled, 1);
    await assert.rejects(mq.publish('orders', 'order.created', {}), PluginUnavailableError);
  });

  it('fails fast with PluginUnavailableError before start', async () => {
    const { app, mq } = testApp({ rabbitmq: { topology } });
    const starting = app.start();
    await assert.rejects(mq.publish('orders', 'order.created', {}), PluginUnavailableError);
    await starting;
    await app.stop();
  });

  it('cancels one subscription: waits for its handler, then stops consuming while the plugin goes on', async () => {
    const { app, mq } = testApp({ rabbitmq: { topology } });
    const release = deferred();
    const started = deferred();
    const order: string[] = [];
    try {
      await app.start();
      const subscription = mq.subscribe('orders.created', async () => {
        started.resolve();
        await release.promise;
        order.push('handler finished');
      });
      await mq.sendToQueue('orders.created', { n: 1 });
      await started.promise;
      const cancelled = subscription.cancel().then(() => order.push('cancel resolved'));
      release.resolve();
      await cancelled;
      assert.deepEqual(order, ['handler finished', 'cancel resolved']);
      await mq.sendToQueue('orders.created', { n: 2 });
      const later = deferred<unknown>();
      mq.subscribe('orders.created', (message) => later.resolve(message.body));
      assert.deepEqual(await later.promise, { n: 2 }, 'the cancelled subscription took nothing more');
      await waitFor(() => mq.stats.handled === 2, { message: 'second message acked' });
    } finally {
      await app.stop();
    }
  });
});
