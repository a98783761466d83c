import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { requireService, scratchAmqpNames, serviceAddress, startTcpProxy, waitFor, type TcpProxy } from '@plinth/testkit';
import type amqp from 'amqplib';
import { PluginUnavailableError } from '@plinth/core';
import { PublishTimeoutError } from '../src/index.js';
import { messageCount, rawConnection, testApp, withChannel } from './support/harness.js';

let raw: amqp.ChannelModel;
let proxy: TcpProxy;

before(async () => {
  await requireService('rabbitmq');
  raw = await rawConnection();
  const { host, port } = serviceAddress('rabbitmq');
  proxy = await startTcpProxy({ targetHost: host, targetPort: port });
});
after(async () => {
  await proxy.close();
  await raw.close();
});

/** The app talks to RabbitMQ through the proxy, so the test can cut the connection. */
const throughProxy = () => ({ TEST_APP_EVENTS_URL: `amqp://guest:guest@${proxy.host}:${proxy.port}/` });

describe('connection cut mid-stream', () => {
  it('loses nothing: every confirmed publish is consumed after reconnect; duplicates are only redeliveries, counted', async () => {
    const N = 400;
    const names = scratchAmqpNames();
    const exchange = names.name('x');
    const queue = names.name('q');
    names.name('q.dlq');
    names.name('q.retry');
    const { app, mq, logs } = testApp({
      env: { ...throughProxy(), TEST_APP_EVENTS_PUBLISH_TIMEOUT: '20s' },
      rabbitmq: {
        topology: {
          exchanges: [{ name: exchange, type: 'topic' }],
          queues: [{ name: queue, bindings: [{ exchange, routingKey: 'order.*' }] }],
          deadLetterExchange: names.name('dlx'),
        },
      },
    });
    const states: string[] = [];
    app.on('state', (change) => states.push(change.to));
    /** Per message: deliveries the broker flagged as redelivered, and fresh ones. */
    const deliveries = new Map<number, { redelivered: number; fresh: number }>();
    let consumedAfterRestore = 0;
    let restored = false;
    try {
      await app.start();
      const subscription = mq.subscribe<{ seq: number }>(
        queue,
        async (message) => {
          const seen = deliveries.get(message.body.seq) ?? { redelivered: 0, fresh: 0 };
          if (message.redelivered) seen.redelivered += 1;
          else seen.fresh += 1;
          deliveries.set(message.body.seq, seen);
          if (restored) consumedAfterRestore += 1;
          await new Promise((resolve) => setImmediate(resolve));
        },
        { prefetch: 20 },
      );
      await subscription.ready;

      let cut: Promise<void> | undefined;
      const publishes: Promise<unknown>[] = [];
      for (let seq = 0; seq < N; seq++) {
        publishes.push(mq.publish(exchange, 'order.created', { seq }));
        if (seq === N / 4) {
          // Cut while publishes and deliveries are in flight; publishing goes on meanwhile.
          cut = (async () => {
            await proxy.cut();
            await waitFor(() => app.state === 'degraded', { message: 'app degraded after the cut' });
            await proxy.restore();
            restored = true;
          })();
        }
        if (seq % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await cut;
      const results = await Promise.allSettled(publishes);
      const rejected = results.filter((r) => r.status === 'rejected');
      assert.equal(rejected.length, 0, `every publish confirmed; rejected: ${rejected.map((r) => String((r as PromiseRejectedResult).reason)).slice(0, 3).join('; ')}`);

      await waitFor(() => deliveries.size === N, { timeoutMs: 20_000, message: `all ${N} messages consumed (have ${deliveries.size})` });
      await waitFor(async () => (await messageCount(raw, queue)) === 0, { message: "queue drained" });
      const all = [...deliveries.values()];
      const redelivered = all.reduce((n, d) => n + d.redelivered, 0);
      const extraFresh = all.reduce((n, d) => n + Math.max(0, d.fresh - 1), 0);
      const { resent } = mq.stats;
      console.log(
        `# ${N} published with confirms, ${deliveries.size} distinct consumed; duplicates: ${redelivered} broker redeliveries ` +
          `(unacked at the cut), ${extraFresh} extra copies from ${resent} publishes re-sent after the cut`,
      );
      // Every duplicate has a known at-least-once cause: a redelivery flagged by the broker,
      // or a copy of a message whose confirm was lost with the connection and was re-sent.
      assert.ok(extraFresh <= resent, `${extraFresh} unexplained fresh duplicates > ${resent} re-sent publishes`);
      assert.ok(all.every((d) => d.fresh >= 1 || d.redelivered >= 1));
      assert.equal(mq.stats.confirmed, N);
      assert.ok(consumedAfterRestore > 0, 'the consumer resumed after the reconnect');
      assert.deepEqual(states.slice(0, 3), ['starting', 'ready', 'degraded']);
      assert.equal(app.state, 'ready', 'available again after reconnecting');
      assert.ok(logs.matching(/reconnected to RabbitMQ/).length === 1);
      await mq.healthCheck();
    } finally {
      await app.stop();
      await names.cleanup();
    }
  });

  it('a publish while disconnected rejects after PUBLISH_TIMEOUT, and publishing works again after restore', async () => {
    const names = scratchAmqpNames();
    const queue = names.name('q');
    names.name('q.dlq');
    names.name('q.retry');
    const { app, mq } = testApp({
      env: { ...throughProxy(), TEST_APP_EVENTS_PUBLISH_TIMEOUT: '700' },
      rabbitmq: { topology: { queues: [{ name: queue }], deadLetterExchange: names.name('dlx') } },
    });
    try {
      await app.start();
      await proxy.cut();
      await waitFor(() => app.state === 'degraded', { message: 'app degraded after the cut' });
      await assert.rejects(mq.healthCheck(), /not connected/);
      const started = performance.now();
      await assert.rejects(mq.sendToQueue(queue, { lost: false }), (error: unknown) => {
        assert.ok(error instanceof PublishTimeoutError, String(error));
        assert.match(error.message, /never sent: not connected/);
        return true;
      });
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 690 && elapsed < 700 + 500, `rejected after ${elapsed.toFixed(0)} ms`);

      // The queue disappears during the outage: the reconnect must declare it again.
      await withChannel(raw, (ch) => ch.deleteQueue(queue));
      // A publish that waits across the outage is confirmed once the connection is back
      // (mandatory: it would reject as unroutable if the queue had not been re-declared).
      const waiting = mq.sendToQueue(queue, { during: 'outage' }, { timeout: 10_000 });
      await proxy.restore();
      await waiting;
      await waitFor(() => app.state === 'ready', { message: 'ready again' });
      assert.equal(await messageCount(raw, queue), 1, 'the topology was re-declared; only the confirmed message is in the queue');
    } finally {
      await proxy.restore().catch(() => undefined);
      await app.stop();
      await names.cleanup();
    }
  });

  it('non-critical and down at startup: the app starts degraded, then connects, declares and consumes in the background', async () => {
    const names = scratchAmqpNames();
    const queue = names.name('q');
    names.name('q.dlq');
    names.name('q.retry');
    await proxy.cut();
    const { app, mq } = testApp({
      env: { ...throughProxy(), TEST_APP_EVENTS_CRITICAL: 'false' },
      rabbitmq: { topology: { queues: [{ name: queue }], deadLetterExchange: names.name('dlx') } },
    });
    const got: unknown[] = [];
    try {
      const starting = app.start();
      // Registered before the plugin is up: it must start consuming once it recovers.
      const subscription = mq.subscribe(queue, (message) => void got.push(message.body));
      await starting;
      assert.equal(app.state, 'degraded');
      await assert.rejects(mq.sendToQueue(queue, {}), PluginUnavailableError);
      await proxy.restore();
      await waitFor(() => app.state === 'ready', { timeoutMs: 10_000, message: 'recovered in the background' });
      await subscription.ready;
      await mq.sendToQueue(queue, { n: 1 });
      await waitFor(() => got.length === 1);
      assert.deepEqual(got, [{ n: 1 }]);
    } finally {
      await proxy.restore().catch(() => undefined);
      await app.stop();
      await names.cleanup();
    }
  });
});
