import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, it } from 'node:test';
import * as Sentry from '@sentry/node';
import { startSentryEnvelopeServer, waitFor } from '@plinth/testkit';
import { sentry, type SentryPlugin } from '../src/index.js';
import { faulty } from './fixtures/faulty-plugin.js';
import { stopApps, trackedApp, trackingEnv } from './helpers.js';

afterEach(stopApps);

describe('without a DSN', () => {
  it('sends nothing, opens no connection, and says reporting is off', async () => {
    const server = await startSentryEnvelopeServer();
    try {
      const { app, logs } = trackedApp({
        plugins: [sentry('error_tracking'), faulty('write_buffer')],
        env: { TRACKED_APP_WRITE_BUFFER_FAIL_STOP: 'true' },
      });
      await app.start();
      const tracker = app.plugin('error_tracking') as SentryPlugin;
      assert.equal(tracker.mode, 'off');
      assert.equal(tracker.enabled, false);
      assert.equal(tracker.captureException(new Error('nobody hears this')), undefined);
      assert.equal(tracker.captureMessage('nor this'), undefined);
      assert.equal(tracker.sdk, undefined, 'the raw SDK is not loaded while off');
      assert.equal(tracker.client, undefined);
      tracker.setUser({ id: 'u-1' });
      tracker.setTag('tenant', 'acme');
      const inside = tracker.withScope((scope) => {
        scope.setTag('scoped', 'yes');
        scope.setUser({ id: 'u-2' });
        return tracker.captureMessage('inside a scope');
      });
      assert.equal(inside, undefined, 'withScope runs the callback with a scope that keeps nothing');
      // First in this file, so no earlier test left a client behind.
      assert.equal(Sentry.getClient(), undefined, 'the SDK was never initialised');
      await app.stop();
      assert.equal(logs.matching(/error reporting off: set TRACKED_APP_ERROR_TRACKING_DSN/).length, 1);
      assert.equal(server.connections, 0);
    } finally {
      await server.close();
    }
  });
});

const FLUSH_TIMEOUT = 1000;

describe('an endpoint that fails never holds the app up', () => {
  it('a hung endpoint delays shutdown by at most FLUSH_TIMEOUT (+500 ms)', async () => {
    const server = await startSentryEnvelopeServer({ mode: 'hang' });
    try {
      const { app } = trackedApp({
        plugins: [sentry('error_tracking'), faulty('write_buffer')],
        env: { [trackingEnv('DSN')]: server.dsn(), [trackingEnv('FLUSH_TIMEOUT')]: String(FLUSH_TIMEOUT), TRACKED_APP_WRITE_BUFFER_FAIL_STOP: 'true' },
      });
      await app.start();
      const tracker = app.plugin('error_tracking') as SentryPlugin;
      for (let i = 0; i < 5; i++) tracker.captureMessage(`pending ${i}`);
      await waitFor(() => server.connections > 0, { timeoutMs: 5000 });
      const began = performance.now();
      await app.stop();
      const took = performance.now() - began;
      assert.ok(took <= FLUSH_TIMEOUT + 500, `shutdown took ${Math.round(took)} ms`);
      assert.equal(server.events.length, 0, 'the endpoint never answered');
    } finally {
      await server.close();
    }
  });

  it('a refusing endpoint: startup completes, health says the last send failed, shutdown stays within FLUSH_TIMEOUT', async () => {
    const server = await startSentryEnvelopeServer({ mode: 'refuse' });
    try {
      const { app } = trackedApp({
        plugins: [sentry('error_tracking')],
        env: { [trackingEnv('DSN')]: server.dsn(), [trackingEnv('FLUSH_TIMEOUT')]: String(FLUSH_TIMEOUT) },
      });
      await app.start();
      (app.plugin('error_tracking') as SentryPlugin).captureMessage('refused');
      await waitFor(() => server.connections > 0, { timeoutMs: 5000 });
      assert.equal(app.state, 'ready');
      // Its health check says the last event was not delivered; being non-critical, the app stays ready.
      const report = await waitFor(async () => {
        const current = await app.health.report();
        return current.checks.error_tracking?.status === 'down' && current;
      });
      assert.match(report.checks.error_tracking?.error ?? '', /last Sentry event not delivered/);
      assert.equal(report.status === 'down', false);
      const began = performance.now();
      await app.stop();
      assert.ok(performance.now() - began <= FLUSH_TIMEOUT + 500);
    } finally {
      await server.close();
    }
  });
});
