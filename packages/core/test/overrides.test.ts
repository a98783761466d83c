import 'reflect-metadata';
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { GraphValidationError, Inject, InjectPlugin, Service, createApp, type OnStop } from '../src/index.js';
import { scripted, Recorder, type ScriptedPlugin } from './support/scripted-plugin.js';

@Service()
class Repository {
  constructor(@InjectPlugin('db') readonly db: ScriptedPlugin) {}
  find(): string {
    return 'from the database';
  }
}

@Service()
class Api {
  constructor(@Inject(Repository) readonly repository: Repository) {}
}

describe('service overrides (createApp({ overrides }))', () => {
  it('injects the given instance wherever the class is injected, and never builds the class or what it injects', async () => {
    const fake = { find: () => 'from the fake' } as unknown as Repository;
    const app = createApp({ name: 'svc', services: [Repository, Api], overrides: new Map([[Repository, fake]]), env: {} });
    const started: string[] = [];
    app.on('lifecycle', (event) => {
      if (event.phase === 'preStart' && event.outcome === 'begin') started.push(event.component);
    });
    await app.start();
    assert.equal(app.get<Api>(Api).repository, fake);
    assert.equal(app.get<Api>(Api).repository.find(), 'from the fake');
    assert.deepEqual(started, ['Repository', 'Api'], 'no plugin "db" was needed');
    await app.stop();
  });

  it('runs the lifecycle hooks the override itself has', async () => {
    const stopped: string[] = [];
    const fake: OnStop = { onStop: () => void stopped.push('fake') };
    const app = createApp({
      name: 'svc',
      plugins: [scripted('db', { behaviour: {}, recorder: new Recorder() })],
      services: [Repository, Api],
      overrides: new Map([[Repository, fake]]),
      env: {},
    });
    await app.start();
    await app.stop();
    assert.deepEqual(stopped, ['fake']);
  });

  it('rejects an override of a class that is not listed in services', () => {
    assert.throws(
      () => createApp({ name: 'svc', services: [Api], overrides: new Map([[Repository, {}]]) }),
      (error: unknown) => error instanceof GraphValidationError && /Repository is overridden but not listed in services/.test(error.message),
    );
  });
});
