import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createApp, PluginUnavailableError } from '@plinth/core';
import { LogCapture } from '@plinth/testkit';
import { rabbitmq, type RabbitMqPlugin } from '../src/index.js';

describe('rabbitmq declared optional and turned off', () => {
  it('refuses to publish with an error naming the setting, connects nothing, and shows as disabled', async () => {
    const app = createApp({
      name: 'orders',
      plugins: [rabbitmq('events', { optional: true, topology: { exchanges: [{ name: 'orders', type: 'topic' }] } })],
      // Never dialled: a plugin turned off reads none of its settings.
      env: { ORDERS_EVENTS_ENABLED: 'false', ORDERS_EVENTS_URL: 'amqp://127.0.0.1:1' },
      logDestination: new LogCapture(),
    });
    await app.start();
    const events = app.plugin('events') as RabbitMqPlugin;
    await assert.rejects(
      events.publish('orders', 'order.created', { id: 1 }),
      (error) => PluginUnavailableError.is(error) && /turned off \(ORDERS_EVENTS_ENABLED=false\)/.test(error.message),
    );
    assert.equal((await app.health.report()).checks['events']?.status, 'disabled');
    assert.equal(app.state, 'ready', 'a broker turned off does not hold readiness');
    await app.stop();
  });
});
