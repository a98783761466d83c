import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createApp } from '@plinth/core';
import { LogCapture } from '@plinth/testkit';
import { sentry, type SentryPlugin } from '../src/index.js';

describe('sentry declared optional and turned off', () => {
  it('drops every event even with a DSN set, and shows as disabled', async () => {
    const app = createApp({
      name: 'orders',
      plugins: [sentry('error_tracking', { optional: true })],
      env: { ORDERS_ERROR_TRACKING_ENABLED: 'false', ORDERS_ERROR_TRACKING_DSN: 'http://key@127.0.0.1:1/1' },
      logDestination: new LogCapture(),
    });
    await app.start();
    const tracker = app.plugin('error_tracking') as SentryPlugin;
    assert.equal(tracker.enabled, false);
    assert.equal((await app.health.report()).checks['error_tracking']?.status, 'disabled');
    await app.stop();
  });
});
