import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { LifecycleEvent } from '@plinth/core';
import type { RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import { waitFor } from '@plinth/testkit';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../src/index.js';
import { relayApp } from './support/harness.js';

describe('outbox on embedded PGlite and the in-process broker', () => {
  it('starts after both plugins and stops before them, relays a committed event woken by PGlite LISTEN, and processedOnce handles each id once', async () => {
    // No server URLs: both plugins run embedded. The poll is a minute away, so only NOTIFY can deliver in time.
    const relay = relayApp({ exchange: 'users', queue: 'welcome', env: { RELAY_TEST_USER_EVENTS_POLL_INTERVAL: '60s' } });
    const lifecycle: LifecycleEvent[] = [];
    relay.app.on('lifecycle', (event) => void lifecycle.push(event));
    await relay.app.start();
    try {
      const mq = relay.app.plugin('events') as RabbitMqPlugin;
      const box = relay.outbox();
      await relay.db().db.execute(sql`create table welcomes (user_id int, message_id text)`);
      const seen: string[] = [];
      mq.subscribe<{ userId: number }>('welcome', async (message) => {
        seen.push(message.id);
        await box.processedOnce(message, (tx) => tx.execute(sql`insert into welcomes values (${message.body.userId}, ${message.id})`));
      });
      const messageId = await relay.db().transaction((tx) => box.add(tx, 'user.created', { userId: 7 }, { key: 'user:7' }));
      await waitFor(() => seen.length === 1, { timeoutMs: 10_000, message: 'delivered through NOTIFY' });
      // The same message again, as a redelivery would bring it: no second effect.
      await mq.publish('users', 'user.created', { userId: 7 }, { messageId });
      await waitFor(() => seen.length === 2, { timeoutMs: 5_000, message: 'the copy delivered' });
      await waitFor(async () => (await box.backlog()).pending === 0, { timeoutMs: 5_000, message: 'marked sent' });
      const rows = rowsOf<{ user_id: number; message_id: string }>(await relay.db().db.execute(sql`select user_id, message_id from welcomes`));
      assert.deepEqual(rows, [{ user_id: 7, message_id: messageId }]);
    } finally {
      await relay.app.stop();
    }
    const at = (component: string, phase: LifecycleEvent['phase'], outcome: LifecycleEvent['outcome']): number => {
      const i = lifecycle.findIndex((e) => e.component === component && e.phase === phase && e.outcome === outcome);
      assert.ok(i >= 0, `${component} ${phase} ${outcome} seen`);
      return i;
    };
    for (const dependency of ['primary_db', 'events']) {
      assert.ok(at(dependency, 'preStart', 'succeeded') < at('user_events', 'preStart', 'begin'), `${dependency} started before the outbox`);
      assert.ok(at('user_events', 'onStop', 'succeeded') < at(dependency, 'onStop', 'begin'), `the outbox stopped before ${dependency}`);
    }
  });
});
