import { strict as assert } from 'node:assert';
import { after, afterEach, before, describe, it } from 'node:test';
import { createScratchRedis, waitFor, type ScratchRedis } from '@plinth/testkit';
import { redis, type RedisPlugin } from '../src/index.js';
import { connectedClientNames, envOf, stopApps, testApp } from './helpers.js';

afterEach(stopApps);

describe('against the real Redis', () => {
  let first: ScratchRedis;
  let second: ScratchRedis;
  before(async () => {
    first = await createScratchRedis();
    second = await createScratchRedis();
  });
  after(async () => {
    await first?.release();
    await second?.release();
  });

  it('two instances on different DBs do not see each other’s keys', async () => {
    const { app } = testApp([redis('cache_a'), redis('cache_b')], {
      [envOf('cache_a', 'HOST')]: '127.0.0.1',
      [envOf('cache_a', 'DB')]: String(first.db),
      [envOf('cache_b', 'HOST')]: '127.0.0.1',
      [envOf('cache_b', 'DB')]: String(second.db),
    });
    await app.start();
    const a = app.plugin('cache_a') as RedisPlugin;
    const b = app.plugin('cache_b') as RedisPlugin;
    assert.equal(a.embedded, false);
    await a.cache.set('shared', 'from a');
    assert.equal(await b.cache.get('shared'), undefined, 'b does not see a’s key');
    await b.cache.set('shared', 'from b');
    assert.equal(await a.cache.get('shared'), 'from a');
    assert.equal(await b.cache.get('shared'), 'from b');
    assert.equal(await b.cache.del('shared'), true);
    assert.equal(await a.cache.get('shared'), 'from a', 'deleting in b leaves a alone');
    assert.deepEqual(await a.client.keys('*'), ['shared']);
    assert.deepEqual(await b.client.keys('*'), []);
    await app.stop();
  });

  it('two instances on one DB with different KEY_PREFIX do not see each other’s keys', async () => {
    const { app } = testApp([redis('cache_a'), redis('cache_b')], {
      [envOf('cache_a', 'URL')]: first.url,
      [envOf('cache_a', 'KEY_PREFIX')]: 'a:',
      [envOf('cache_b', 'URL')]: first.url,
      [envOf('cache_b', 'KEY_PREFIX')]: 'b:',
    });
    await app.start();
    const a = app.plugin('cache_a') as RedisPlugin;
    const b = app.plugin('cache_b') as RedisPlugin;
    await a.client.flushDb();
    await a.cache.set('user:1', { name: 'A' });
    assert.equal(await b.cache.get('user:1'), undefined);
    await b.cache.set('user:1', { name: 'B' });
    assert.equal(await a.cache.del('user:1'), true);
    assert.deepEqual(await b.cache.get('user:1'), { name: 'B' });
    assert.deepEqual(await a.client.keys('*'), ['b:user:1'], 'keys are stored under the prefix; .client sees raw keys');
    await app.stop();
  });

  it('set with ttlMs sets a PX expiry that Redis enforces; without ttlMs the key persists', async () => {
    const { app } = testApp([redis('session_cache')], { [envOf('session_cache', 'URL')]: first.url });
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    await plugin.cache.set('long', 1, { ttlMs: 60_000 });
    await plugin.cache.set('short', 1, { ttlMs: 30 });
    await plugin.cache.set('forever', 1);
    const pttl = await plugin.client.pTTL('long');
    assert.ok(pttl > 59_000 && pttl <= 60_000, `PTTL ${pttl}`);
    assert.equal(await plugin.client.pTTL('forever'), -1);
    await waitFor(async () => (await plugin.cache.get('short')) === undefined, { timeoutMs: 2000, message: 'short key expired' });
    await app.stop();
  });

  it('getOrSet under 100 concurrent misses calls the loader once and stores one value', async () => {
    const { app } = testApp([redis('session_cache')], {
      [envOf('session_cache', 'URL')]: first.url,
      [envOf('session_cache', 'KEY_PREFIX')]: 'sf:',
    });
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    let loads = 0;
    const loader = async () => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 25));
      return { rate: 0.5, loadedAt: loads };
    };
    const results = await Promise.all(Array.from({ length: 100 }, () => plugin.cache.getOrSet('fx:eur', loader, { ttlMs: 10_000 })));
    assert.equal(loads, 1);
    assert.ok(results.every((r) => r.rate === 0.5 && r.loadedAt === 1));
    assert.equal(await plugin.client.get('sf:fx:eur'), JSON.stringify({ rate: 0.5, loadedAt: 1 }));
    // Another process' value is read, not reloaded.
    await plugin.client.set('sf:fx:usd', JSON.stringify({ rate: 2, loadedAt: 0 }));
    assert.deepEqual(await plugin.cache.getOrSet('fx:usd', loader), { rate: 2, loadedAt: 0 });
    assert.equal(loads, 1);
    await app.stop();
  });

  it('health check answers with PING; the raw client is a connected node-redis client', async () => {
    const { app } = testApp([redis('session_cache')], { [envOf('session_cache', 'URL')]: first.url });
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    await plugin.healthCheck({ signal: AbortSignal.timeout(1000) });
    assert.equal(await plugin.client.sendCommand(['ECHO', 'raw']), 'raw');
    assert.equal(await plugin.client.clientGetName(), 'cache-app:session_cache', 'connections are named app:prefix');
    await app.stop();
  });

  it('a clean stop closes the connection: the server lists no client of ours and no TCP handle is left', async () => {
    const baseline = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const { app } = testApp([redis('session_cache'), redis('rate_limits', { critical: true })], {
      [envOf('session_cache', 'URL')]: first.url,
      [envOf('rate_limits', 'URL')]: second.url,
    });
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    await plugin.cache.set('k', 'v');
    const names = await connectedClientNames(first.url);
    assert.ok(names.includes('cache-app:session_cache') && names.includes('cache-app:rate_limits'), names.join(','));
    const report = await app.stop();
    assert.deepEqual(report, { clean: true, failures: [] });
    const after = await connectedClientNames(first.url);
    assert.deepEqual(after.filter((n) => n.startsWith('cache-app:')), []);
    await waitFor(() => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length === baseline, {
      timeoutMs: 1000,
      message: 'no TCP handle left open by the plugin',
    });
  });
});
