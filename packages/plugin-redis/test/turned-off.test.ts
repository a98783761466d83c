import { strict as assert } from 'node:assert';
import { afterEach, describe, it } from 'node:test';
import { redis, type RedisPlugin } from '../src/index.js';
import { envOf, stopApps, testApp } from './helpers.js';

describe('redis declared optional and turned off', () => {
  afterEach(stopApps);

  it('is a cache that always misses, connects nothing, and shows as disabled', async () => {
    const { app } = testApp([redis('session_cache', { optional: true })], {
      [envOf('session_cache', 'ENABLED')]: 'false',
      // Never dialled: a plugin turned off reads none of its settings.
      [envOf('session_cache', 'URL')]: 'redis://127.0.0.1:1',
    });
    await app.start();
    const cache = app.plugin('session_cache') as RedisPlugin;
    await cache.cache.set('k', 'v');
    assert.equal(await cache.cache.get('k'), undefined);
    let loads = 0;
    assert.equal(await cache.cacheAside.getOrSet('k', () => ++loads), 1);
    assert.equal(await cache.cacheAside.getOrSet('k', () => ++loads), 2, 'every read misses, so the loader runs each time');
    assert.throws(() => cache.client, /turned off \(CACHE_APP_SESSION_CACHE_ENABLED=false\)/);
    const report = await app.health.report();
    assert.equal(report.checks['session_cache']?.status, 'disabled');
    assert.equal(app.state, 'ready');
  });
});
