import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { detectEnvironment } from '../src/app/environment.js';
import { formatConfigHelp } from '../src/config/describe-config.js';
import { ConfigError, definePlugin, setting, type PluginContext } from '../src/index.js';
import { testApp } from './support/scripted-plugin.js';

/** A plugin with a server (URL or HOST) and an embedded fallback, like the database plugins. */
class StorePlugin {
  constructor(readonly ctx: PluginContext<{ url: string | undefined; host: string | undefined; port: number }, object>) {}
  get target(): string {
    return this.ctx.embedded ? 'in-memory store' : `${this.ctx.settings.host ?? 'url'}:${this.ctx.settings.port}`;
  }
  healthCheck(): void {}
}

const store = definePlugin({
  type: 'store',
  critical: true,
  settings: {
    url: setting.url({ doc: 'Server URL', protocols: ['store:'], sensitive: true }),
    host: setting.nonEmptyString({ doc: 'Server host' }),
    port: setting.port({ doc: 'Server port', default: 7000 }),
  },
  embedded: { serverSetting: ['url', 'host'] },
  validateSettings: (settings) =>
    settings.url !== undefined && settings.url.endsWith('/') ? [{ setting: 'url', message: 'ends with "/"; expected no path' }] : [],
  create: (ctx) => new StorePlugin(ctx),
});

const tracker = definePlugin({
  type: 'tracker',
  critical: false,
  settings: { dsn: setting.url({ doc: 'Where errors go' }) },
  embedded: { serverSetting: 'dsn', allowedInProduction: true },
  create: (ctx) => ({ embedded: ctx.embedded }),
});

async function configError(start: Promise<void>): Promise<Map<string, string>> {
  const error = await start.then(
    () => assert.fail('start should have failed'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConfigError, String(error));
  return new Map(error.problems.map((p) => [p.env, p.message]));
}

describe('embedded is a choice', () => {
  it('runs embedded outside production when no server is set, and says so in the log and in /health', async () => {
    const { app, logs } = testApp({ plugins: [store('orders_db')] });
    await app.start();
    const plugin = app.plugin('orders_db') as StorePlugin;
    assert.equal(plugin.ctx.embedded, true);
    const report = await app.health.report();
    assert.equal(report.checks['orders_db']?.embedded, true);
    const summary = logs.lines.find((l) => l['msg'] === 'component started' && l['component'] === 'orders_db');
    assert.equal(summary?.['embedded'], true, 'the startup summary says so too');
    const notices = logs.lines.filter((l) => l['embedded'] === true && l['msg'] !== 'component started');
    assert.equal(notices.length, 1, 'one line per embedded plugin');
    assert.equal(notices[0]?.['level'], 40, 'a warning');
    assert.match(
      String(notices[0]?.['msg']),
      /^orders_db running embedded \(in-memory store\): data is not shared with other replicas and not kept beyond this machine; set TEST_APP_ORDERS_DB_URL to use a server$/,
    );
    await app.stop();
  });

  it('uses the server when any server setting is set, and /health carries no embedded flag', async () => {
    const { app, logs } = testApp({ plugins: [store('orders_db')], env: { TEST_APP_ORDERS_DB_HOST: 'db.internal', NODE_ENV: 'production' } });
    await app.start();
    assert.equal((app.plugin('orders_db') as StorePlugin).ctx.embedded, false);
    assert.equal((await app.health.report()).checks['orders_db']?.embedded, undefined);
    assert.equal(logs.lines.filter((l) => l['embedded'] === true).length, 0);
    await app.stop();
  });

  it('refuses production without a server, naming every missing server variable at once', async () => {
    const { app } = testApp({ plugins: [store('orders_db'), store('audit_db')], env: { NODE_ENV: 'production' } });
    const problems = await configError(app.start());
    assert.deepEqual([...problems.keys()], ['TEST_APP_ORDERS_DB_URL', 'TEST_APP_AUDIT_DB_URL']);
    assert.equal(
      problems.get('TEST_APP_ORDERS_DB_URL'),
      'TEST_APP_ORDERS_DB_URL (or TEST_APP_ORDERS_DB_HOST) is required in production; set it, or set TEST_APP_ORDERS_DB_EMBEDDED=true to run embedded on purpose',
    );
  });

  it('runs embedded in production when EMBEDDED=true asks for it', async () => {
    const { app } = testApp({ plugins: [store('orders_db')], env: { NODE_ENV: 'production', TEST_APP_ORDERS_DB_EMBEDDED: 'true' } });
    await app.start();
    assert.equal((app.plugin('orders_db') as StorePlugin).ctx.embedded, true);
    assert.equal((await app.health.report()).checks['orders_db']?.embedded, true);
    await app.stop();
  });

  it('runs embedded in production without asking when the plugin allows it', async () => {
    const { app } = testApp({ plugins: [tracker('errors')], env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' } });
    await app.start();
    assert.deepEqual(app.plugin('errors'), { embedded: true });
    await app.stop();
  });

  it('rejects EMBEDDED=true next to a server setting, naming both variables', async () => {
    const { app } = testApp({ plugins: [store('orders_db')], env: { TEST_APP_ORDERS_DB_HOST: 'db', TEST_APP_ORDERS_DB_EMBEDDED: 'true' } });
    const problems = await configError(app.start());
    assert.equal(
      problems.get('TEST_APP_ORDERS_DB_EMBEDDED'),
      'TEST_APP_ORDERS_DB_EMBEDDED=true contradicts TEST_APP_ORDERS_DB_HOST, which is set: unset one of them',
    );
  });

  it('reports plugin checks, missing servers, bad values and typos in one error', async () => {
    const { app } = testApp({
      plugins: [store('orders_db'), store('audit_db')],
      env: {
        TEST_APP_ENV: 'production',
        TEST_APP_ORDERS_DB_URL: 'store://db.internal/',
        TEST_APP_ORDERS_DB_PORT: '99999',
        TEST_APP_AUDIT_DB_EMBEDDED: 'maybe',
        TEST_APP_SHUTDOWN_TIMOUT: '5s',
      },
    });
    const problems = await configError(app.start());
    assert.deepEqual([...problems.keys()].sort(), [
      'TEST_APP_AUDIT_DB_EMBEDDED',
      'TEST_APP_ORDERS_DB_PORT',
      'TEST_APP_SHUTDOWN_TIMOUT',
    ]);
    // With every value of orders_db valid, its own check runs too, in the same error.
    const { app: second } = testApp({
      plugins: [store('orders_db'), store('audit_db')],
      env: { TEST_APP_ENV: 'production', TEST_APP_ORDERS_DB_URL: 'store://db.internal/', TEST_APP_SHUTDOWN_TIMOUT: '5s' },
    });
    const all = await configError(second.start());
    assert.deepEqual([...all.keys()].sort(), ['TEST_APP_AUDIT_DB_URL', 'TEST_APP_ORDERS_DB_URL', 'TEST_APP_SHUTDOWN_TIMOUT']);
    assert.equal(all.get('TEST_APP_ORDERS_DB_URL'), 'TEST_APP_ORDERS_DB_URL ends with "/"; expected no path');
    assert.match(all.get('TEST_APP_SHUTDOWN_TIMOUT')!, /did you mean TEST_APP_SHUTDOWN_TIMEOUT\?/);
  });

  it('lists the EMBEDDED setting of each plugin with a fallback in --help', () => {
    const { app } = testApp({ plugins: [store('orders_db')] });
    const help = formatConfigHelp(app.name, app.describeSettings());
    assert.match(help, /TEST_APP_ORDERS_DB_EMBEDDED {2}\(default: false\)\n {6}Run embedded/);
    assert.match(help, /TEST_APP_ENV {2}\(optional\)/);
  });
});

describe('production', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['NODE_ENV=production', { NODE_ENV: 'production' }, true],
    ['a Kubernetes pod', { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, true],
    ['{APP}_ENV=production', { ORDERS_ENV: 'production' }, true],
    ['{APP}_ENV=staging', { ORDERS_ENV: 'staging' }, false],
    ['NODE_ENV=development', { NODE_ENV: 'development' }, false],
    ['nothing set', {}, false],
  ];
  for (const [name, env, expected] of cases) {
    it(`is ${expected ? '' : 'not '}production with ${name}`, () => {
      assert.equal(detectEnvironment(env, 'ORDERS').production, expected);
    });
  }
});
