import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import * as Sentry from '@sentry/node';
import { createApp } from '@plinth/core';
import { LogCapture } from '@plinth/testkit';
import { sentry, type SentryPlugin } from '../src/index.js';
import { processState } from '../src/process-state.js';

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

  it('stays off when the preload initialised the SDK', async () => {
    // What `--import @plinth/plugin-sentry/preload` leaves behind with a DSN set.
    Sentry.init({ dsn: 'http://key@127.0.0.1:9/1' });
    processState().preload = { app: 'orders', prefix: 'error_tracking', sdk: Sentry };
    try {
      const app = createApp({
        name: 'orders',
        plugins: [sentry('error_tracking', { optional: true })],
        env: { ORDERS_ERROR_TRACKING_ENABLED: 'false', ORDERS_ERROR_TRACKING_DSN: 'http://key@127.0.0.1:9/1' },
        logDestination: new LogCapture(),
      });
      await app.start();
      const tracker = app.plugin('error_tracking') as SentryPlugin;
      assert.equal(tracker.mode, 'off');
      assert.equal(tracker.sdk, undefined);
      assert.equal(tracker.captureMessage('dropped'), undefined);
      await app.stop();
    } finally {
      processState().preload = undefined;
      await Sentry.close(0);
    }
  });
});
