import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { requireService, serviceAddress, startTcpProxy, waitFor, type TcpProxy } from '@plinth/testkit';
import { rabbitmqSettings } from '../src/settings.js';
import { testApp } from './support/harness.js';

let proxy: TcpProxy;

before(async () => {
  await requireService('rabbitmq');
  const { host, port } = serviceAddress('rabbitmq');
  proxy = await startTcpProxy({ targetHost: host, targetPort: port });
});
after(async () => {
  await proxy.close();
});

const throughProxy = () => ({ TEST_APP_EVENTS_URL: `amqp://guest:guest@${proxy.host}:${proxy.port}/` });

describe('a broker that accepts but never answers', () => {
  it('is reported down by the health check within its timeout, makes the plugin unavailable, and both recover once it answers', async () => {
    // A heartbeat far longer than the test: only an active round trip can notice the hang.
    const { app } = testApp({
      env: { ...throughProxy(), TEST_APP_EVENTS_HEARTBEAT: '60s', TEST_APP_EVENTS_HEALTH_TIMEOUT: '500', TEST_APP_HEALTH_CACHE_TTL: '0' },
    });
    await app.start();
    try {
      assert.equal((await app.health.report()).checks['events']?.status, 'up');
      proxy.hang();
      const started = performance.now();
      const report = await app.health.report();
      const tookMs = performance.now() - started;
      assert.equal(report.checks['events']?.status, 'down', 'a hung broker is not ready');
      assert.ok(tookMs < 2000, `the check ends at its timeout, not when the broker wakes up (${Math.round(tookMs)} ms)`);
      assert.equal((await app.health.report()).checks['events']?.status, 'down', 'still down while it hangs');
      assert.equal(app.state, 'degraded', 'the plugin is unavailable while the broker does not answer');
      await proxy.restore();
      await waitFor(async () => (await app.health.report()).checks['events']?.status === 'up', {
        timeoutMs: 5000,
        message: 'up again once the broker answers',
      });
      assert.equal(app.state, 'ready');
    } finally {
      await proxy.restore().catch(() => undefined);
      await app.stop();
    }
  });
});

describe('a dropped broker connection', () => {
  it('makes the health check down at once, even with a fresh cached result', async () => {
    const { app } = testApp({ env: { ...throughProxy(), TEST_APP_HEALTH_CACHE_TTL: '60000' } });
    await app.start();
    try {
      assert.equal((await app.health.report()).checks['events']?.status, 'up', 'cached as up for a minute');
      await proxy.cut();
      await waitFor(() => app.state === 'degraded', { timeoutMs: 5000, message: 'the plugin marks itself unavailable' });
      const report = await app.health.report();
      assert.equal(report.checks['events']?.status, 'down', 'the cached up result is not served after the drop');
    } finally {
      await proxy.restore();
      await app.stop();
    }
  });
});

describe('reconnect and publish defaults', () => {
  it('retry a short outage within a few hundred ms and bound a publish well under a client timeout', () => {
    const reconnectDelay = rabbitmqSettings.reconnectDelay.default as number;
    const reconnectMaxDelay = rabbitmqSettings.reconnectMaxDelay.default as number;
    const publishTimeout = rabbitmqSettings.publishTimeout.default as number;
    assert.ok(reconnectDelay <= 100, `first reconnect delay ${reconnectDelay} ms`);
    assert.ok(reconnectMaxDelay <= 2000, `reconnect delay cap ${reconnectMaxDelay} ms`);
    assert.ok(publishTimeout <= 3000, `publish timeout ${publishTimeout} ms`);
  });
});
