import 'reflect-metadata';
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { types } from 'node:util';
import { APP, APP_SETTINGS, Inject, InjectPlugin, LOGGER, Service, createApp, lazy, type App, type Logger } from '../src/index.js';
import { scripted, Recorder, type ScriptedPlugin } from './support/scripted-plugin.js';

@Service()
class Clock {
  static built = 0;
  constructor() {
    Clock.built += 1;
  }
}

@Service()
class Audit {
  constructor(@Inject(Clock) readonly clock: Clock) {}
}

@Service()
class Orders {
  constructor(
    @Inject(lazy(() => Audit)) readonly audit: Audit,
    @InjectPlugin('db') readonly db: ScriptedPlugin,
    @Inject(LOGGER) readonly logger: Logger,
    @Inject(Clock) readonly clock: Clock,
    @Inject(APP) readonly app: App,
    @Inject(APP_SETTINGS) readonly settings: object,
  ) {}
}

class NeverRegistered {}

describe('the container', () => {
  const app = () => createApp({ name: 'svc', plugins: [scripted('db', { behaviour: {}, recorder: new Recorder() })], services: [Orders, Audit, Clock], env: {} });

  it('builds each service once and injects that instance everywhere its class is injected, and app.get returns it', async () => {
    Clock.built = 0;
    const subject = app();
    await subject.start();
    const orders = subject.get(Orders);
    assert.equal(Clock.built, 1);
    assert.equal(orders.clock, subject.get(Clock));
    assert.equal(orders.audit, subject.get(Audit));
    assert.equal(orders.audit.clock, orders.clock);
    assert.equal(subject.get(Orders), orders);
    await subject.stop();
  });

  it('passes every constructor parameter its own token, whatever the order of plugins, values and services', async () => {
    const subject = app();
    await subject.start();
    const orders = subject.get(Orders);
    assert.equal(orders.db, subject.plugin('db'));
    assert.equal(orders.logger, subject.logger);
    assert.equal(orders.app, subject);
    assert.equal(orders.settings, subject.get(APP_SETTINGS));
    await subject.stop();
  });

  it('hands out the instances themselves: no proxy or wrapper sits between a caller and a service', async () => {
    const subject = app();
    await subject.start();
    const orders = subject.get(Orders);
    assert.equal(types.isProxy(orders), false);
    assert.equal(Object.getPrototypeOf(orders), Orders.prototype);
    assert.equal(types.isProxy(orders.audit), false);
    assert.equal(Object.getPrototypeOf(orders.audit), Audit.prototype);
    await subject.stop();
  });

  it('throws from app.get for a class that was never registered, naming it', async () => {
    const subject = app();
    await subject.start();
    assert.throws(() => subject.get(NeverRegistered), /NeverRegistered/);
    await subject.stop();
  });
});
