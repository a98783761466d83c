import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError, definePlugin, GraphValidationError, setting, type PreStart } from '../src/index.js';
import { testApp } from './support/scripted-plugin.js';

interface Store {
  readonly kind: 'real' | 'no-op';
  get(key: string): string | undefined;
}

/** A store that records whether it connected. */
function storePlugin() {
  const connects: string[] = [];
  const store = definePlugin({
    type: 'store',
    critical: true,
    settings: { url: setting.url({ doc: 'Where the store is', required: true }) },
    create: (ctx): Store & PreStart => ({
      kind: 'real',
      get: () => 'value',
      preStart: async () => {
        connects.push(ctx.prefix);
      },
    }),
    noop: (): Store => ({ kind: 'no-op', get: () => undefined }),
  });
  return { store, connects };
}

describe('optional plugins', () => {
  it('turned off with {APP}_{PREFIX}_ENABLED=false, inject their no-op, connect nothing and show as disabled', async () => {
    const { store, connects } = storePlugin();
    const { app } = testApp({ plugins: [store('cache', { optional: true })], env: { TEST_APP_CACHE_ENABLED: 'false' } });
    await app.start();
    const cache = app.plugin('cache') as Store;
    assert.equal(cache.kind, 'no-op');
    assert.equal(cache.get('k'), undefined, 'the no-op cache always misses');
    assert.deepEqual(connects, []);
    const report = await app.health.report();
    assert.equal(report.checks['cache']?.status, 'disabled');
    assert.equal(report.status, 'ok', 'a plugin turned off does not hold readiness');
    const metrics = await app.metrics.metrics();
    assert.doesNotMatch(metrics, /^plinth_plugin_(available|unavailable_seconds_total|recoveries_total)\{[^}]*prefix="cache"/m, 'turned off is not an outage');
    await app.stop();
  });

  it('neither reads nor validates the settings of a plugin turned off', async () => {
    const { store } = storePlugin();
    const { app } = testApp({ plugins: [store('cache', { optional: true })], env: { TEST_APP_CACHE_ENABLED: 'false', TEST_APP_CACHE_URL: 'not a url' } });
    await app.start();
    await app.stop();
  });

  it('run their real implementation by default', async () => {
    const { store, connects } = storePlugin();
    const { app } = testApp({ plugins: [store('cache', { optional: true })], env: { TEST_APP_CACHE_URL: 'redis://127.0.0.1:1' } });
    await app.start();
    assert.equal((app.plugin('cache') as Store).kind, 'real');
    assert.deepEqual(connects, ['cache']);
    await app.stop();
  });

  it('report a malformed ENABLED value as a config problem', async () => {
    const { store } = storePlugin();
    const { app } = testApp({ plugins: [store('cache', { optional: true })], env: { TEST_APP_CACHE_ENABLED: 'nope', TEST_APP_CACHE_URL: 'redis://x:1' } });
    await assert.rejects(app.start(), (error) => ConfigError.is(error) && error.problems.some((p) => p.env === 'TEST_APP_CACHE_ENABLED'));
  });

  it('have an ENABLED setting; plugins not declared optional do not', () => {
    const { store } = storePlugin();
    const { app } = testApp({ plugins: [store('cache', { optional: true }), store('primary', {})] });
    const names = app.describeSettings().map((e) => e.env);
    assert.ok(names.includes('TEST_APP_CACHE_ENABLED'));
    assert.ok(!names.includes('TEST_APP_PRIMARY_ENABLED'));
  });

  it('must have a no-op implementation to be declared optional', () => {
    const plain = definePlugin({ type: 'plain', critical: false, settings: {}, create: () => ({}) });
    assert.throws(() => plain('thing', { optional: true }), (error) => GraphValidationError.is(error) && error.code === 'NOT_OPTIONAL');
  });
});
