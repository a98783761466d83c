import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createApp, definePlugin } from '../src/index.js';

class Store {
  constructor(readonly name: string) {}
}
class Relay {
  constructor(readonly dependencies: Readonly<Record<string, object>>) {}
}

const store = definePlugin({ type: 'store', critical: true, settings: {}, create: (ctx) => new Store(ctx.prefix) });
const relay = definePlugin({ type: 'relay', critical: false, settings: {}, create: (ctx) => new Relay(ctx.dependencies) });

describe('plugin dependencies', () => {
  it('hands a plugin the instances of the plugins it dependsOn, and only those', async () => {
    const app = createApp({
      name: 'deps-app',
      plugins: [relay('relay', { dependsOn: ['primary'] }), store('primary'), store('other')],
      env: { DEPS_APP_LOG_LEVEL: 'silent' },
    });
    await app.start();
    try {
      const { dependencies } = app.plugin('relay') as Relay;
      assert.deepEqual(Object.keys(dependencies), ['primary']);
      assert.equal(dependencies['primary'], app.plugin('primary'), 'the very instance the app runs');
    } finally {
      await app.stop();
    }
  });
});
