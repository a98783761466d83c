import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createApp, GraphValidationError, Inject, lazy, Service } from '../src/index.js';

describe('lazy tokens', () => {
  it('inject a class from a module that imports this one (two files importing each other)', async () => {
    const { Checkout, PriceList } = await import('./fixtures/mutual-imports/checkout.js');
    const { Cart } = await import('./fixtures/mutual-imports/cart.js');
    const app = createApp({ name: 'shop', services: [Checkout, Cart, PriceList], env: { SHOP_LOG_LEVEL: 'silent' } });
    await app.start();
    try {
      assert.equal(app.get<InstanceType<typeof Checkout>>(Checkout).total(), 7);
      assert.ok(app.get<InstanceType<typeof Cart>>(Cart).prices instanceof PriceList);
      assert.deepEqual(app.components().map((c) => c.id), ['PriceList', 'Cart', 'Checkout'], 'dependencies first');
    } finally {
      await app.stop();
    }
  });

  it('without lazy(), the same two files fail as the language makes them (the case lazy() is for)', async () => {
    await assert.rejects(import('./fixtures/mutual-imports/eager-checkout.js'), /Cannot access 'EagerPriceList' before initialization/);
  });

  it('inject a class declared further down the same file', async () => {
    @Service()
    class Api {
      constructor(@Inject(lazy(() => Repository)) readonly repository: Repository) {}
    }
    @Service()
    class Repository {}
    const app = createApp({ name: 'svc', services: [Api, Repository], env: { SVC_LOG_LEVEL: 'silent' } });
    await app.start();
    assert.ok(app.get<Api>(Api).repository instanceof Repository);
    await app.stop();
  });

  it('turn a cycle across three modules into DEPENDENCY_CYCLE naming every step and parameter, before anything starts', async () => {
    const { Orders } = await import('./fixtures/mutual-imports/orders.js');
    const { Billing } = await import('./fixtures/mutual-imports/billing.js');
    const { Ledger } = await import('./fixtures/mutual-imports/ledger.js');
    assert.throws(
      () => createApp({ name: 'svc', services: [Orders, Billing, Ledger] }),
      (error: unknown) => {
        assert.ok(error instanceof GraphValidationError);
        assert.equal(error.code, 'DEPENDENCY_CYCLE');
        assert.equal(
          error.message,
          'Dependency cycle: Orders (constructor parameter 0 injects Billing) → Billing (constructor parameter 0 injects Ledger) → ' +
            'Ledger (constructor parameter 1 injects Orders) → Orders',
        );
        return true;
      },
    );
  });

  it('name the class and parameter when lazy() returns nothing', () => {
    @Service()
    class Api {
      constructor(@Inject(lazy(() => undefined as never)) readonly missing: unknown) {}
    }
    assert.throws(() => createApp({ name: 'svc', services: [Api] }), /Api constructor parameter 0: lazy\(\(\) => …\) returned undefined/);
  });
});
