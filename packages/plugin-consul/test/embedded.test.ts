import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, createApp, Inject, APP, Service, type App, type OnStart } from '@plinth/core';
import { LogCapture } from '@plinth/testkit';
import { consul, NoHealthyInstanceError, type ConsulPlugin, type ServiceInstance } from '../src/index.js';

/** The port the last started Api listens on. */
let apiPort = 0;

@Service()
class Api implements OnStart {
  constructor(@Inject(APP) private readonly app: App) {}
  async onStart(): Promise<void> {
    const server = await this.app.serveHttp((_req, res) => res.end('ok'), { port: 0, host: '127.0.0.1' });
    apiPort = (server.address() as { port: number }).port;
  }
}

function shop(env: Record<string, string>) {
  const logs = new LogCapture();
  const app = createApp({ name: 'shop', plugins: [consul('service_registry')], services: [Api], env: { SHOP_HEALTH_PORT: '0', ...env }, logDestination: logs });
  return { app, logs, registry: () => app.plugin('service_registry' as never) as ConsulPlugin };
}

describe('embedded registry (no URL)', () => {
  it('resolves STATIC instances and this app itself, with its real port, and says so in the log', async () => {
    const { app, logs, registry } = shop({ SHOP_SERVICE_REGISTRY_STATIC: 'payments=10.0.0.5:8080, payments=[fd00::6]:8081' });
    await app.start();
    try {
      const plugin = registry();
      assert.equal(plugin.mode, 'embedded');
      const payments = await plugin.resolve('payments');
      assert.deepEqual(
        payments.map((i) => [i.address, i.port]),
        [
          ['10.0.0.5', 8080],
          ['fd00::6', 8081],
        ],
      );
      const self = await plugin.resolve('shop');
      assert.equal(self.length, 1);
      assert.equal(self[0]?.id, plugin.serviceId);
      assert.notEqual(apiPort, 0);
      assert.equal(self[0]?.port, apiPort);
      assert.equal(logs.matching(/no Consul configured: using the in-process registry/).length, 1);
      assert.deepEqual([(await plugin.pick('payments')).port, (await plugin.pick('payments')).port, (await plugin.pick('payments')).port], [8080, 8081, 8080]);
      await assert.rejects(plugin.pick('nothing'), (error: unknown) => NoHealthyInstanceError.is(error));
    } finally {
      await app.stop();
    }
  });

  it('watch lists this app while it runs, and no longer once it has shut down', async () => {
    const { app, registry } = shop({});
    const seen: (readonly ServiceInstance[])[] = [];
    await app.start();
    const plugin = registry();
    plugin.watch('shop', (instances) => seen.push(instances));
    assert.equal(seen.at(-1)?.length, 1);
    await app.stop();
    assert.equal(seen.at(-1)?.length, 0, 'deregistered on shutdown');
  });

  it('an aborted signal stops a watch and rejects a lookup', async () => {
    const { app, registry } = shop({});
    await app.start();
    try {
      const plugin = registry();
      const abort = new AbortController();
      abort.abort(new Error('gone'));
      await assert.rejects(plugin.resolve('shop', { signal: abort.signal }), /gone/);
      let calls = 0;
      plugin.watch('shop', () => calls++, { signal: abort.signal });
      assert.equal(calls, 0);
    } finally {
      await app.stop();
    }
  });
});

describe('settings', () => {
  it('rejects a malformed STATIC or META before any I/O, naming the variable', async () => {
    const { app } = shop({ SHOP_SERVICE_REGISTRY_STATIC: 'payments=10.0.0.5', SHOP_SERVICE_REGISTRY_META: 'version' });
    await assert.rejects(app.start(), (error: unknown) => {
      assert.ok(ConfigError.is(error));
      assert.match(error.message, /SHOP_SERVICE_REGISTRY_STATIC: "payments=10.0.0.5" is not name=host:port/);
      assert.match(error.message, /SHOP_SERVICE_REGISTRY_META: "version" is not key=value/);
      return true;
    });
  });

  it('documents every setting, the token as sensitive', () => {
    const { app } = shop({});
    const entries = app.describeSettings().filter((e) => e.env.startsWith('SHOP_SERVICE_REGISTRY_'));
    const names = entries.map((e) => e.env.replace('SHOP_SERVICE_REGISTRY_', ''));
    for (const name of ['URL', 'TOKEN', 'SERVICE_NAME', 'SERVICE_ID', 'ADDRESS', 'TAGS', 'META', 'CHECK', 'CHECK_INTERVAL', 'DEREGISTER_CRITICAL_AFTER', 'WATCH_WAIT', 'STATIC']) {
      assert.ok(names.includes(name), `${name} is documented`);
    }
    assert.equal(entries.find((e) => e.env.endsWith('_TOKEN'))?.sensitive, true);
    assert.equal(entries.find((e) => e.env.endsWith('_URL'))?.sensitive, true, 'a password in the URL is a secret too');
  });
});
