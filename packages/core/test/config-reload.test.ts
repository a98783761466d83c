import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { definePlugin, setting, type OnSettingsChange } from '../src/index.js';
import { testApp } from './support/scripted-plugin.js';

type CacheSettings = Readonly<Record<string, unknown>>;

/** A plugin with reloadable settings that records every change it is given. */
function recordingPlugin() {
  const changes: Array<{ next: CacheSettings; previous: CacheSettings }> = [];
  const cache = definePlugin({
    type: 'cache',
    critical: false,
    settings: {
      host: setting.string({ doc: 'Server', default: 'localhost' }),
      ttl: setting.duration({ doc: 'Entry lifetime (ms)', default: 1000, reloadable: true }),
      token: setting.string({ doc: 'Access token', sensitive: true, reloadable: true }),
    },
    create: (): OnSettingsChange<CacheSettings> => ({
      onSettingsChange: (next, previous) => void changes.push({ next, previous }),
    }),
  });
  return { cache, changes };
}

const dir = mkdtempSync(path.join(tmpdir(), 'plinth-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** An env file with `lines`, and a function to rewrite it. */
function envFile(lines: Record<string, string>) {
  const file = path.join(dir, `app-${++files}.env`);
  const write = (values: Record<string, string>) => writeFileSync(file, Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n'));
  write(lines);
  return { file, write };
}

describe('reloading settings', () => {
  it('applies changed reloadable settings from the env file, hands plugins their new settings, and counts the reload', async () => {
    const { cache, changes } = recordingPlugin();
    const env = envFile({ TEST_APP_CACHE_TTL: '1000', TEST_APP_CACHE_TOKEN: 'old-secret' });
    const { app, logs } = testApp({ plugins: [cache('cache')], env: { TEST_APP_ENV_FILE: env.file, TEST_APP_LOG_LEVEL: 'info' } });
    await app.start();
    env.write({ TEST_APP_CACHE_TTL: '5000', TEST_APP_CACHE_TOKEN: 'new-secret', TEST_APP_LOG_LEVEL: 'debug', TEST_APP_CACHE_HOST: 'elsewhere' });
    const report = await app.reload();
    assert.equal(report.outcome, 'applied');
    assert.deepEqual([...report.applied].sort(), ['TEST_APP_CACHE_TOKEN', 'TEST_APP_CACHE_TTL', 'TEST_APP_LOG_LEVEL']);
    assert.deepEqual(report.needsRestart, ['TEST_APP_CACHE_HOST']);
    assert.equal(app.logger.level, 'debug');
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.next['ttl'], 5000);
    assert.equal(changes[0]?.previous['ttl'], 1000);
    assert.equal(changes[0]?.next['host'], 'localhost', 'a setting that is not reloadable keeps its running value');
    const logged = logs.matching(/^config reloaded/)[0];
    assert.ok(logged, logs.text);
    assert.ok(!logs.text.includes('new-secret') && !logs.text.includes('old-secret'), 'secrets are masked');
    assert.ok(logs.matching(/TEST_APP_CACHE_HOST changed, but it is not reloadable: it applies after a restart/)[0]);
    assert.match(await app.metrics.metrics(), /plinth_config_reloads_total\{outcome="applied",app="[^"]+"\} 1/);
    await app.stop();
  });

  it('changes nothing when the new config has a problem, and logs every bad variable', async () => {
    const { cache, changes } = recordingPlugin();
    const env = envFile({ TEST_APP_CACHE_TTL: '1000' });
    const { app, logs } = testApp({ plugins: [cache('cache')], env: { TEST_APP_ENV_FILE: env.file, TEST_APP_LOG_LEVEL: 'info' } });
    await app.start();
    env.write({ TEST_APP_CACHE_TTL: 'soon', TEST_APP_LOG_LEVEL: 'loud' });
    const report = await app.reload();
    assert.equal(report.outcome, 'rejected');
    assert.match(report.error ?? '', /TEST_APP_CACHE_TTL="soon" is invalid/);
    assert.match(report.error ?? '', /TEST_APP_LOG_LEVEL="loud" is invalid/);
    assert.equal(app.logger.level, 'info');
    assert.equal(changes.length, 0);
    assert.ok(logs.matching(/^config reload refused, nothing changed/)[0], logs.text);
    assert.match(await app.metrics.metrics(), /plinth_config_reloads_total\{outcome="rejected",app="[^"]+"\} 1/);
    // A valid config later applies as usual.
    env.write({ TEST_APP_CACHE_TTL: '2000' });
    assert.equal((await app.reload()).outcome, 'applied');
    assert.equal(changes[0]?.next['ttl'], 2000);
    await app.stop();
  });

  it('reports nothing to apply when only non-reloadable settings changed', async () => {
    const { cache, changes } = recordingPlugin();
    const env = envFile({});
    const { app } = testApp({ plugins: [cache('cache')], env: { TEST_APP_ENV_FILE: env.file } });
    await app.start();
    env.write({ TEST_APP_CACHE_HOST: 'elsewhere' });
    const report = await app.reload();
    assert.equal(report.outcome, 'unchanged');
    assert.deepEqual(report.needsRestart, ['TEST_APP_CACHE_HOST']);
    assert.equal(changes.length, 0);
    await app.stop();
  });

  it('is refused before the app serves', async () => {
    const { cache } = recordingPlugin();
    const { app } = testApp({ plugins: [cache('cache')] });
    assert.equal((await app.reload()).outcome, 'rejected');
  });
});
