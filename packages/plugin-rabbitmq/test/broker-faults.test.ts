import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { requireService, serviceAddress, startTcpProxy, waitFor, type TcpProxy } from '@plinth/testkit';
import { PublishTimeoutError } from '../src/index.js';
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

describe('a short broker cut with the default backoff and publish timeout', () => {
  it('retries at least every 2 s during a 10 s cut, rejects a publish after 3 s, and reconnects within about 2 s of the broker\'s return', async () => {
    // The harness's fast test backoff replaced by the shipped defaults.
    const defaults = {
      TEST_APP_EVENTS_RECONNECT_DELAY: String(rabbitmqSettings.reconnectDelay.default),
      TEST_APP_EVENTS_RECONNECT_MAX_DELAY: String(rabbitmqSettings.reconnectMaxDelay.default),
    };
    const { app, mq, logs } = testApp({ env: { ...throughProxy(), ...defaults } });
    await app.start();
    try {
      await proxy.cut();
      const cutAt = Date.now();
      await waitFor(() => app.state === 'degraded', { timeoutMs: 5000, message: 'unavailable after the cut' });
      const publishing = performance.now();
      const publish = await mq.sendToQueue('plinth.never-sent', { n: 1 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      const publishMs = performance.now() - publishing;
      assert.ok(publish instanceof PublishTimeoutError, String(publish));
      assert.ok(publishMs >= 2900 && publishMs < 4500, `a publish waits at most PUBLISH_TIMEOUT: rejected after ${Math.round(publishMs)} ms`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + 10_000 - Date.now())));

      // Each failed attempt logs a line: the pauses between them (and since the last) are the backoff.
      const failures = logs.matching(/^reconnect failed; retrying$/).map((line) => Number(line['time']));
      const marks = [cutAt, ...failures, Date.now()];
      const pauses = marks.slice(1).map((at, i) => at - (marks[i] as number));
      const longest = Math.max(...pauses);
      assert.ok(failures.length >= 5, `attempts during the cut: ${failures.length}`);
      assert.ok(longest < 3000, `longest pause between attempts: ${longest} ms (${pauses.join(', ')})`);

      await proxy.restore();
      const restored = performance.now();
      await waitFor(() => app.state === 'ready', { timeoutMs: 10_000, intervalMs: 20, message: 'ready again' });
      const backMs = Math.round(performance.now() - restored);
      console.log(`10 s cut, default backoff: ${failures.length} attempts, longest pause ${longest} ms; ready ${backMs} ms after the broker returned`);
      assert.ok(backMs < 3000, `ready ${backMs} ms after the broker returned`);
    } finally {
      await proxy.restore().catch(() => undefined);
      await app.stop();
    }
  });
});
