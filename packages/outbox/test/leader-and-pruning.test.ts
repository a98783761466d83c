import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createScratchPostgresDatabase, requireService, scratchAmqpNames, waitFor, type ScratchPostgresDatabase } from '@plinth/testkit';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../src/index.js';
import { duplicates, recordDeliveries, relayApp, writeEvents } from './support/harness.js';

let amqpUrl: string;
let scratch: ScratchPostgresDatabase;

before(async () => {
  amqpUrl = await requireService('rabbitmq');
  scratch = await createScratchPostgresDatabase('outbox_leader');
});
after(() => scratch.drop());

describe('outbox relay: the advisory-lock claim mode and scheduled pruning', () => {
  it('with claim advisory-lock, two relays on one database: no message published twice while both live, none left behind', async () => {
    const names = scratchAmqpNames('outbox');
    const exchange = names.name('x');
    const queue = names.name('q');
    const env = { RELAY_TEST_USER_EVENTS_BATCH_SIZE: '50' };
    const first = relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue, claim: 'advisory-lock', env });
    const second = relayApp({ dbUrl: scratch.url, amqpUrl, exchange, queue, claim: 'advisory-lock', env });
    await Promise.all([first.app.start(), second.app.start()]);
    const consumer = await recordDeliveries(amqpUrl, queue);
    try {
      const ids = await Promise.all([writeEvents(first, 200, { concurrency: 4 }), writeEvents(second, 200, { concurrency: 4 })]);
      const written = new Set(ids.flat());
      await waitFor(() => new Set(consumer.received.map((r) => r.messageId)).size >= written.size, { timeoutMs: 30_000, message: 'every event delivered' });
      await waitFor(async () => (await first.outbox().backlog()).pending === 0, { timeoutMs: 5_000, message: 'every event marked sent' });
      assert.deepEqual(duplicates(consumer.received), [], 'no message id delivered twice');
      assert.equal(consumer.received.length, written.size);
      assert.equal(first.outbox().stats.published + second.outbox().stats.published, written.size);
    } finally {
      await consumer.close();
      await Promise.all([first.app.stop(), second.app.stop()]);
      await names.cleanup();
    }
  });

  it('prunes sent events past the retention on its own schedule', async () => {
    const names = scratchAmqpNames('outbox');
    const env = { RELAY_TEST_USER_EVENTS_SCHEMA: 'outbox_pruned', RELAY_TEST_USER_EVENTS_RETENTION: '1', RELAY_TEST_USER_EVENTS_PRUNE_INTERVAL: '200' };
    const relay = relayApp({ dbUrl: scratch.url, amqpUrl, exchange: names.name('x'), queue: names.name('q'), env });
    await relay.app.start();
    try {
      await writeEvents(relay, 5);
      const count = async (): Promise<number> =>
        rowsOf<{ n: number }>(await relay.db().db.execute(sql`select count(*)::int as n from outbox_pruned.user_events`))[0]?.n ?? -1;
      await waitFor(async () => (await count()) === 0, { timeoutMs: 10_000, message: 'sent events pruned without a prune() call' });
      assert.equal(relay.outbox().stats.published, 5, 'pruned only after they were published');
    } finally {
      await relay.app.stop();
      await names.cleanup();
    }
  });
});
