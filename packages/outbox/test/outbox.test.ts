import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { PluginUnavailableError } from '@plinth/core';
import { createScratchPostgresDatabase, requireService, scratchAmqpNames, serviceAddress, startTcpProxy, waitFor, type ScratchPostgresDatabase } from '@plinth/testkit';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { rowsOf } from '../src/index.js';
import { duplicates, outboxMetrics, recordDeliveries, relayApp, writeEvents } from './support/harness.js';

let amqpUrl: string;
let scratch: ScratchPostgresDatabase;

before(async () => {
  amqpUrl = await requireService('rabbitmq');
  scratch = await createScratchPostgresDatabase('outbox');
});
after(() => scratch.drop());

describe('outbox relay on PostgreSQL and RabbitMQ', () => {
  it('publishes a committed event once with the message id given at write time, woken by NOTIFY, and nothing for a rolled-back one', async () => {
    const names = scratchAmqpNames('outbox');
    const exchange = names.name('x');
    const queue = names.name('q');
    // The poll is a minute away: only the notification at commit can deliver within the wait.
    const relay = relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue, env: { RELAY_TEST_USER_EVENTS_POLL_INTERVAL: '60s' } });
    await relay.app.start();
    const consumer = await recordDeliveries(amqpUrl, queue);
    try {
      await assert.rejects(
        relay.db().transaction(async (tx) => {
          await relay.outbox().add(tx, 'user.created', { userId: 0 });
          throw new Error('rolled back');
        }),
        /rolled back/,
      );
      const messageId = await relay.db().transaction((tx) => relay.outbox().add(tx, 'user.created', { userId: 1 }, { key: 'user:1', headers: { source: 'test' } }));
      await waitFor(() => consumer.received.length >= 1, { timeoutMs: 5_000, message: 'event delivered without waiting for the poll' });
      await relay.outbox().backlog(); // one more round trip, so a stray second message would be here by now
      assert.equal(consumer.received.length, 1, 'the rolled-back event was never published');
      const [event] = consumer.received;
      assert.equal(event?.messageId, messageId);
      assert.deepEqual(event?.body, { userId: 1 });
      assert.equal(event?.headers['source'], 'test');
      assert.ok(Number(event?.headers['x-outbox-created-at']) > 0);
      // The consumer can see the event before the relay's transaction that marks it sent commits.
      await waitFor(
        async () => rowsOf<{ sent: boolean }>(await relay.db().db.execute(sql`select sent_at is not null as sent from plinth.user_events where message_id = ${messageId}::uuid`))[0]?.sent,
        { timeoutMs: 5_000, message: 'marked sent after the confirm' },
      );

      // On the app's registry with nothing registered by hand. The backlog is read at most
      // every 500 ms: wait for a reading taken after the mark.
      const value = await waitFor(async () => {
        const read = outboxMetrics(await relay.app.metrics.metrics());
        return read('plinth_outbox_backlog') === 0 ? read : undefined;
      }, { timeoutMs: 3_000, message: 'backlog gauge at 0' });
      assert.equal(value('plinth_outbox_published_total'), 1);
      assert.equal(value('plinth_outbox_publish_failures_total'), 0);
      assert.equal(value('plinth_outbox_publish_lag_seconds_count'), 1);
      assert.equal(value('plinth_outbox_oldest_pending_age_seconds'), 0);
    } finally {
      await consumer.close();
      await relay.app.stop();
      await names.cleanup();
    }
  });

  it('two relays on one database under load: no message published twice while both live, none left behind', async () => {
    const names = scratchAmqpNames('outbox');
    const exchange = names.name('x');
    const queue = names.name('q');
    const first = relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue, env: { RELAY_TEST_USER_EVENTS_BATCH_SIZE: '50' } });
    const second = relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue, env: { RELAY_TEST_USER_EVENTS_BATCH_SIZE: '50' } });
    await Promise.all([first.app.start(), second.app.start()]);
    const consumer = await recordDeliveries(amqpUrl, queue);
    try {
      const ids = await Promise.all([writeEvents(first, 1500, { concurrency: 6 }), writeEvents(second, 1500, { concurrency: 6 })]);
      const written = new Set(ids.flat());
      await waitFor(() => new Set(consumer.received.map((r) => r.messageId)).size >= written.size, { timeoutMs: 30_000, message: 'every event delivered' });
      await waitFor(async () => (await first.outbox().backlog()).pending === 0, { timeoutMs: 5_000, message: 'every event marked sent' });
      assert.equal(first.app.state, 'ready');
      assert.equal(second.app.state, 'ready');
      assert.deepEqual(duplicates(consumer.received), [], 'no message id delivered twice');
      assert.equal(consumer.received.length, written.size);
      assert.ok(consumer.received.every((r) => written.has(r.messageId)));
      const { published: a } = first.outbox().stats;
      const { published: b } = second.outbox().stats;
      assert.equal(a + b, written.size);
      assert.ok(a > 0 && b > 0, `both relays shared the work (${a} / ${b})`);
    } finally {
      await consumer.close();
      await Promise.all([first.app.stop(), second.app.stop()]);
      await names.cleanup();
    }
  });

  it('keeps the order of events with the same key, across two relays', async () => {
    const names = scratchAmqpNames('outbox');
    const exchange = names.name('x');
    const queue = names.name('q');
    const first = relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue, env: { RELAY_TEST_USER_EVENTS_BATCH_SIZE: '20' } });
    const second = relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue, env: { RELAY_TEST_USER_EVENTS_BATCH_SIZE: '20' } });
    await Promise.all([first.app.start(), second.app.start()]);
    const consumer = await recordDeliveries(amqpUrl, queue);
    try {
      // Five keys written by one writer each, in order; the relays race over them.
      const keys = ['a', 'b', 'c', 'd', 'e'];
      await Promise.all(
        keys.map(async (key, k) => {
          const writer = k % 2 === 0 ? first : second;
          for (let i = 0; i < 60; i++) await writer.db().transaction((tx) => writer.outbox().add(tx, 'user.updated', { key, i }, { key }));
        }),
      );
      await waitFor(() => consumer.received.length >= 300, { timeoutMs: 20_000, message: '300 events delivered' });
      for (const key of keys) {
        const order = consumer.received.map((r) => r.body as { key: string; i: number }).filter((b) => b.key === key).map((b) => b.i);
        assert.deepEqual(order, Array.from({ length: 60 }, (_, i) => i), `events of key ${key} in write order`);
      }
    } finally {
      await consumer.close();
      await Promise.all([first.app.stop(), second.app.stop()]);
      await names.cleanup();
    }
  });

  it('broker down: writes keep succeeding, health degrades with the backlog, and the backlog drains once the broker is back', async () => {
    const names = scratchAmqpNames('outbox');
    const exchange = names.name('x');
    const queue = names.name('q');
    const { host, port } = serviceAddress('rabbitmq');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const proxied = new URL(amqpUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const relay = relayApp({ dbUrl: scratch.url, amqpUrl: proxied.toString(), exchange, queue });
    await relay.app.start();
    const consumer = await recordDeliveries(amqpUrl, queue);
    try {
      await proxy.cut();
      const ids = await writeEvents(relay, 40, { concurrency: 4 });
      assert.equal(ids.length, 40, 'every write committed while the broker was down');
      const report = await waitFor(
        async () => {
          const r = await relay.app.health.report();
          return r.checks['user_events']?.status === 'down' ? r : undefined;
        },
        { timeoutMs: 10_000, message: 'outbox health down' },
      );
      assert.equal(report.status, 'degraded');
      assert.equal(report.checks['user_events']?.critical, false);
      await assert.rejects(relay.outbox().healthCheck(), /40 events pending, oldest \d+\.\d s; publishing fails/);
      const value = outboxMetrics(await relay.app.metrics.metrics());
      assert.ok((value('plinth_outbox_publish_failures_total') ?? 0) >= 1, 'failed publishes counted');
      assert.equal(value('plinth_outbox_published_total'), 0);
      assert.equal(value('plinth_outbox_backlog'), 40, 'every written event pending');
      assert.ok((value('plinth_outbox_oldest_pending_age_seconds') ?? 0) > 0, 'the oldest pending event has an age');
      assert.equal(consumer.received.length, 0);
      await proxy.restore();
      await waitFor(() => consumer.received.length >= 40, { timeoutMs: 15_000, message: 'backlog drained' });
      assert.deepEqual(new Set(consumer.received.map((r) => r.messageId)), new Set(ids));
      await waitFor(async () => (await relay.app.health.report()).checks['user_events']?.status === 'up', { timeoutMs: 5_000, message: 'outbox healthy again' });
    } finally {
      await consumer.close();
      await relay.app.stop();
      await proxy.close();
      await names.cleanup();
    }
  });

  it('finishes the batch in flight at shutdown: every event it published is marked sent, none left published-but-pending', async () => {
    const names = scratchAmqpNames('outbox');
    const exchange = names.name('x');
    const queue = names.name('q');
    const raw = postgres(scratch.url, { max: 1, onnotice: () => undefined });
    const setup = relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue });
    await setup.app.start(); // creates the table and the queue
    await setup.app.stop();
    const consumer = await recordDeliveries(amqpUrl, queue);
    try {
      await raw`truncate plinth.user_events`;
      await raw`insert into plinth.user_events (message_id, exchange, routing_key, payload)
                select gen_random_uuid(), ${exchange}, 'user.created', json_build_object('n', g) from generate_series(1, 3000) g`;
      const relay = relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue, env: { RELAY_TEST_USER_EVENTS_BATCH_SIZE: '500' } });
      await relay.app.start();
      await waitFor(() => consumer.received.length > 0, { timeoutMs: 10_000, message: 'the relay is publishing' });
      const report = await relay.app.stop();
      assert.equal(report.clean, true);
      const [row] = await raw<{ sent: number; pending: number }[]>`
        select count(*) filter (where sent_at is not null)::int as sent, count(*) filter (where sent_at is null)::int as pending from plinth.user_events`;
      await new Promise((resolve) => setTimeout(resolve, 300)); // deliveries of confirmed publishes still on their way
      const received = new Set(consumer.received.map((r) => r.messageId)).size;
      assert.ok(row!.sent > 0 && row!.pending > 0, `stopped mid-backlog (${row!.sent} sent, ${row!.pending} pending)`);
      assert.equal(received, row!.sent, 'what the stopped relay published is exactly what it marked sent');
    } finally {
      await raw.end();
      await consumer.close();
      await names.cleanup();
    }
  });

  it('creates its table once when replicas start together, in the schema the settings name, and prunes sent events past the retention', async () => {
    const names = scratchAmqpNames('outbox');
    const exchange = names.name('x');
    const queue = names.name('q');
    const env = { RELAY_TEST_USER_EVENTS_SCHEMA: 'events_out', RELAY_TEST_USER_EVENTS_RETENTION: '1' };
    const replicas = [1, 2, 3].map(() => relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue, env }));
    await Promise.all(replicas.map((r) => r.app.start()));
    const [relay] = replicas as [ReturnType<typeof relayApp>];
    try {
      const [table] = rowsOf<{ present: boolean }>(await relay.db().db.execute(sql`select to_regclass('events_out.user_events') is not null as present`));
      assert.equal(table?.present, true);
      await writeEvents(relay, 5);
      await waitFor(async () => (await relay.outbox().backlog()).pending === 0, { timeoutMs: 5_000, message: 'published' });
      assert.equal(await relay.outbox().prune(), 5);
      const [left] = rowsOf<{ n: number }>(await relay.db().db.execute(sql`select count(*)::int as n from events_out.user_events`));
      assert.equal(left?.n, 0);
    } finally {
      await Promise.all(replicas.map((r) => r.app.stop()));
      await names.cleanup();
    }
  });

  it('processedOnce: the handler and the processed id commit together, once per message id; a lost database pauses instead of failing', async () => {
    const names = scratchAmqpNames('outbox');
    const { host, port } = serviceAddress('postgres');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const proxied = new URL(scratch.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const relay = relayApp({
      dbUrl: proxied.toString(),
      amqpUrl,
      exchange: names.name('x'),
      queue: names.name('q'),
      env: { RELAY_TEST_PRIMARY_DB_CONNECT_TIMEOUT: '1000' },
    });
    await relay.app.start();
    try {
      const box = relay.outbox();
      await box.processedOnce({ id: 'setup' }, (tx) => tx.execute(sql`create table if not exists effects (message_id text, n int)`));
      const effect = (id: string, n: number) => (tx: Parameters<Parameters<typeof box.processedOnce>[1]>[0]) =>
        tx.execute(sql`insert into effects values (${id}, ${n})`);
      const firstRun = await box.processedOnce({ id: 'm-1', queue: 'q' }, effect('m-1', 1));
      assert.equal(firstRun.duplicate, false);
      assert.deepEqual(await box.processedOnce({ id: 'm-1', queue: 'q' }, effect('m-1', 2)), { duplicate: true }, 'a redelivery skips the handler');
      await assert.rejects(box.processedOnce({ id: 'm-2', queue: 'q' }, async (tx) => {
        await effect('m-2', 1)(tx);
        throw new Error('handler failed');
      }), /handler failed/);
      await box.processedOnce({ id: 'm-2', queue: 'q' }, effect('m-2', 2));
      const rows = rowsOf<{ message_id: string; n: number }>(await relay.db().db.execute(sql`select message_id, n from effects order by message_id, n`));
      assert.deepEqual(rows.map((r) => `${r.message_id}:${r.n}`), ['m-1:1', 'm-2:2'], 'one effect per id; the failed try left nothing');

      await proxy.cut();
      await assert.rejects(box.processedOnce({ id: 'm-3', queue: 'q' }, effect('m-3', 1)), PluginUnavailableError, 'a lost connection reads as an unavailable dependency');
    } finally {
      await proxy.restore();
      await relay.app.stop();
      await proxy.close();
      await names.cleanup();
    }
  });
});
