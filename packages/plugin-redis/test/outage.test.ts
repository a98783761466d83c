import { strict as assert } from 'node:assert';
import { afterEach, describe, it } from 'node:test';
import { PluginUnavailableError, StartupError } from '@plinth/core';
import { createScratchRedis, freePort, startRedisServer, startSilentListener, startTcpProxy, waitFor } from '@plinth/testkit';
import { DisconnectsClientError } from '@redis/client';
import { redis, type RedisPlugin } from '../src/index.js';
import { envOf, stopApps, testApp, timed, trackProcessErrors } from './helpers.js';

afterEach(stopApps);

/** Resources a test started; closed after it whatever happened. */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const isUnavailable = (error: unknown): boolean => error instanceof PluginUnavailableError && error.prefix === 'session_cache';

describe('Redis unreachable at start', () => {
  it('non-critical: the app starts degraded, calls fail fast, and the instance recovers without a restart when Redis comes up', async () => {
    const port = await freePort();
    const { app, events } = testApp([redis('session_cache')], {
      [envOf('session_cache', 'HOST')]: '127.0.0.1',
      [envOf('session_cache', 'PORT')]: String(port),
    });
    await app.start();
    assert.equal(app.state, 'degraded');
    const degraded = events.find((e) => e.component === 'session_cache' && e.outcome === 'degraded');
    assert.match(degraded?.error ?? '', new RegExp(`127\\.0\\.0\\.1:${port}`), 'the cause names host and port');

    const plugin = app.plugin('session_cache') as RedisPlugin;
    for (const call of [() => plugin.cache.get('k'), () => plugin.cache.set('k', 1), () => plugin.cache.del('k'), () => plugin.cache.getOrSet('k', () => 1)]) {
      const outcome = await timed(call);
      assert.ok(isUnavailable(outcome.error), `rejects with PluginUnavailableError (got ${String(outcome.error)})`);
      assert.ok(outcome.ms < 50, `failed fast: ${outcome.ms.toFixed(1)} ms`);
    }
    assert.throws(() => plugin.client, PluginUnavailableError);
    assert.equal(await plugin.cacheAside.getOrSet('k', () => 'from the database'), 'from the database');
    await assert.rejects(plugin.healthCheck({ signal: AbortSignal.timeout(1000) }), PluginUnavailableError);
    await waitFor(() => events.some((e) => e.component === 'session_cache' && e.phase === 'recover' && e.outcome === 'retrying'), {
      message: 'a background reconnect attempt failed while Redis was down',
    });
    assert.equal(app.state, 'degraded');

    const server = await startRedisServer({ port });
    cleanups.push(() => server.close());
    await waitFor(() => app.state === 'ready', { timeoutMs: 5000, message: 'app ready after Redis came up' });
    await plugin.cache.set('k', 'works');
    assert.equal(await plugin.cache.get('k'), 'works');
    await plugin.healthCheck({ signal: AbortSignal.timeout(1000) });
    assert.ok(events.some((e) => e.component === 'session_cache' && e.phase === 'recover' && e.outcome === 'succeeded'));
  });

  it('critical: startup fails after retrying, naming the prefix, host and port, and leaves no connection behind', async () => {
    const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const baseline = tcpHandles();
    const port = await freePort();
    const { app, events } = testApp([redis('rate_limits', { critical: true, startTimeout: 600 })], {
      [envOf('rate_limits', 'HOST')]: '127.0.0.1',
      [envOf('rate_limits', 'PORT')]: String(port),
    });
    const error = await app.start().then(
      () => assert.fail('startup succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StartupError, String(error));
    assert.match(error.message, /rate_limits/);
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(error.message, /ECONNREFUSED/);
    assert.equal(app.state, 'failed');
    assert.ok(events.filter((e) => e.component === 'rate_limits' && e.outcome === 'retrying').length >= 2, 'preStart was retried');
    await waitFor(() => tcpHandles() === baseline, { timeoutMs: 1000, message: 'no socket left from the failed attempts' });
  });
});

describe('a Redis that accepts TCP but never answers', () => {
  it('at start: preStart gives up within CONNECT_TIMEOUT, the app runs degraded, and every connection it opened is closed', async () => {
    const silent = await startSilentListener();
    cleanups.push(() => silent.close());
    const { app, events } = testApp([redis('session_cache', { startTimeout: 5000 })], {
      [envOf('session_cache', 'HOST')]: silent.host,
      [envOf('session_cache', 'PORT')]: String(silent.port),
      [envOf('session_cache', 'CONNECT_TIMEOUT')]: '300',
    });
    await app.start();
    assert.equal(app.state, 'degraded');
    const degraded = events.find((e) => e.component === 'session_cache' && e.outcome === 'degraded');
    assert.ok(degraded?.durationMs !== undefined && degraded.durationMs < 300 + 500, `gave up after ${degraded?.durationMs} ms`);
    assert.match(degraded?.error ?? '', /no answer within 300 ms/);
    const plugin = app.plugin('session_cache') as RedisPlugin;
    const outcome = await timed(() => plugin.cache.get('k'));
    assert.ok(isUnavailable(outcome.error) && outcome.ms < 50);
    await app.stop();
    assert.ok(silent.connections >= 1);
    await waitFor(() => silent.openConnections === 0, { timeoutMs: 1000, message: 'every connection to the silent server closed' });
  });

  it('at runtime: calls fail at COMMAND_TIMEOUT, health reports down, later calls fail fast, and it recovers when answers resume', async () => {
    const scratch = await createScratchRedis();
    cleanups.push(() => scratch.release());
    const proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: 6379 });
    cleanups.push(() => proxy.close());
    const { app, logs } = testApp([redis('session_cache')], {
      [envOf('session_cache', 'URL')]: `redis://${proxy.host}:${proxy.port}/${scratch.db}`,
      [envOf('session_cache', 'COMMAND_TIMEOUT')]: '300',
      // Above COMMAND_TIMEOUT: this test is about a wedged connection, not a slow one.
      [envOf('session_cache', 'BREAKER_TIMEOUT')]: '1000',
    });
    await app.start();
    assert.equal(app.state, 'ready');
    const plugin = app.plugin('session_cache') as RedisPlugin;
    await plugin.cache.set('k', 'before');

    proxy.hang();
    const calls = await Promise.all([
      ...Array.from({ length: 5 }, () => timed(() => plugin.cache.get('k'))),
      timed(() => plugin.healthCheck({ signal: AbortSignal.timeout(1000) })),
    ]);
    for (const call of calls) {
      assert.ok(isUnavailable(call.error), `rejected with PluginUnavailableError (got ${String(call.error)})`);
      assert.ok(call.ms >= 290 && call.ms < 300 + 700, `settled at COMMAND_TIMEOUT: ${call.ms.toFixed(0)} ms`);
      assert.match((call.error as Error).message, /no reply within 300 ms/);
    }
    assert.equal(app.state, 'degraded');

    // The wedged connection was replaced: nothing queues behind it, calls fail at once.
    const next = await timed(() => plugin.cache.get('k'));
    assert.ok(isUnavailable(next.error) && next.ms < 50, `failed fast: ${next.ms.toFixed(1)} ms`);
    assert.equal(await plugin.cacheAside.get('k'), undefined, 'cache-aside reads it as a miss');
    const lost = logs.matching(/^lost Redis/);
    assert.equal(lost.length, 1, 'one warning for the outage');
    assert.equal(lost[0]!['err'], 'no reply within 300 ms');

    await proxy.restore();
    await waitFor(() => app.state === 'ready', { timeoutMs: 5000, message: 'recovered after answers resumed' });
    assert.equal(await plugin.cache.get('k'), 'before');
    await plugin.healthCheck({ signal: AbortSignal.timeout(1000) });
  });

  it('health reports down within its own timeout when that is shorter than COMMAND_TIMEOUT', async () => {
    const scratch = await createScratchRedis();
    cleanups.push(() => scratch.release());
    const proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: 6379 });
    cleanups.push(() => proxy.close());
    const { app } = testApp([redis('session_cache')], {
      [envOf('session_cache', 'URL')]: `redis://${proxy.host}:${proxy.port}/${scratch.db}`,
      [envOf('session_cache', 'COMMAND_TIMEOUT')]: '3000',
    });
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    proxy.hang();
    const check = await timed(() => plugin.healthCheck({ signal: AbortSignal.timeout(150) }));
    assert.ok(check.error !== undefined, 'reported down');
    assert.ok(check.ms >= 140 && check.ms < 150 + 300, `down after ${check.ms.toFixed(0)} ms`);
    await proxy.restore();
  });

  it('stop during a hang: close() is bounded, then the connection is destroyed', async () => {
    const scratch = await createScratchRedis();
    cleanups.push(() => scratch.release());
    const proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: 6379 });
    cleanups.push(() => proxy.close());
    const { app, events } = testApp([redis('session_cache')], {
      [envOf('session_cache', 'URL')]: `redis://${proxy.host}:${proxy.port}/${scratch.db}`,
      [envOf('session_cache', 'COMMAND_TIMEOUT')]: '200',
    });
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    proxy.hang();
    // A raw command waits for a reply that will not come, so close() has something to wait for.
    const pending = plugin.client.get('k').then(
      () => 'answered',
      (e: unknown) => (e instanceof DisconnectsClientError ? 'destroyed' : String(e)),
    );
    const stop = await timed(() => app.stop());
    assert.deepEqual(stop.value, { clean: true, failures: [] });
    const onStop = events.find((e) => e.component === 'session_cache' && e.phase === 'onStop' && e.outcome === 'succeeded');
    assert.ok(onStop?.durationMs !== undefined && onStop.durationMs >= 190 && onStop.durationMs < 200 + 400, `onStop took ${onStop?.durationMs} ms`);
    assert.equal(await pending, 'destroyed', 'the pending command was rejected by destroy()');
    // A hung proxy reads nothing, so it notices our FIN once traffic flows again.
    await proxy.restore();
    await waitFor(() => proxy.activeConnections === 0, { timeoutMs: 1000, message: 'connection closed' });
  });
});

describe('Redis killed mid-run', () => {
  it('no crash, no unhandled error; calls fail fast while it is down; recovery when it returns', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.close());
    const processErrors = trackProcessErrors();
    cleanups.push(async () => processErrors.stop());
    const { app, logs, states } = testApp([redis('session_cache')], {
      [envOf('session_cache', 'URL')]: server.url,
      [envOf('session_cache', 'COMMAND_TIMEOUT')]: '300',
    });
    await app.start();
    const plugin = app.plugin('session_cache') as RedisPlugin;
    await plugin.cache.set('k', 'v');

    // Load running across the kill: each call either succeeds or fails with PluginUnavailableError.
    let stopLoad = false;
    const outcomes: { ok: boolean; error?: unknown; ms: number }[] = [];
    const load = (async () => {
      while (!stopLoad) {
        const call = await timed(() => plugin.cache.get('k'));
        outcomes.push({ ok: call.error === undefined, error: call.error, ms: call.ms });
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    await waitFor(() => outcomes.length >= 20);
    await server.stop('SIGKILL');
    await waitFor(() => app.state === 'degraded', { timeoutMs: 3000, message: 'degraded after the kill' });
    const killedAt = outcomes.length;
    await waitFor(() => outcomes.length >= killedAt + 50, { timeoutMs: 3000, message: 'calls keep settling while Redis is down' });
    assert.equal(await plugin.cacheAside.getOrSet('k', () => 'fallback'), 'fallback');
    await assert.rejects(plugin.healthCheck({ signal: AbortSignal.timeout(1000) }));

    await server.start();
    await waitFor(() => app.state === 'ready', { timeoutMs: 5000, message: 'ready again after Redis returned' });
    await waitFor(() => outcomes.at(-1)?.ok === true, { timeoutMs: 2000, message: 'calls succeed again' });
    stopLoad = true;
    await load;

    const failures = outcomes.filter((o) => !o.ok);
    assert.ok(failures.length >= 50);
    assert.ok(failures.every((f) => isUnavailable(f.error)), 'every failure is a PluginUnavailableError');
    assert.ok(outcomes.every((o) => o.ms < 300 + 200), 'no call outlived COMMAND_TIMEOUT');
    assert.deepEqual(processErrors.errors, []);
    assert.deepEqual(
      states.map((s) => s.to).filter((s) => s === 'ready' || s === 'degraded'),
      ['ready', 'degraded', 'ready'],
    );
    assert.equal(logs.matching(/^lost Redis/).length, 1, 'the outage is logged once at warn, not per attempt');
    assert.equal(logs.matching(/^reconnected to Redis/).length, 1);
    // The server lost its data (persistence off); the cache simply misses now.
    assert.equal(await plugin.cache.get('k'), undefined);
  });
});
