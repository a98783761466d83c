import { strict as assert } from 'node:assert';
import { afterEach, describe, it } from 'node:test';
import { PlinthError, PluginUnavailableError } from '@plinth/core';
import { waitFor } from '@plinth/testkit';
import { redis, type CacheCodec, type RedisPlugin } from '../src/index.js';
import { envOf, stopApps, testApp } from './helpers.js';

afterEach(stopApps);

describe('embedded in-memory store (no URL, no HOST)', () => {
  it('announces itself in exactly one log line naming the env var that switches to Redis', async () => {
    const { app, logs } = testApp([redis('session_cache')], {});
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    assert.equal(plugin.embedded, true);
    const announcements = logs.lines.filter((l) => l['prefix'] === 'session_cache' && /embedded/.test(String(l['msg'])));
    assert.equal(announcements.length, 1);
    assert.match(String(announcements[0]!['msg']), /^session_cache running embedded \(in-memory store\): .*set CACHE_APP_SESSION_CACHE_URL to use a server$/);
    assert.equal(app.state, 'ready');
    await app.stop();
  });

  it('.client throws a clear error naming the env vars to set', async () => {
    const { app } = testApp([redis('session_cache')], {});
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    assert.throws(
      () => plugin.client,
      (error: unknown) =>
        error instanceof PlinthError && /embedded in-memory store/.test(error.message) && /CACHE_APP_SESSION_CACHE_HOST/.test(error.message),
    );
    await app.stop();
  });

  it('get/set/del round-trip JSON values; a miss is undefined; values are copies', async () => {
    const { app } = testApp([redis('session_cache')], {});
    await app.start();
    const { cache } = app.plugin('session_cache') as RedisPlugin;
    const user = { id: 7, roles: ['admin'], nested: { ok: true } };
    await cache.set('user:7', user);
    user.roles.push('mutated after set');
    assert.deepEqual(await cache.get<typeof user>('user:7'), { id: 7, roles: ['admin'], nested: { ok: true } });
    assert.equal(await cache.get('user:8'), undefined);
    await cache.set('zero', 0);
    await cache.set('null', null);
    assert.equal(await cache.get('zero'), 0, 'falsy values are hits');
    assert.equal(await cache.get('null'), null);
    assert.equal(await cache.del('user:7'), true);
    assert.equal(await cache.del('user:7'), false);
    assert.equal(await cache.get('user:7'), undefined);
    await app.stop();
  });

  it('honours TTL through the facade', async () => {
    const { app } = testApp([redis('session_cache')], {});
    await app.start();
    const { cache } = app.plugin('session_cache') as RedisPlugin;
    await cache.set('short', 'v', { ttlMs: 40 });
    await cache.set('long', 'v', { ttlMs: 60_000 });
    assert.equal(await cache.get('short'), 'v');
    await waitFor(async () => (await cache.get('short')) === undefined, { timeoutMs: 2000, message: 'short entry expired' });
    assert.equal(await cache.get('long'), 'v', 'a longer TTL is still live');
    await app.stop();
  });

  it('is bounded by MEMORY_MAX_ENTRIES', async () => {
    const { app } = testApp([redis('session_cache')], { [envOf('session_cache', 'MEMORY_MAX_ENTRIES')]: '5' });
    await app.start();
    const { cache } = app.plugin('session_cache') as RedisPlugin;
    for (let i = 0; i < 20; i++) await cache.set(`k${i}`, i);
    const present = [];
    for (let i = 0; i < 20; i++) if ((await cache.get(`k${i}`)) !== undefined) present.push(i);
    assert.deepEqual(present, [15, 16, 17, 18, 19]);
    await app.stop();
  });

  it('getOrSet: 100 concurrent misses call the loader once and all get its value; later calls hit', async () => {
    const { app } = testApp([redis('session_cache')], {});
    await app.start();
    const { cache } = app.plugin('session_cache') as RedisPlugin;
    let loads = 0;
    const loader = async () => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { answer: 42 };
    };
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.getOrSet('answer', loader, { ttlMs: 10_000 })));
    assert.equal(loads, 1);
    assert.ok(results.every((r) => r.answer === 42));
    assert.deepEqual(await cache.getOrSet('answer', loader), { answer: 42 });
    assert.equal(loads, 1, 'served from the cache afterwards');
    await app.stop();
  });

  it('getOrSet: a failing loader rejects every waiter once, caches nothing, and the next call loads again', async () => {
    const { app } = testApp([redis('session_cache')], {});
    await app.start();
    const { cache } = app.plugin('session_cache') as RedisPlugin;
    let loads = 0;
    const failing = async (): Promise<string> => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new Error('database down');
    };
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => cache.getOrSet('k', failing)));
    assert.equal(loads, 1);
    assert.ok(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'database down'));
    assert.equal(await cache.get('k'), undefined);
    assert.equal(await cache.getOrSet('k', () => 'second try'), 'second try');
    assert.equal(loads, 1);
    assert.equal(await cache.get('k'), 'second try');
    await app.stop();
  });

  it('getOrSet does not cache an undefined loader result', async () => {
    const { app } = testApp([redis('session_cache')], {});
    await app.start();
    const { cache } = app.plugin('session_cache') as RedisPlugin;
    let loads = 0;
    const nothing = () => void (loads += 1);
    assert.equal(await cache.getOrSet('absent', nothing), undefined);
    assert.equal(await cache.getOrSet('absent', nothing), undefined);
    assert.equal(loads, 2);
    await app.stop();
  });

  it('rejects caller mistakes in both modes: bad TTL, empty key, uncacheable value', async () => {
    const { app } = testApp([redis('session_cache')], {});
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    for (const cache of [plugin.cache, plugin.cacheAside]) {
      await assert.rejects(cache.set('k', 1, { ttlMs: 0 }), RangeError);
      await assert.rejects(cache.set('k', 1, { ttlMs: 1.5 }), RangeError);
      await assert.rejects(cache.get(''), TypeError);
      await assert.rejects(cache.set('k', undefined), TypeError);
    }
    await app.stop();
  });

  it('uses a custom codec when given one', async () => {
    const encoded: string[] = [];
    const codec: CacheCodec = {
      encode: (value) => {
        const text = `v1:${JSON.stringify(value)}`;
        encoded.push(text);
        return text;
      },
      decode: (text) => JSON.parse(text.slice(3)) as unknown,
    };
    const { app } = testApp([redis('session_cache', { codec })], {});
    await app.start();
    const { cache } = app.plugin('session_cache') as RedisPlugin;
    await cache.set('k', { a: 1 });
    assert.deepEqual(encoded, ['v1:{"a":1}']);
    assert.deepEqual(await cache.get('k'), { a: 1 });
    await app.stop();
  });

  it('while unavailable: .cache rejects with PluginUnavailableError; .cacheAside misses, runs the loader, and logs at debug', async () => {
    const { app, logs } = testApp([redis('session_cache')], {});
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    await plugin.cache.set('k', 'cached');
    await app.stop(); // availability is now "stopped"

    await assert.rejects(plugin.cache.get('k'), PluginUnavailableError);
    await assert.rejects(plugin.cache.set('k', 1), PluginUnavailableError);
    await assert.rejects(plugin.cache.getOrSet('k', () => 'loaded'), PluginUnavailableError);

    assert.equal(await plugin.cacheAside.get('k'), undefined);
    await plugin.cacheAside.set('k', 'dropped');
    assert.equal(await plugin.cacheAside.del('k'), false);
    assert.equal(await plugin.cacheAside.getOrSet('k', () => 'loaded'), 'loaded');
    const debug = logs.lines.filter((l) => l['level'] === 20 && /carrying on without the cache/.test(String(l['msg'])));
    assert.deepEqual(
      debug.map((l) => l['operation']),
      ['get', 'set', 'del', 'get', 'set'],
    );
    assert.ok(debug.every((l) => /unavailable/.test(String(l['err']))));
  });
});
