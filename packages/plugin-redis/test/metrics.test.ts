import assert from 'node:assert/strict';
import { afterEach, before, after, describe, it } from 'node:test';
import { PluginUnavailableError, type App } from '@plinth/core';
import { BreakerOpenError } from '@plinth/core/resilience';
import { createScratchRedis, serviceAddress, startTcpProxy, waitFor, type ScratchRedis } from '@plinth/testkit';
import { redis, type RedisPlugin } from '../src/index.js';
import { envOf, stopApps, testApp } from './helpers.js';

/** Sum of the series of `name` with these labels (besides plugin="redis", prefix="cache"); 0 when absent. */
async function valueOf(app: App, name: string, labels: Record<string, string> = {}): Promise<number> {
  const base = name.replace(/_(count|sum)$/, '');
  const metric = (await app.metrics.getMetricsAsJSON()).find((m) => m.name === base);
  const values = (metric?.values ?? []) as { metricName?: string; value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => (v.metricName ?? base) === name)
    .filter((v) => Object.entries({ plugin: 'redis', prefix: 'cache', ...labels }).every(([k, l]) => String(v.labels[k]) === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('redis cache metrics', () => {
  let server: ScratchRedis;
  before(async () => {
    server = await createScratchRedis();
  });
  after(async () => {
    await server?.release();
  });
  afterEach(stopApps);

  it('counts a miss, the loader call, the joins of concurrent getOrSet calls, then a hit, and times each command', async () => {
    const { app } = testApp([redis('cache')], { [envOf('cache', 'URL')]: server.url });
    await app.start();
    const { cache } = app.plugin('cache' as never) as RedisPlugin;
    let loads = 0;
    const loader = async () => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { id: 7 };
    };
    const values = await Promise.all([cache.getOrSet('user:7', loader), cache.getOrSet('user:7', loader), cache.getOrSet('user:7', loader)]);
    assert.deepEqual(values, [{ id: 7 }, { id: 7 }, { id: 7 }]);
    assert.equal(loads, 1);
    assert.equal(await valueOf(app, 'plinth_redis_cache_misses_total'), 1);
    assert.equal(await valueOf(app, 'plinth_redis_cache_loads_total'), 1);
    assert.equal(await valueOf(app, 'plinth_redis_cache_joins_total'), 2);
    assert.equal(await valueOf(app, 'plinth_redis_cache_hits_total'), 0);

    assert.deepEqual(await cache.get('user:7'), { id: 7 });
    assert.equal(await valueOf(app, 'plinth_redis_cache_hits_total'), 1);
    assert.equal(await valueOf(app, 'plinth_redis_command_duration_seconds_count', { command: 'get', outcome: 'ok' }), 2);
    assert.equal(await valueOf(app, 'plinth_redis_command_duration_seconds_count', { command: 'set', outcome: 'ok' }), 1);
    const text = await app.metrics.metrics();
    assert.doesNotMatch(text, /user:7/, 'keys never become labels');
  });

  it('a slow Redis opens the cache breaker: calls fail at once, .cacheAside reads are misses, and it closes when Redis is fast again', async () => {
    const { host, port } = serviceAddress('redis');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const url = new URL(server.url);
    url.host = `${proxy.host}:${proxy.port}`;
    try {
      const { app, events } = testApp([redis('cache')], {
        [envOf('cache', 'URL')]: url.toString(),
        [envOf('cache', 'COMMAND_TIMEOUT')]: '5000',
        [envOf('cache', 'BREAKER_TIMEOUT')]: '100',
        [envOf('cache', 'BREAKER_FAILURES')]: '2',
        [envOf('cache', 'BREAKER_HALF_OPEN_AFTER')]: '300',
      });
      await app.start();
      const plugin = app.plugin('cache' as never) as RedisPlugin;
      await plugin.cache.set('k', 'v');
      proxy.delay(1000);
      for (let i = 0; i < 2; i++) assert.equal(await plugin.cacheAside.get('k'), undefined);
      const started = performance.now();
      const refused = await plugin.cache.get('k').catch((e: unknown) => e);
      assert.ok(PluginUnavailableError.is(refused) && BreakerOpenError.is(refused.cause), `unavailable, breaker open: ${String(refused)}`);
      assert.ok(performance.now() - started < 50, 'refused at once');
      assert.equal(await plugin.cacheAside.get('k'), undefined);
      assert.equal(await valueOf(app, 'plinth_redis_cache_refused_total', { reason: 'breaker' }), 2);
      assert.equal(await valueOf(app, 'plinth_redis_cache_errors_total', { operation: 'get' }), 2);
      assert.equal((await app.health.report()).checks['cache.cache breaker']?.status, 'down');

      await proxy.restore();
      await waitFor(async () => (await plugin.cacheAside.get('k')) === 'v', { timeoutMs: 10_000, intervalMs: 100, message: 'the breaker closed and reads hit again' });
      assert.deepEqual(
        events.filter((e) => e.phase === 'breaker').map((e) => e.outcome),
        ['degraded', 'succeeded'],
      );
    } finally {
      await stopApps();
      await proxy.close();
    }
  });
});
