import { strict as assert } from 'node:assert';
import net from 'node:net';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { ConfigError, setting } from '../src/index.js';
import { spawnFixture } from './fixtures/harness.js';
import { testApp } from './support/scripted-plugin.js';

describe('the framework\'s own paths and port', () => {
  for (const [health, metrics] of [['/metrics', '/metrics'], ['/ops', '/ops/ready']] as const) {
    it(`health path ${health} and metrics path ${metrics} overlap: a ConfigError naming both variables`, async () => {
      const { app } = testApp({ env: { TEST_APP_HEALTH_PATH: health, TEST_APP_METRICS_PATH: metrics } });
      const error: unknown = await app.start().catch((e: unknown) => e);
      assert.ok(ConfigError.is(error), String(error));
      assert.match(error.message, /TEST_APP_HEALTH_PATH/);
      assert.match(error.message, /TEST_APP_METRICS_PATH/);
    });
  }

  it('warns when a fastify route is shadowed by the probes or /metrics, naming the setting that moves them', async () => {
    const { app, logs } = testApp({});
    await app.start();
    const fastify = Fastify();
    fastify.get('/health', async () => ({ mine: true }));
    fastify.get('/orders', async () => []);
    app.attachHttpServer(fastify);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const warnings = logs.lines.filter((l) => l['level'] === 40).map((l) => String(l['msg']));
    assert.deepEqual(warnings.filter((w) => w.includes('shadowed')), [
      'your route GET /health is shadowed: the app answers /health itself (probes and metrics come first); move your route or set TEST_APP_HEALTH_PATH',
    ]);
    await app.stop();
  });

  it('a taken health port fails startup with an error naming {APP}_HEALTH_PORT, not a bare EADDRINUSE', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const { child } = await spawnFixture({ FIXTURE_APP_HEALTH_PORT: String(port), FIXTURE_HTTP: 'off' });
      const { code } = await child.exited;
      assert.equal(code, 1, child.tail());
      assert.match(child.stderr, new RegExp(`FIXTURE_APP_HEALTH_PORT=${port}: the health server cannot listen on 127\\.0\\.0\\.1:${port}, which is already in use`), child.tail());
    } finally {
      blocker.close();
    }
  });
});

describe('the health server\'s address', () => {
  const httpHost = { httpHost: setting.string({ doc: 'Address the service listens on' }) };
  const cases = [
    { why: 'the service\'s own HTTP host, even in a pod', env: { TEST_APP_HTTP_HOST: '127.0.0.1', KUBERNETES_SERVICE_HOST: '10.0.0.1' }, address: '127.0.0.1' },
    { why: 'HEALTH_HOST over the service\'s own HTTP host', env: { TEST_APP_HTTP_HOST: '0.0.0.0', TEST_APP_HEALTH_HOST: '127.0.0.1' }, address: '127.0.0.1' },
    { why: 'every interface in a pod without an HTTP host (the kubelet probes the pod IP)', env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, address: '0.0.0.0' },
    { why: 'loopback elsewhere without an HTTP host', env: {}, address: '127.0.0.1' },
  ];
  for (const { why, env, address } of cases) {
    it(`listens on ${address}: ${why}`, async () => {
      const { app, logs } = testApp({ settings: httpHost, env });
      await app.start();
      try {
        const health = await app.serveHealth({ port: 0 });
        assert.equal((health.server.address() as net.AddressInfo).address, address);
        assert.ok(logs.lines.some((l) => l['msg'] === `health endpoints listening on ${address}:${health.port}`));
      } finally {
        await app.stop();
      }
    });
  }
});
