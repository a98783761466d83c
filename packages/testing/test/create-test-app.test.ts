import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { definePlugin, Inject, InjectPlugin, NonRetryableError, Service, setting, type PreStart } from '@plinth/core';
import { createTestApp } from '../src/index.js';

/** A key-value plugin with an embedded fallback: a server URL, or a Map in the process. */
class KvPlugin implements PreStart {
  readonly store = new Map<string, string>();
  constructor(
    readonly embedded: boolean,
    readonly namespace: string,
  ) {}
  preStart(): void {
    if (!this.embedded) throw new NonRetryableError('no kv server in tests');
  }
}
const kv = definePlugin<{ url: ReturnType<typeof setting.string> }, KvPlugin, { namespace?: string }>({
  type: 'kv',
  critical: true,
  settings: { url: setting.string({ doc: 'kv server URL' }) },
  embedded: { serverSetting: 'url' },
  create: (ctx) => new KvPlugin(ctx.embedded, ctx.options.namespace ?? 'default'),
});

@Service()
class Repository {
  constructor(@InjectPlugin('users_kv') readonly kv: KvPlugin) {}
  find(id: string): string | undefined {
    return this.kv.store.get(id);
  }
}

@Service()
class Users {
  constructor(@Inject(Repository) readonly repository: Repository) {}
  name(id: string): string {
    return this.repository.find(id) ?? 'unknown';
  }
}

const declared = { name: 'users', plugins: [kv('users_kv', { settings: { url: 'kv://prod:7000' }, namespace: 'users' })], services: [Repository, Users] };

describe('createTestApp', () => {
  it('replaces a service by class: the fake is injected and the class, with its plugin, is never built', async () => {
    const fake = { find: (id: string) => (id === '1' ? 'Ada' : undefined) } as Repository;
    await using test = await createTestApp({ ...declared, plugins: [] }, { services: [[Repository, fake]] });
    assert.equal(test.get<Users>(Users).name('1'), 'Ada');
    assert.equal(test.get<Users>(Users).repository, fake);
  });

  it("runs a plugin on its embedded double, keeping its code options, even when the env names a server", async () => {
    await using test = await createTestApp(
      { ...declared, env: { USERS_USERS_KV_URL: 'kv://elsewhere:7000' } },
      { plugins: { users_kv: kv.embedded() } },
    );
    const plugin = test.plugin('users_kv') as KvPlugin;
    assert.equal(plugin.embedded, true);
    assert.equal(plugin.namespace, 'users');
    plugin.store.set('1', 'Grace');
    assert.equal(test.get<Users>(Users).name('1'), 'Grace');
  });

  it('replaces a plugin by prefix with any object, which is what services get injected', async () => {
    const store = new Map([['2', 'Linus']]);
    await using test = await createTestApp(declared, { plugins: { users_kv: { store } } });
    assert.equal(test.get<Users>(Users).name('2'), 'Linus');
    assert.deepEqual(test.plugin('users_kv'), { store });
  });

  it('records logs and lifecycle events, and stops the app at the end of an `await using` block', async () => {
    let app;
    {
      await using test = await createTestApp(declared, { plugins: { users_kv: kv.embedded() } });
      app = test.app;
      assert.ok(test.logs.some((line) => line.msg === 'users started'), 'the startup line was captured');
      assert.ok(test.events.some((event) => event.component === 'users_kv' && event.phase === 'preStart' && event.outcome === 'succeeded'));
      assert.deepEqual(test.states.map((change) => change.to), ['starting', 'ready']);
      assert.equal(app.state, 'ready');
    }
    assert.equal(app.state, 'stopped');
  });

  it('reads no config from process.env, and stop() may be called more than once', async () => {
    process.env['USERS_USERS_KV_URL'] = 'kv://from-the-shell:7000';
    try {
      const test = await createTestApp(declared, { plugins: { users_kv: kv.embedded() } });
      assert.equal((test.plugin('users_kv') as KvPlugin).embedded, true);
      const [first, second] = await Promise.all([test.stop(), test.stop()]);
      assert.equal(first, second);
      assert.equal(first.clean, true);
    } finally {
      delete process.env['USERS_USERS_KV_URL'];
    }
  });

  it('rejects an override for a prefix no plugin declares, naming it', async () => {
    await assert.rejects(() => createTestApp(declared, { plugins: { user_kv: {} } }), /no plugin is declared with prefix "user_kv"/);
  });

  it('rejects when startup fails, after rolling back', async () => {
    await assert.rejects(() => createTestApp(declared), /no kv server in tests/);
  });
});
