import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { spawnProcess } from '@plinth/testkit';
import { ConfigError, Inject, InjectPlugin, Service, definePlugin, setting, APP_SETTINGS } from '../src/index.js';
import { formatConfigHelp } from '../src/config/describe-config.js';
import { scripted, Recorder, testApp, type ScriptedPlugin } from './support/scripted-plugin.js';

const fixture = fileURLToPath(new URL('./fixtures/config-app.ts', import.meta.url));
const opts = () => ({ behaviour: {}, recorder: new Recorder() });

describe('config', () => {
  it('gives two instances of one plugin type their own settings, injected into one service', async () => {
    @Service()
    class Reports {
      constructor(
        @InjectPlugin('primary_db') readonly primary: ScriptedPlugin,
        @InjectPlugin('analytics_db') readonly analytics: ScriptedPlugin,
      ) {}
    }
    const { app } = testApp({
      plugins: [scripted('primary_db', opts()), scripted('analytics_db', { ...opts(), settings: { host: 'from-code' } })],
      services: [Reports],
      env: { TEST_APP_PRIMARY_DB_HOST: 'primary.internal', TEST_APP_ANALYTICS_DB_PASSWORD: 'pw' },
    });
    await app.start();
    const reports = app.get<Reports>(Reports);
    assert.notEqual(reports.primary, reports.analytics);
    assert.equal(reports.primary.ctx.settings.host, 'primary.internal', 'env sets the first instance');
    assert.equal(reports.analytics.ctx.settings.host, 'from-code', 'the code option is the default of the second');
    assert.equal(reports.primary.ctx.settings.password, undefined);
    assert.equal(reports.analytics.ctx.settings.password, 'pw');
    assert.equal(reports.primary.ctx.prefix, 'primary_db');
    await app.stop();
  });

  it('lets env override a default given in code', async () => {
    const { app } = testApp({
      plugins: [scripted('db', { ...opts(), settings: { host: 'code' } })],
      env: { TEST_APP_DB_HOST: 'env' },
    });
    await app.start();
    assert.equal((app.plugin('db') as ScriptedPlugin).ctx.settings.host, 'env');
    await app.stop();
  });

  it('resolves the app settings and injects them', async () => {
    @Service()
    class Http {
      constructor(@Inject(APP_SETTINGS) readonly settings: { httpPort: number; verbose: boolean }) {}
    }
    const { app } = testApp({
      settings: {
        httpPort: setting.port({ doc: 'HTTP port', default: 3000 }),
        verbose: setting.boolean({ doc: 'Verbose', default: false }),
      },
      services: [Http],
      env: { TEST_APP_HTTP_PORT: '8080', TEST_APP_VERBOSE: 'true' },
    });
    await app.start();
    assert.deepEqual(app.get<Http>(Http).settings, { httpPort: 8080, verbose: true });
    assert.equal(app.settings.httpPort, 8080);
    await app.stop();
  });

  it('reports every bad variable in one error, strictly parsed, with secrets masked', async () => {
    const { app } = testApp({
      settings: {
        httpPort: setting.port({ doc: 'HTTP port', default: 3000 }),
        adminPort: setting.port({ doc: 'Admin port', default: 3001 }),
        apiKey: setting.string({ doc: 'API key', required: true, sensitive: true }),
        workers: setting.positiveInt({ doc: 'Workers', default: 2 }),
      },
      plugins: [scripted('primary_db', opts())],
      env: {
        TEST_APP_HTTP_PORT: '54x',
        TEST_APP_ADMIN_PORT: '70000',
        TEST_APP_WORKERS: '2.5',
        TEST_APP_PRIMARY_DB_CRITICAL: 'yes',
        TEST_APP_PRIMARY_DB_START_TIMEOUT: 'soon',
        TEST_APP_PRIMARY_DB_HOTS: 'db.internal',
        TEST_APP_LOG_LEVEL: 'loud',
      },
    });
    const error = await app.start().then(
      () => assert.fail('start should have failed'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError);
    assert.equal(error.exitCode, 78);
    const byEnv = new Map(error.problems.map((p) => [p.env, p.message]));
    assert.deepEqual([...byEnv.keys()].sort(), [
      'TEST_APP_ADMIN_PORT',
      'TEST_APP_API_KEY',
      'TEST_APP_HTTP_PORT',
      'TEST_APP_LOG_LEVEL',
      'TEST_APP_PRIMARY_DB_CRITICAL',
      'TEST_APP_PRIMARY_DB_HOTS',
      'TEST_APP_PRIMARY_DB_START_TIMEOUT',
      'TEST_APP_WORKERS',
    ]);
    assert.match(byEnv.get('TEST_APP_HTTP_PORT')!, /"54x" is invalid: expected a port number from 1 to 65535/);
    assert.match(byEnv.get('TEST_APP_ADMIN_PORT')!, /"70000"/);
    assert.match(byEnv.get('TEST_APP_PRIMARY_DB_CRITICAL')!, /"yes" is invalid: expected true or false/);
    assert.match(byEnv.get('TEST_APP_API_KEY')!, /is required/);
    assert.match(byEnv.get('TEST_APP_PRIMARY_DB_HOTS')!, /did you mean TEST_APP_PRIMARY_DB_HOST\?/);
    assert.match(byEnv.get('TEST_APP_LOG_LEVEL')!, /one of fatal, error/);
    for (const name of byEnv.keys()) assert.ok(error.message.includes(name), `${name} is named in the one message`);
    assert.equal(app.state, 'failed');
  });

  it('masks a sensitive value that fails its format', async () => {
    const { app } = testApp({
      settings: { token: setting.url({ doc: 'Webhook with token', sensitive: true }) },
      env: { TEST_APP_TOKEN: 'not a url hunter2' },
    });
    await assert.rejects(app.start(), (error: Error) => {
      assert.match(error.message, /TEST_APP_TOKEN=<redacted> is invalid: expected a URL/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
  });

  it('treats an empty env var as not set, so the default applies', async () => {
    const { app } = testApp({
      settings: { httpPort: setting.port({ doc: 'HTTP port', default: 3000 }) },
      plugins: [scripted('db', { ...opts(), settings: { host: 'code-host' } })],
      env: { TEST_APP_HTTP_PORT: '', TEST_APP_DB_HOST: '' },
    });
    await app.start();
    assert.equal(app.settings.httpPort, 3000);
    assert.equal((app.plugin('db') as ScriptedPlugin).ctx.settings.host, 'code-host');
    await app.stop();
  });

  it('keeps an empty default as an empty string (not undefined)', async () => {
    const { app } = testApp({
      settings: { keyPrefix: setting.string({ doc: 'Key prefix', default: '' }) },
      env: {},
    });
    await app.start();
    assert.equal(app.settings.keyPrefix, '');
    await app.stop();
  });

  it('redacts only settings marked sensitive, not names that merely look secret', async () => {
    const keyValue = definePlugin({
      type: 'kv',
      critical: true,
      settings: {
        keyPrefix: setting.string({ doc: 'Prefix of every key', default: 'sessions:' }),
        password: setting.string({ doc: 'Password', sensitive: true }),
      },
      create: () => ({}),
    });
    @Service()
    class Failing {
      preStart(): void {
        throw new Error('cannot use key prefix sessions: with password hunter22');
      }
    }
    const { app } = testApp({ plugins: [keyValue('store')], services: [Failing], env: { TEST_APP_STORE_PASSWORD: 'hunter22' } });
    await assert.rejects(app.start(), (error: Error) => {
      assert.match(error.message, /key prefix sessions: with password <redacted>/);
      return true;
    });
  });

  it('ignores the env vars Kubernetes injects for a Service named like the app', async () => {
    const { app } = testApp({
      env: { TEST_APP_SERVICE_HOST: '10.0.0.1', TEST_APP_PORT: 'tcp://10.0.0.1:80', TEST_APP_PORT_80_TCP_ADDR: '10.0.0.1' },
    });
    await app.start();
    await app.stop();
  });

  it('describes every env var in a stable order, without secret defaults', () => {
    const { app } = testApp({
      settings: { httpPort: setting.port({ doc: 'HTTP port', default: 3000 }) },
      plugins: [scripted('primary_db', { ...opts(), settings: { password: 'code-secret' } })],
    });
    const entries = app.describeSettings();
    const names = entries.map((e) => e.env);
    assert.deepEqual(names.slice(0, 2), ['TEST_APP_LOG_LEVEL', 'TEST_APP_SHUTDOWN_DELAY']);
    assert.ok(names.indexOf('TEST_APP_HTTP_PORT') < names.indexOf('TEST_APP_PRIMARY_DB_HOST'), 'app settings come before plugins');
    const password = entries.find((e) => e.env === 'TEST_APP_PRIMARY_DB_PASSWORD')!;
    assert.equal(password.sensitive, true);
    assert.equal(password.default, '<redacted>');
    assert.deepEqual(app.describeSettings(), entries, 'the same every time');
    const help = formatConfigHelp(app.name, entries);
    assert.doesNotMatch(help, /code-secret/);
    assert.match(help, /TEST_APP_PRIMARY_DB_CRITICAL {2}\(default: true\)/);
  });
});

describe('config as a process', () => {
  it('prints every env var with --help and exits 0', async () => {
    const child = spawnProcess({ args: ['--import', 'tsx', fixture, '--help'] });
    const { code } = await child.exited;
    assert.equal(code, 0);
    for (const name of [
      'USER_SERVICE_HTTP_PORT  (default: 3000)',
      'USER_SERVICE_PRIMARY_DB_HOST  (default: localhost)',
      'USER_SERVICE_PRIMARY_DB_PASSWORD  (optional, sensitive)',
      'USER_SERVICE_ANALYTICS_DB_CRITICAL  (default: false)',
      'USER_SERVICE_SHUTDOWN_TIMEOUT  (default: 25000)',
    ]) {
      assert.ok(child.stdout.includes(name), `--help lists ${name}`);
    }
  });

  it('exits 78 naming each bad variable, before anything connects', async () => {
    const child = spawnProcess({
      args: ['--import', 'tsx', fixture],
      env: { USER_SERVICE_HTTP_PORT: '70000', USER_SERVICE_PRIMARY_DB_PASSWORD: '', USER_SERVICE_ANALYTICS_DB_CRITICAL: 'nope' },
    });
    const { code } = await child.exited;
    assert.equal(code, 78);
    assert.match(child.stderr, /USER_SERVICE_HTTP_PORT="70000" is invalid/);
    assert.match(child.stderr, /USER_SERVICE_ANALYTICS_DB_CRITICAL="nope" is invalid/);
    assert.doesNotMatch(child.stdout, /preStart/, 'no component began');
  });
});
