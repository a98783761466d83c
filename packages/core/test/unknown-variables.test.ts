import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/index.js';
import { editDistance, likelyTypoOf } from '../src/config/unknown-variables.js';
import { probe, Recorder, testApp } from './support/probe-plugin.js';

const plugins = () => [probe('primary_db', { behaviour: {}, recorder: new Recorder() })];

describe('unknown {APP}_* variables', () => {
  it('only warns about a name like no setting, and starts', async () => {
    const { app, logs } = testApp({ plugins: plugins(), env: { TEST_APP_BUILD_SHA: 'a1b2c3', TEST_APP_REGION: 'eu' } });
    await app.start();
    const warnings = logs.lines.filter((l) => l['level'] === 40).map((l) => String(l['msg']));
    assert.deepEqual(warnings, [
      'TEST_APP_BUILD_SHA is not a setting of this app and is ignored (list it in TEST_APP_ALLOW_ENV to silence this)',
      'TEST_APP_REGION is not a setting of this app and is ignored (list it in TEST_APP_ALLOW_ENV to silence this)',
    ]);
    assert.doesNotMatch(logs.text(), /did you mean/, 'no far-fetched suggestion');
    await app.stop();
  });

  it('refuses a likely typo of a setting, in the setting name or in the plugin prefix', async () => {
    const { app } = testApp({
      plugins: plugins(),
      env: { TEST_APP_PRIMARY_DB_HOTS: 'db', TEST_APP_PRIMRY_DB_PASSWORD: 'pw', TEST_APP_LOG_LEVL: 'info' },
    });
    await assert.rejects(app.start(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const byEnv = new Map(error.problems.map((p) => [p.env, p.message]));
      assert.match(byEnv.get('TEST_APP_PRIMARY_DB_HOTS')!, /\(did you mean TEST_APP_PRIMARY_DB_HOST\?\); if it is meant for something else, list it in TEST_APP_ALLOW_ENV$/);
      assert.match(byEnv.get('TEST_APP_PRIMRY_DB_PASSWORD')!, /did you mean TEST_APP_PRIMARY_DB_PASSWORD\?/);
      assert.match(byEnv.get('TEST_APP_LOG_LEVL')!, /did you mean TEST_APP_LOG_LEVEL\?/);
      return true;
    });
  });

  it('accepts names and prefixes listed in {APP}_ALLOW_ENV without a word', async () => {
    const { app, logs } = testApp({
      plugins: plugins(),
      env: {
        TEST_APP_ALLOW_ENV: 'TEST_APP_PRIMARY_DB_HOSTS, TEST_APP_FEATURE_*',
        TEST_APP_PRIMARY_DB_HOSTS: 'a,b',
        TEST_APP_FEATURE_NEW_CHECKOUT: 'on',
      },
    });
    await app.start();
    assert.equal(logs.lines.filter((l) => l['level'] === 40).length, 0);
    await app.stop();
  });

  it('rejects a malformed allow list as its own problem', async () => {
    const { app } = testApp({ env: { TEST_APP_ALLOW_ENV: 'build sha' } });
    await assert.rejects(app.start(), /TEST_APP_ALLOW_ENV="build sha" is invalid: expected comma-separated env var names/);
  });

  it('measures a swap of two neighbours as one edit', () => {
    assert.equal(editDistance('HOTS', 'HOST'), 1);
    assert.equal(editDistance('HTTP_PROT', 'HTTP_PORT'), 1);
    assert.equal(editDistance('BUILD_SHA', 'LOG_LEVEL'), 9);
  });

  it('allows one edit per six characters, at least one', () => {
    const known = new Set(['APP_LOG_LEVEL', 'APP_ENV', 'APP_PRIMARY_DB_CONNECT_TIMEOUT']);
    assert.equal(likelyTypoOf('APP_ENVS', 'APP', known), 'APP_ENV');
    assert.equal(likelyTypoOf('APP_EN_V2', 'APP', known), undefined);
    assert.equal(likelyTypoOf('APP_PRIMARY_DB_CONECT_TIMEUOT', 'APP', known), 'APP_PRIMARY_DB_CONNECT_TIMEOUT');
    assert.equal(likelyTypoOf('APP_BUILD_SHA', 'APP', known), undefined);
  });
});
