import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { PluginUnavailableError } from '@plinth/core';
import { requireService, scratchAmqpNames, waitFor, type ScratchAmqpNames } from '@plinth/testkit';
import type amqp from 'amqplib';
import { REJECTED_REASON_HEADER, type TopologyDeclaration } from '../src/index.js';
import { drainQueue, messageCount, rawConnection, testApp, withChannel } from './support/harness.js';

let url: string;
let raw: amqp.ChannelModel;

before(async () => {
  url = await requireService('rabbitmq');
  raw = await rawConnection();
});
after(async () => {
  await raw.close();
});

function scratchQueue(names: ScratchAmqpNames): { topology: TopologyDeclaration; queue: string; dlq: string } {
  const queue = names.name('q');
  const dlq = names.name('q.dlq');
  names.name('q.retry');
  return { queue, dlq, topology: { queues: [{ name: queue }], deadLetterExchange: names.name('dlx') } };
}

interface Order {
  readonly orderId: number;
}
const isOrder = (payload: unknown): payload is Order =>
  typeof payload === 'object' && payload !== null && typeof (payload as { orderId?: unknown }).orderId === 'number';

describe('consumer safety on RabbitMQ', () => {
  it('waits a growing delay between retries (through the delay queue), instead of requeueing at once', async () => {
    const names = scratchAmqpNames();
    const { topology, queue, dlq } = scratchQueue(names);
    const { app, mq } = testApp({ env: { TEST_APP_EVENTS_URL: url }, rabbitmq: { topology } });
    const attempts: { attempt: number; at: number }[] = [];
    try {
      await app.start();
      mq.subscribe(
        queue,
        (message) => {
          attempts.push({ attempt: message.attempt, at: performance.now() });
          throw new Error('still failing');
        },
        { maxAttempts: 3, retryDelay: 300 },
      );
      await mq.sendToQueue(queue, { orderId: 1 });
      await waitFor(async () => (await messageCount(raw, dlq)) === 1, { timeoutMs: 10_000, message: 'dead-lettered after 3 attempts' });
      assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3]);
      const [a, b, c] = attempts.map((x) => x.at) as [number, number, number];
      assert.ok(b - a >= 290, `first retry waited ${Math.round(b - a)} ms (≥ 300)`);
      assert.ok(c - b >= 590, `second retry waited ${Math.round(c - b)} ms (≥ 600)`);
    } finally {
      await app.stop();
      await names.cleanup();
    }
  });

  it('dead-letters malformed messages at once, with the reason in x-plinth-rejected-reason, without running the handler', async () => {
    const names = scratchAmqpNames();
    const { topology, queue, dlq } = scratchQueue(names);
    const { app, mq } = testApp({ env: { TEST_APP_EVENTS_URL: url }, rabbitmq: { topology } });
    const handled: unknown[] = [];
    try {
      await app.start();
      mq.subscribe<Order>(queue, (message) => void handled.push(message.body), { validate: isOrder });
      await withChannel(raw, async (ch) => {
        const json = { contentType: 'application/json' };
        ch.sendToQueue(queue, Buffer.from('{"orderId":1}'), json); // no message id
        ch.sendToQueue(queue, Buffer.from('orderId=2'), { contentType: 'text/plain', messageId: 'text' });
        ch.sendToQueue(queue, Buffer.from([0, 1, 2]), { contentType: 'application/octet-stream', messageId: 'binary' });
        ch.sendToQueue(queue, Buffer.from('null'), { ...json, messageId: 'null' });
        ch.sendToQueue(queue, Buffer.from('{"total":3}'), { ...json, messageId: 'missing-field' });
        ch.sendToQueue(queue, Buffer.from('{"orderId":'), { ...json, messageId: 'truncated' });
        ch.sendToQueue(queue, Buffer.from('{"orderId":7}'), { ...json, messageId: 'good' });
      });
      await waitFor(async () => handled.length === 1 && (await messageCount(raw, dlq)) === 6, { timeoutMs: 10_000, message: '6 dead letters and 1 handled' });
      assert.deepEqual(handled, [{ orderId: 7 }]);
      const reasons = Object.fromEntries(
        (await drainQueue(raw, dlq)).map((m) => [String(m.properties.messageId ?? 'none'), m.properties.headers?.[REJECTED_REASON_HEADER]]),
      );
      assert.equal(Object.values(reasons).filter((r) => r === 'missing-message-id').length, 1);
      assert.deepEqual(
        Object.fromEntries(Object.entries(reasons).filter(([, r]) => r !== 'missing-message-id')),
        { text: 'not-json', binary: 'not-json', null: 'invalid-payload', 'missing-field': 'invalid-payload', truncated: 'not-json' },
      );
      assert.equal(mq.stats.retried, 0, 'no retries for messages that can never succeed');
    } finally {
      await app.stop();
      await names.cleanup();
    }
  });

  it('pauses a consumer whose handler reports its dependency unavailable: no attempt counted, nothing dead-lettered, all handled once it is back', async () => {
    const names = scratchAmqpNames();
    const { topology, queue, dlq } = scratchQueue(names);
    const { app, mq } = testApp({ env: { TEST_APP_EVENTS_URL: url }, rabbitmq: { topology } });
    let databaseUp = false;
    let calls = 0;
    const handled = new Map<string, number>();
    try {
      await app.start();
      mq.subscribe(
        queue,
        (message) => {
          calls += 1;
          if (!databaseUp) throw new PluginUnavailableError('postgres', 'primary_db', 'connection refused');
          handled.set(message.id, message.attempt);
        },
        { maxAttempts: 2, prefetch: 5 },
      );
      for (let i = 0; i < 20; i++) await mq.sendToQueue(queue, { orderId: i });
      await waitFor(() => mq.stats.paused >= 2, { timeoutMs: 10_000, message: 'consumer paused, then paused again after a failed test delivery' });
      const callsWhileDown = calls;
      // 20 messages with maxAttempts 2 would have dead-lettered all of them by now if each failure counted.
      assert.ok(callsWhileDown <= 5 * (mq.stats.paused + 1), `${callsWhileDown} handler calls over ${mq.stats.paused} pauses: at most a prefetch per test delivery`);
      databaseUp = true;
      await waitFor(() => handled.size === 20, { timeoutMs: 20_000, message: 'all 20 handled after the dependency came back' });
      assert.ok([...handled.values()].every((attempt) => attempt === 1), 'the outage cost no attempt');
      assert.equal(await messageCount(raw, dlq), 0);
      assert.equal(mq.stats.deadLettered, 0);
    } finally {
      await app.stop();
      await names.cleanup();
    }
  });
});

describe('consumer safety on the in-process broker', () => {
  it('retries through the delay queue, whose per-message TTL sends the copy back after the wait', async () => {
    const { app, mq } = testApp({ rabbitmq: { topology: { queues: [{ name: 'orders' }] } } });
    const attempts: number[] = [];
    try {
      await app.start();
      mq.subscribe(
        'orders',
        (message) => {
          attempts.push(performance.now());
          if (message.attempt < 2) throw new Error('first try fails');
        },
        { retryDelay: 200 },
      );
      await mq.sendToQueue('orders', { orderId: 1 });
      await waitFor(() => mq.stats.handled === 1, { timeoutMs: 5_000, message: 'handled on the second attempt' });
      const [first, second] = attempts as [number, number];
      assert.ok(second - first >= 190, `retry waited ${Math.round(second - first)} ms (≥ 200)`);
      assert.equal(mq.stats.retried, 1);
    } finally {
      await app.stop();
    }
  });
});
