import { strict as assert } from 'node:assert';
import { afterEach, describe, it } from 'node:test';
import { ConfigError, createApp } from '@plinth/core';
import { freePort } from '@plinth/testkit';
import { redis, type RedisPlugin } from '../src/index.js';
import { redisSettings } from '../src/settings.js';
import { resolveTarget, type RedisSettings } from '../src/target.js';
import { envOf, stopApps, testApp } from './helpers.js';

afterEach(stopApps);

const defaults = Object.fromEntries(Object.entries(redisSettings).map(([key, spec]) => [key, spec.default])) as unknown as RedisSettings;
const settings = (overrides: Partial<RedisSettings>): RedisSettings => ({ ...defaults, ...overrides });

describe('settings', () => {
  it('publishes every setting under {APP}_{PREFIX}_*, with password and URL marked sensitive', () => {
    const app = createApp({ name: 'cache-app', plugins: [redis('session_cache')], env: {} });
    const entries = app.describeSettings().filter((e) => e.env.startsWith('CACHE_APP_SESSION_CACHE_'));
    const names = entries.map((e) => e.env.replace('CACHE_APP_SESSION_CACHE_', ''));
    for (const name of ['URL', 'HOST', 'PORT', 'USERNAME', 'PASSWORD', 'DB', 'TLS', 'CONNECT_TIMEOUT', 'COMMAND_TIMEOUT', 'KEY_PREFIX', 'MEMORY_MAX_ENTRIES', 'CRITICAL']) {
      assert.ok(names.includes(name), `${name} is listed`);
    }
    const sensitive = entries.filter((e) => e.sensitive).map((e) => e.env.replace('CACHE_APP_SESSION_CACHE_', ''));
    assert.deepEqual(sensitive.sort(), ['PASSWORD', 'URL']);
    assert.equal(entries.find((e) => e.env.endsWith('_CRITICAL'))?.default, 'false', 'non-critical by default');
  });

  it('is critical when declared so in code, and env overrides it', () => {
    const app = createApp({ name: 'cache-app', plugins: [redis('rate_limits', { critical: true })], env: {} });
    assert.equal(app.describeSettings().find((e) => e.env === 'CACHE_APP_RATE_LIMITS_CRITICAL')?.default, 'true');
  });

  it('rejects malformed values before any I/O, one line per env var, without echoing secrets', async () => {
    const { app } = testApp([redis('session_cache')], {
      [envOf('session_cache', 'PORT')]: '63x9',
      [envOf('session_cache', 'URL')]: 'http://:hunter22@cache:6379',
      [envOf('session_cache', 'TLS')]: 'yes',
    });
    const error = await app.start().then(
      () => assert.fail('start succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError);
    const envs = error.problems.map((p) => p.env).sort();
    assert.deepEqual(envs, ['CACHE_APP_SESSION_CACHE_PORT', 'CACHE_APP_SESSION_CACHE_TLS', 'CACHE_APP_SESSION_CACHE_URL']);
    assert.doesNotMatch(error.message, /hunter22/);
  });

  it('rejects a URL whose path is not a DB number, and zero timeouts, as ConfigError naming the env vars', async () => {
    const { app } = testApp([redis('session_cache')], {
      [envOf('session_cache', 'URL')]: 'redis://127.0.0.1:6379/cache',
      [envOf('session_cache', 'COMMAND_TIMEOUT')]: '0',
    });
    const error = await app.start().then(
      () => assert.fail('start succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.problems.map((p) => p.env).sort(), ['CACHE_APP_SESSION_CACHE_COMMAND_TIMEOUT', 'CACHE_APP_SESSION_CACHE_URL']);
    assert.match(error.message, /CACHE_APP_SESSION_CACHE_URL has the path "\/cache"; expected \/<db number> or none/);
    assert.match(error.message, /CACHE_APP_SESSION_CACHE_COMMAND_TIMEOUT must be at least 1 ms \(got 0\)/);
  });

  it('reports its own checks together with core problems, all at once', async () => {
    const { app } = testApp([redis('session_cache')], {
      [envOf('session_cache', 'URL')]: 'redis://127.0.0.1:6379/cache',
      CACHE_APP_SHUTDOWN_DELAY: 'soon',
      CACHE_APP_LOG_LEVL: 'debug',
    });
    const error = await app.start().then(
      () => assert.fail('start succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError, String(error));
    assert.deepEqual(error.problems.map((p) => p.env).sort(), ['CACHE_APP_LOG_LEVL', 'CACHE_APP_SESSION_CACHE_URL', 'CACHE_APP_SHUTDOWN_DELAY']);
  });

  it('requires URL or HOST in production, unless EMBEDDED=true asks for the in-memory store', async () => {
    const { app } = testApp([redis('session_cache')], { KUBERNETES_SERVICE_HOST: '10.96.0.1' });
    await assert.rejects(app.start(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((p) => p.env), ['CACHE_APP_SESSION_CACHE_URL']);
      assert.match(error.message, /set CACHE_APP_SESSION_CACHE_EMBEDDED=true to run embedded on purpose/);
      return true;
    });
    const embedded = testApp([redis('session_cache')], { KUBERNETES_SERVICE_HOST: '10.96.0.1', [envOf('session_cache', 'EMBEDDED')]: 'true' });
    await embedded.app.start();
    assert.equal((embedded.app.plugin('session_cache') as RedisPlugin).embedded, true);
  });
});

describe('target resolution', () => {
  it('uses the embedded store when core decided so', () => {
    assert.deepEqual(resolveTarget(settings({}), true), { kind: 'embedded', maxEntries: 10_000 });
  });

  it('takes host, port, credentials, DB and TLS from the URL', () => {
    const target = resolveTarget(settings({ url: 'rediss://app%40svc:p%3Ass@cache.internal:6380/4', host: 'ignored', db: 9 }), false);
    assert.deepEqual(target, { kind: 'server', host: 'cache.internal', port: 6380, username: 'app@svc', password: 'p:ss', db: 4, tls: true });
  });

  it('fills what the URL leaves out from USERNAME, PASSWORD and DB', () => {
    const target = resolveTarget(settings({ url: 'redis://cache', username: 'u', password: 'from-secret', db: 2 }), false);
    assert.deepEqual(target, { kind: 'server', host: 'cache', port: 6379, username: 'u', password: 'from-secret', db: 2, tls: false });
  });

  it('builds the target from HOST and friends when no URL is set', () => {
    const target = resolveTarget(settings({ host: '10.0.0.5', port: 7000, password: 'pw', db: 1, tls: true }), false);
    assert.deepEqual(target, { kind: 'server', host: '10.0.0.5', port: 7000, username: undefined, password: 'pw', db: 1, tls: true });
  });
});

describe('secrets in startup errors', () => {
  it('a failing critical instance names host and port but never the password', async () => {
    const port = await freePort();
    const { app, logs } = testApp([redis('rate_limits', { critical: true, startTimeout: 300 })], {
      [envOf('rate_limits', 'URL')]: `redis://:Sup3rSecret@127.0.0.1:${port}/0`,
    });
    const error = await app.start().then(
      () => assert.fail('start succeeded'),
      (e: unknown) => e as Error,
    );
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(error.message, /Sup3rSecret/);
    assert.ok(logs.lines.length > 0);
    assert.doesNotMatch(JSON.stringify(logs.lines), /Sup3rSecret/, 'not in any log line either');
  });
});
