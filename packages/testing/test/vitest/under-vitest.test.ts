import { definePlugin, Inject, InjectPlugin, Service, setting } from '@plinth/core';
import { describe, expect, it } from 'vitest';
import { createTestApp, pluginConformance } from '../../src/index.js';

// The same kit under Vitest: decorators, overrides, `await using`, and the conformance
// suite registered with Vitest's describe/it.
class Store {
  readonly values = new Map<string, string>();
  constructor(readonly embedded: boolean) {}
}
const store = definePlugin({
  type: 'store',
  critical: true,
  settings: { url: setting.string({ doc: 'store server URL' }) },
  embedded: { serverSetting: 'url' },
  create: (ctx) => new Store(ctx.embedded),
});

@Service()
class Names {
  constructor(@InjectPlugin('names_store') readonly store: Store) {}
}

@Service()
class Greeter {
  constructor(@Inject(Names) readonly names: Names) {}
  greet(id: string): string {
    return `hello ${this.names.store.values.get(id) ?? 'stranger'}`;
  }
}

describe('createTestApp under Vitest', () => {
  it('overrides a plugin with its embedded double and stops at the end of the block', async () => {
    let app;
    {
      await using test = await createTestApp(
        { name: 'greeter', plugins: [store('names_store', { settings: { url: 'store://prod' } })], services: [Names, Greeter] },
        { plugins: { names_store: store.embedded() } },
      );
      app = test.app;
      (test.plugin('names_store') as Store).values.set('1', 'Ada');
      expect(test.get<Greeter>(Greeter).greet('1')).toBe('hello Ada');
    }
    expect(app.state).toBe('stopped');
  });
});

describe('the conformance suite under Vitest', () => {
  pluginConformance(store, {
    settings: {},
    unreachable: () => ({}),
    runner: { describe, it },
    skip: {
      'prestart-honours-deadline': 'an in-memory store has no dependency to hang on',
      'prestart-failure-leaks-nothing': 'an in-memory store has no dependency to hang on',
      'secrets-hidden': 'no sensitive settings',
      'nonretryable-only-when-permanent': 'an in-memory store has no dependency to hang on',
    },
  });
});
