import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { postgres } from '@plinth/plugin-postgres';
import { rabbitmq } from '@plinth/plugin-rabbitmq';
import { redis } from '@plinth/plugin-redis';
import { createTestApp, templateCopy } from '@plinth/testing';
import { exampleAppOptions, migrationsFolder } from '../src/app.js';
import { UserCreatedConsumer } from '../src/events/user-created-consumer.js';
import { UserEvents } from '../src/events/user-events.js';
import { HttpApi } from '../src/http/http-api.js';
import { UserRepository } from '../src/users/user-repository.js';
import { UserService } from '../src/users/user-service.js';
import type { UserView } from '../src/users/user-view.js';

/** The repository as a Map: what a service test needs from it, no database. */
class InMemoryUsers {
  readonly #byId = new Map<number, UserView>();
  /** No database, so no transaction: the callback runs with a stand-in. */
  transaction<T>(fn: (tx: never) => Promise<T>): Promise<T> {
    return fn({} as never);
  }
  create(name: string, email: string): Promise<UserView | undefined> {
    if ([...this.#byId.values()].some((u) => u.email === email)) return Promise.resolve(undefined);
    const user = { id: this.#byId.size + 1, name, email, createdAt: new Date(0).toISOString() };
    this.#byId.set(user.id, user);
    return Promise.resolve(user);
  }
  findById(id: number): Promise<UserView | undefined> {
    return Promise.resolve(this.#byId.get(id));
  }
}

/** The outbox writer, recording what it was asked to announce. */
class RecordedEvents {
  readonly created: UserView[] = [];
  userCreated(_tx: unknown, user: UserView): Promise<void> {
    this.created.push(user);
    return Promise.resolve();
  }
}

/** The app without its HTTP API: these tests call the service directly. */
const withoutHttp = () => {
  const options = exampleAppOptions();
  return { ...options, services: options.services.filter((s) => s !== HttpApi) };
};

describe('UserService through createTestApp', () => {
  it('with no server at all: creates, refuses a duplicate email, caches reads and writes the user.created event', async (t) => {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const events = new RecordedEvents();
    await using test = await createTestApp(withoutHttp(), {
      plugins: { primary_db: {}, user_events: {}, session_cache: redis.embedded(), events: rabbitmq.embedded() },
      services: [
        [UserRepository, new InMemoryUsers()],
        [UserEvents, events],
        [UserCreatedConsumer, {}],
      ],
    });
    const users = test.get<UserService>(UserService);

    const result = await users.create('Ada', 'ada@example.com');
    assert.ok('created' in result);
    assert.deepEqual(events.created, [result.created], 'the event is written with the user');
    assert.deepEqual(await users.create('Ada again', 'ada@example.com'), { duplicate: true });
    assert.equal(events.created.length, 1, 'no event for a duplicate');
    assert.equal((await users.find(result.created.id)).fromCache, false);
    assert.deepEqual(await users.find(result.created.id), { user: result.created, fromCache: true });
    await test.stop();
    const tookMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    t.diagnostic(`started, exercised and stopped in ${Math.round(tookMs)} ms (${Math.round(cpuMs)} ms of CPU)`);
    // Well under a second of work. CPU time, not wall time: on a shared machine the wall
    // clock measures the neighbours too.
    assert.ok(cpuMs < 500, `a service test with no server used ${Math.round(cpuMs)} ms of CPU`);
  });

  it('on embedded PostgreSQL from a prepared data folder: the real repository, migrations applied once', async (t) => {
    const dataDir = await templateCopy('example-service-primary-db', {
      inputs: [migrationsFolder],
      build: async (dir) => {
        const build = await createTestApp(withoutHttp(), { plugins: { primary_db: postgres.embedded({ dataDir: dir }), session_cache: redis.embedded(), events: rabbitmq.embedded() } });
        await build.stop();
      },
    });
    const started = performance.now();
    await using test = await createTestApp(withoutHttp(), {
      plugins: { primary_db: postgres.embedded({ dataDir }), session_cache: redis.embedded(), events: rabbitmq.embedded() },
    });
    const startMs = performance.now() - started;
    const users = test.get<UserService>(UserService);
    const result = await users.create('Grace', 'grace@example.com');
    assert.ok('created' in result);
    assert.deepEqual((await users.find(result.created.id)).user, result.created);
    assert.ok(test.logs.some((line) => line.msg === 'migrations up to date'), 'the copy already had every migration');
    t.diagnostic(`embedded PostgreSQL app started in ${Math.round(startMs)} ms; RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
  });
});
