import 'reflect-metadata';
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { GraphValidationError, Inject, InjectPlugin, Service, createApp, lazy } from '../src/index.js';
import { probe, Recorder, type ProbePlugin } from './support/probe-plugin.js';

const recorder = new Recorder();
const plugin = (prefix: string) => probe(prefix, { behaviour: {}, recorder });

function graphError(code: string, build: () => unknown): GraphValidationError {
  try {
    build();
  } catch (error) {
    assert.ok(error instanceof GraphValidationError, `expected a GraphValidationError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('graph validation (at createApp, before any I/O)', () => {
  it('rejects two plugins with the same prefix', () => {
    const error = graphError('DUPLICATE_PREFIX', () => createApp({ name: 'svc', plugins: [plugin('primary_db'), plugin('primary_db')] }));
    assert.match(error.message, /Two plugins are declared with prefix "primary_db" \(probe and probe\)/);
  });

  it('rejects a prefix that cannot become an env name', () => {
    const error = graphError('INVALID_PREFIX', () => createApp({ name: 'svc', plugins: [plugin('Primary-DB')] }));
    assert.match(error.message, /"Primary-DB" is invalid/);
  });

  it('names the class, parameter and prefix of an @InjectPlugin that no plugin declares', () => {
    @Service()
    class UserRepository {
      constructor(@InjectPlugin('primary_db') readonly primary: ProbePlugin, @InjectPlugin('primry_db') readonly db: ProbePlugin) {}
    }
    const error = graphError('UNKNOWN_PLUGIN', () =>
      createApp({ name: 'svc', plugins: [plugin('primary_db'), plugin('analytics_db')], services: [UserRepository] }),
    );
    assert.match(error.message, /UserRepository constructor parameter 1 injects plugin "primry_db", which no plugin declares/);
    assert.match(error.message, /did you mean "primary_db"\?/);
  });

  it('names the class and parameter that inject an unregistered service', () => {
    @Service()
    class UserRepository {}
    @Service()
    class UserService {
      constructor(@Inject(UserRepository) readonly repository: UserRepository) {}
    }
    const error = graphError('MISSING_SERVICE', () => createApp({ name: 'svc', services: [UserService] }));
    assert.match(error.message, /UserService constructor parameter 0 injects UserRepository, which is not registered/);
  });

  it('names a constructor parameter without an injection token', () => {
    @Service()
    class UserService {
      constructor(
        @InjectPlugin('db') readonly db: ProbePlugin,
        readonly clock: Date,
      ) {}
    }
    const error = graphError('MISSING_INJECTION', () => createApp({ name: 'svc', plugins: [plugin('db')], services: [UserService] }));
    assert.match(error.message, /UserService constructor parameter 1 has no injection token/);
  });

  it('rejects a class that is not a @Service()', () => {
    class Plain {}
    const error = graphError('NOT_A_SERVICE', () => createApp({ name: 'svc', services: [Plain] }));
    assert.match(error.message, /Plain is listed in services but has no @Service\(\) decorator/);
  });

  it('names every step of a dependency cycle', () => {
    @Service()
    class Orders {
      // Billing is declared below: lazy() reads it once the app is created.
      constructor(@Inject(lazy(() => Billing)) readonly billing: unknown) {}
    }
    @Service()
    class Billing {
      constructor(@Inject(Orders) readonly orders: Orders) {}
    }
    const error = graphError('DEPENDENCY_CYCLE', () => createApp({ name: 'svc', services: [Orders, Billing] }));
    assert.match(
      error.message,
      /Dependency cycle: Orders \(constructor parameter 0 injects Billing\) → Billing \(constructor parameter 0 injects Orders\) → Orders/,
    );
  });

  it('names the class and parameter of an @Inject whose token is undefined (a circular import)', () => {
    assert.throws(
      () => {
        @Service()
        class Checkout {
          constructor(@Inject(undefined as never) readonly cart: unknown) {}
        }
        return Checkout;
      },
      /Checkout constructor parameter 0: @Inject\(\) got undefined/,
    );
  });

  it('rejects a cycle between plugins declared with dependsOn', () => {
    const error = graphError('DEPENDENCY_CYCLE', () =>
      createApp({
        name: 'svc',
        plugins: [probe('a', { behaviour: {}, recorder, dependsOn: ['b'] }), probe('b', { behaviour: {}, recorder, dependsOn: ['a'] })],
      }),
    );
    assert.match(error.message, /a \(dependsOn b\) → b \(dependsOn a\) → a/);
  });

  it('rejects an app setting whose env name clashes with a plugin setting', () => {
    const error = graphError('ENV_NAME_CLASH', () =>
      createApp({
        name: 'svc',
        settings: { dbHost: { format: { expected: 'x', parse: String }, default: 'x', required: false, sensitive: false, doc: 'x' } },
        plugins: [plugin('db')],
      }),
    );
    assert.match(error.message, /SVC_DB_HOST would be read by both app and probe db/);
  });

  it('orders components deterministically: dependencies first, declaration order otherwise', async () => {
    @Service()
    class Repo {
      constructor(@InjectPlugin('db') readonly db: ProbePlugin) {}
    }
    @Service()
    class Api {
      constructor(@Inject(Repo) readonly repo: unknown) {}
    }
    const app = createApp({ name: 'svc', plugins: [plugin('cache'), plugin('db')], services: [Api, Repo], env: { SVC_LOG_LEVEL: 'silent' } });
    await app.start();
    assert.deepEqual(app.components().map((c) => c.id), ['cache', 'db', 'Repo', 'Api']);
    await app.stop();
  });

  it('works without design:paramtypes metadata (this suite runs on esbuild, which emits none)', () => {
    @Service()
    class Repo {
      constructor(@InjectPlugin('db') readonly db: ProbePlugin) {}
    }
    assert.equal(Reflect.getMetadata('design:paramtypes', Repo), undefined, 'no metadata was emitted');
  });
});

