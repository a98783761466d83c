import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { freePort, requireService, scratchAmqpNames, waitFor, type ScratchAmqpNames } from '@plinth/testkit';
import type amqp from 'amqplib';
import { ExchangeNotFoundError, UnroutableError, type ReceivedMessage, type TopologyDeclaration } from '../src/index.js';
import { deferred, drainQueue, messageCount, rawConnection, testApp, withChannel } from './support/harness.js';

let url: string;
let raw: amqp.ChannelModel;

before(async () => {
  url = await requireService('rabbitmq');
  raw = await rawConnection();
});
after(async () => {
  await raw.close();
});

/** An exchange, a queue bound to it with key `k`, its dead-letter queue, all scratch-named. */
function scratchTopology(names: ScratchAmqpNames): { topology: TopologyDeclaration; exchange: string; queue: string; dlq: string } {
  const exchange = names.name('x');
  const queue = names.name('q');
  const dlq = names.name('q.dlq');
  names.name('q.retry'); // the delay queue, so cleanup deletes it
  return {
    exchange,
    queue,
    dlq,
    topology: {
      exchanges: [{ name: exchange, type: 'direct' }],
      queues: [{ name: queue, bindings: [{ exchange, routingKey: 'k' }] }],
      deadLetterExchange: names.name('dlx'),
    },
  };
}

describe('rabbitmq against a real broker', () => {
  it('round trip: a confirmed publish is in the queue; the consumer gets it typed, with id and headers, and acks it', async () => {
    const names = scratchAmqpNames();
    const { topology, exchange, queue, dlq } = scratchTopology(names);
    const { app, mq } = testApp({ env: { TEST_APP_EVENTS_URL: url }, rabbitmq: { topology } });
    try {
      await app.start();
      const receipt = await mq.publish(exchange, 'k', { orderId: 42 }, { headers: { tenant: 'acme' } });
      assert.equal(await messageCount(raw, queue), 1, 'confirmed means the broker has it in the queue');

      const received = deferred<ReceivedMessage<{ orderId: number }>>();
      const subscription = mq.subscribe<{ orderId: number }>(queue, (message) => received.resolve(message));
      await subscription.ready;
      const message = await received.promise;
      assert.deepEqual(message.body, { orderId: 42 });
      assert.equal(message.id, receipt.messageId);
      assert.equal(message.contentType, 'application/json');
      assert.equal(message.headers['tenant'], 'acme');
      assert.equal(message.attempt, 1);
      assert.equal(message.redelivered, false);
      assert.ok(message.timestamp instanceof Date && Math.abs(message.timestamp.getTime() - Date.now()) < 5000);
      await mq.healthCheck();
    } finally {
      await app.stop();
    }
    // Closing the connection returns unacked messages to the queue: empty means it was acked.
    assert.equal(await messageCount(raw, queue), 0, 'the handled message was acked');
    assert.equal(await messageCount(raw, dlq), 0);
    await names.cleanup();
  });

  it('rejects an unroutable mandatory publish, and accepts it with mandatory: false', async () => {
    const names = scratchAmqpNames();
    const { topology, exchange } = scratchTopology(names);
    const { app, mq } = testApp({ env: { TEST_APP_EVENTS_URL: url }, rabbitmq: { topology } });
    try {
      await app.start();
      await assert.rejects(mq.publish(exchange, 'nobody-listens', { a: 1 }), (error: unknown) => {
        assert.ok(error instanceof UnroutableError, String(error));
        assert.equal(error.reason, 'unroutable');
        assert.equal(error.exchange, exchange);
        return true;
      });
      const receipt = await mq.publish(exchange, 'nobody-listens', { a: 1 }, { mandatory: false });
      assert.ok(receipt.messageId);
      // Publishing goes on normally after a returned message.
      await mq.publish(exchange, 'k', { a: 2 });
    } finally {
      await app.stop();
      await names.cleanup();
    }
  });

  it('rejects a publish to a missing exchange without crashing, and keeps publishing on a fresh channel', async () => {
    const names = scratchAmqpNames();
    const { topology, exchange, queue } = scratchTopology(names);
    const { app, mq, logs } = testApp({ env: { TEST_APP_EVENTS_URL: url }, rabbitmq: { topology } });
    try {
      await app.start();
      const missing = names.name('missing');
      await assert.rejects(mq.publish(missing, 'k', { a: 1 }), (error: unknown) => error instanceof ExchangeNotFoundError && error.exchange === missing);

      // An exchange deleted behind the plugin's back: the broker closes the confirm
      // channel with 404; that publish rejects, the channel is reopened.
      const doomed = names.name('doomed');
      await withChannel(raw, (ch) => ch.assertExchange(doomed, 'fanout', { durable: false }));
      await mq.publish(doomed, '', { a: 1 }, { mandatory: false });
      await withChannel(raw, (ch) => ch.deleteExchange(doomed));
      const good = Array.from({ length: 20 }, (_, i) => mq.publish(exchange, 'k', { i }));
      await assert.rejects(mq.publish(doomed, '', { a: 2 }, { mandatory: false }), ExchangeNotFoundError);
      const more = Array.from({ length: 20 }, (_, i) => mq.publish(exchange, 'k', { i: 20 + i }));
      await Promise.all([...good, ...more]);
      assert.ok(logs.matching(/publish channel closed by the broker/).length >= 1, 'the 404 really closed the confirm channel');
      // Messages in flight on the closed channel are sent again: at least 40, maybe more.
      assert.ok((await messageCount(raw, queue)) >= 40);
      await mq.healthCheck();
      assert.equal(app.state, 'ready');
    } finally {
      await app.stop();
      await names.cleanup();
    }
  });

  it('dead-letters a message whose handler always throws after maxAttempts, with the attempts and error in headers', async () => {
    const names = scratchAmqpNames();
    const { topology, exchange, queue, dlq } = scratchTopology(names);
    const { app, mq } = testApp({ env: { TEST_APP_EVENTS_URL: url }, rabbitmq: { topology } });
    const attempts: number[] = [];
    try {
      await app.start();
      const { messageId } = await mq.publish(exchange, 'k', { poison: true });
      mq.subscribe(
        queue,
        (message) => {
          attempts.push(message.attempt);
          throw new Error(`cannot handle ${message.id}`);
        },
        { maxAttempts: 3 },
      );
      await waitFor(async () => (await messageCount(raw, dlq)) === 1, { timeoutMs: 10_000, message: 'message in the dead-letter queue' });
      assert.deepEqual(attempts, [1, 2, 3], 'exactly maxAttempts handler runs, no poison loop');
      const [dead] = await drainQueue(raw, dlq);
      assert.ok(dead);
      assert.equal(dead.properties.messageId, messageId);
      assert.equal(Number(dead.properties.headers?.['x-attempts']), 3);
      assert.match(String(dead.properties.headers?.['x-error']), /cannot handle/);
      assert.equal(dead.properties.headers?.['x-original-queue'], queue);
      assert.deepEqual(JSON.parse(dead.content.toString()), { poison: true });
    } finally {
      await app.stop();
    }
    assert.deepEqual(attempts, [1, 2, 3], 'no further attempt after dead-lettering');
    assert.equal(await messageCount(raw, queue), 0);
    await names.cleanup();
  });

  it('dead-letters an undecodable message at once, without calling the handler', async () => {
    const names = scratchAmqpNames();
    const { topology, queue, dlq } = scratchTopology(names);
    const { app, mq } = testApp({ env: { TEST_APP_EVENTS_URL: url }, rabbitmq: { topology } });
    let calls = 0;
    try {
      await app.start();
      await withChannel(raw, async (ch) => {
        ch.sendToQueue(queue, Buffer.from('{not json'), { contentType: 'application/json', messageId: 'broken-1' });
      });
      mq.subscribe(queue, () => {
        calls += 1;
      });
      await waitFor(async () => (await messageCount(raw, dlq)) === 1, { timeoutMs: 10_000, message: 'message in the dead-letter queue' });
      assert.equal(calls, 0);
      const [dead] = await drainQueue(raw, dlq);
      assert.match(String(dead?.properties.headers?.['x-error']), /SyntaxError/);
    } finally {
      await app.stop();
      await names.cleanup();
    }
  });

  it('fails preStart with an error naming the prefix and host:port, never the password', async () => {
    const port = await freePort();
    const { app } = testApp({
      env: {
        TEST_APP_EVENTS_HOST: '127.0.0.1',
        TEST_APP_EVENTS_PORT: String(port),
        TEST_APP_EVENTS_PASSWORD: 'hunter2-secret',
        TEST_APP_EVENTS_START_TIMEOUT: '600',
      },
    });
    await assert.rejects(app.start(), (error: Error) => {
      assert.match(error.message, /events/);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
    assert.equal(app.state, 'failed');
  });

  it('redacts the password of a URL in startup errors', async () => {
    const port = await freePort();
    const { app, logs } = testApp({ env: { TEST_APP_EVENTS_URL: `amqp://app:pa55-word-x@127.0.0.1:${port}/`, TEST_APP_EVENTS_START_TIMEOUT: '400' } });
    await assert.rejects(app.start(), (error: Error) => !error.message.includes('pa55-word-x') && error.message.includes(`127.0.0.1:${port}`));
    assert.ok(!JSON.stringify(logs.lines).includes('pa55-word-x'), 'no log line holds the password');
  });

  it('fails startup when the topology conflicts with the broker, naming the declaration', async () => {
    const names = scratchAmqpNames();
    const exchange = names.name('x');
    await withChannel(raw, (ch) => ch.assertExchange(exchange, 'fanout', { durable: false }));
    const { app } = testApp({
      env: { TEST_APP_EVENTS_URL: url, TEST_APP_EVENTS_START_TIMEOUT: '500' },
      rabbitmq: { topology: { exchanges: [{ name: exchange, type: 'topic' }] } },
    });
    try {
      await assert.rejects(app.start(), /exchange .* \(topic\) failed: .*PRECONDITION_FAILED/);
    } finally {
      await names.cleanup();
    }
  });

  it('reopens a consumer channel the broker closed (queue deleted) and consumes again once the queue is back', async () => {
    const names = scratchAmqpNames();
    const queue = names.name('q');
    const { app, mq, logs } = testApp({ env: { TEST_APP_EVENTS_URL: url }, rabbitmq: { topology: { queues: [{ name: queue, deadLetter: false }] } } });
    const seen: string[] = [];
    try {
      await app.start();
      const subscription = mq.subscribe<{ n: string }>(queue, (message) => void seen.push(message.body.n));
      await subscription.ready;
      await mq.sendToQueue(queue, { n: 'before' });
      await waitFor(() => seen.includes('before'));

      await withChannel(raw, (ch) => ch.deleteQueue(queue));
      await waitFor(() => logs.matching(/the broker cancelled the consumer/).length === 1, { message: 'consumer cancelled by the broker' });
      await assert.rejects(mq.healthCheck(), /consumer channel closed/);

      await withChannel(raw, (ch) => ch.assertQueue(queue, { durable: true }));
      await waitFor(async () => {
        await mq.healthCheck();
        return true;
      }, { timeoutMs: 10_000, message: 'consumer re-subscribed' });
      await mq.sendToQueue(queue, { n: 'after' });
      await waitFor(() => seen.includes('after'), { message: 'consumed after the queue came back' });
      assert.equal(app.state, 'ready', 'a consumer channel is not the connection: the app stayed ready');
    } finally {
      await app.stop();
      await names.cleanup();
    }
  });
});
