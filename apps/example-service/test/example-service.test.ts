import { strict as assert } from 'node:assert';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createScratchPostgresDatabase,
  createScratchRedis,
  createScratchVhost,
  freePort,
  requireService,
  startKeepAliveLoad,
  waitFor,
  type ScratchPostgresDatabase,
  type ScratchRedis,
  type ScratchVhost,
} from '@plinth/testkit';
import { json, postUser, startService, type RunningService } from './support/service-process.js';

interface UserBody {
  id: number;
  name: string;
  email: string;
  createdAt: string;
}
interface Stats {
  usersCreated: number;
  eventsConsumed: number;
}

/** The user API behaviour every configuration must show. */
async function exerciseApi(service: RunningService): Promise<void> {
  const created = await postUser(service.url, { name: 'Ada', email: 'ada@example.com' });
  assert.equal(created.status, 201);
  const ada = await json<UserBody>(created);
  assert.equal(ada.name, 'Ada');
  assert.equal(ada.email, 'ada@example.com');
  assert.ok(Number.isInteger(ada.id));
  assert.ok(!Number.isNaN(Date.parse(ada.createdAt)));

  const first = await fetch(`${service.url}/users/${ada.id}`);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-cache'), 'miss');
  assert.deepEqual(await json<UserBody>(first), ada);
  const second = await fetch(`${service.url}/users/${ada.id}`);
  assert.equal(second.headers.get('x-cache'), 'hit', 'the second fetch is served from the cache');
  assert.deepEqual(await json<UserBody>(second), ada);

  const invalid = await postUser(service.url, { name: '', email: 'not-an-email' });
  assert.equal(invalid.status, 400);
  const problems = await json<{ fields: Record<string, string> }>(invalid);
  assert.deepEqual(Object.keys(problems.fields).sort(), ['email', 'name']);
  assert.equal(problems.fields['email'], 'must be an email address');
  const missing = await postUser(service.url, { name: 'No email' });
  assert.equal(missing.status, 400);
  assert.equal((await json<{ fields: Record<string, string> }>(missing)).fields['email'], 'is required');

  assert.equal((await fetch(`${service.url}/users/999999`)).status, 404);
  assert.equal((await fetch(`${service.url}/users/abc`)).status, 400);
  const duplicate = await postUser(service.url, { name: 'Ada again', email: 'ada@example.com' });
  assert.equal(duplicate.status, 409);

  await postUser(service.url, { name: 'Grace', email: 'grace@example.com' });
  await waitFor(
    async () => {
      const stats = await json<Stats>(await fetch(`${service.url}/stats`));
      return stats.usersCreated === 2 && stats.eventsConsumed === 2;
    },
    { timeoutMs: 10_000, message: 'eventsConsumed reaches usersCreated' },
  );
}

async function stopService(service: RunningService): Promise<number | null> {
  service.process.signal('SIGTERM');
  return (await service.process.exited).code;
}


describe('example service on embedded defaults', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'example-pglite-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves the users API with no server configured', async () => {
    const service = await startService({ EXAMPLE_SERVICE_PRIMARY_DB_DATA_DIR: join(dataDir, 'db') });
    try {
      const ready = await fetch(`${service.url}/health/ready`);
      assert.equal(ready.status, 200);
      await exerciseApi(service);
    } finally {
      assert.equal(await stopService(service), 0, 'exit 0 on SIGTERM');
    }
  });

  it('runs embedded in production only when asked to, /health says which plugins do, and an extra variable only warns', async () => {
    const service = await startService({
      NODE_ENV: 'production',
      EXAMPLE_SERVICE_BUILD_SHA: '3f2a9c1',
      EXAMPLE_SERVICE_PRIMARY_DB_DATA_DIR: join(dataDir, 'db'),
      EXAMPLE_SERVICE_PRIMARY_DB_EMBEDDED: 'true',
      EXAMPLE_SERVICE_SESSION_CACHE_EMBEDDED: 'true',
      EXAMPLE_SERVICE_EVENTS_EMBEDDED: 'true',
      EXAMPLE_SERVICE_SERVICE_REGISTRY_EMBEDDED: 'true',
    });
    try {
      const health = await json<{ checks: Record<string, { status: string; embedded?: boolean }> }>(await fetch(`${service.url}/health`));
      for (const prefix of ['primary_db', 'session_cache', 'events', 'service_registry']) {
        assert.equal(health.checks[prefix]?.status, 'up', prefix);
        assert.equal(health.checks[prefix]?.embedded, true, `${prefix} is marked embedded`);
      }
      assert.equal(service.process.stdout.match(/running embedded/g)?.length, 4, 'one log line per embedded plugin');
      assert.match(service.process.stdout, /EXAMPLE_SERVICE_BUILD_SHA is not a setting of this app and is ignored/);
      assert.doesNotMatch(service.process.stdout + service.process.stderr, /did you mean/);
    } finally {
      assert.equal(await stopService(service), 0, 'exit 0 on SIGTERM');
    }
  });
});

describe('example service on the real servers', () => {
  let database: ScratchPostgresDatabase;
  let cache: ScratchRedis;
  // The queue names are fixed: a vhost of its own keeps parallel runs from consuming each other's events.
  let vhost: ScratchVhost;
  let env: Record<string, string>;

  before(async () => {
    await requireService('postgres');
    await requireService('redis');
    await requireService('rabbitmq');
    database = await createScratchPostgresDatabase('example');
    cache = await createScratchRedis();
    // The queue names are fixed: a vhost of its own keeps other runs' consumers off them.
    vhost = await createScratchVhost('example');
    env = {
      EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: vhost.url,
    };
  });
  after(async () => {
    await vhost?.delete();
    await cache?.release();
    await database?.drop();
  });

  it('serves the users API; its health server listens on the service\'s own HTTP host', async () => {
    const service = await startService(env);
    try {
      await exerciseApi(service);
      assert.ok(service.process.lines.some((line) => typeof line === 'object' && /^health endpoints listening on 127\.0\.0\.1:\d+$/.test(String(line['msg']))), service.process.tail());
    } finally {
      assert.equal(await stopService(service), 0);
    }
  });

  it('drains under keep-alive load on SIGTERM: no failed request, exit 0, and no event lost', async () => {
    const first = await startService({ ...env, EXAMPLE_SERVICE_SHUTDOWN_DELAY: '500' });
    const reads = startKeepAliveLoad({ url: `${first.url}/users/1`, connections: 6, maxDurationMs: 20_000 });
    const writes = createUsersContinuously(first.url, 3);
    await waitFor(() => writes.created >= 20, { timeoutMs: 15_000, message: 'users are being created' });

    first.process.signal('SIGTERM');
    const { code } = await first.process.exited;
    const readReport = await reads.stop();
    const writeReport = await writes.stop();

    assert.equal(code, 0, 'exit 0 after a clean drain');
    assert.equal(readReport.resetOnReusedSocket, 0, 'no reset on a reused keep-alive connection');
    assert.equal(readReport.otherErrors, 0, readReport.otherErrorMessages.join('; '));
    assert.ok(readReport.completed > 50, `reads completed: ${readReport.completed}`);
    for (const status of Object.keys(readReport.byStatus)) assert.ok(['200', '404'].includes(status), `read status ${status}`);
    assert.equal(writeReport.failed, 0, `writes failed: ${writeReport.failures.join('; ')}`);

    // Every created user's event is consumed, by this instance or the next one.
    const second = await startService(env);
    try {
      await waitFor(
        async () => {
          const stats = await json<Stats>(await fetch(`${second.url}/stats`));
          return stats.usersCreated === writeReport.created + 2 && stats.eventsConsumed === stats.usersCreated;
        },
        { timeoutMs: 15_000, message: 'every user.created event is consumed' },
      );
    } finally {
      assert.equal(await stopService(second), 0);
    }
  });

  it('starts degraded and keeps working when Redis is unreachable', async () => {
    const closed = await freePort();
    const service = await startService({ ...env, EXAMPLE_SERVICE_SESSION_CACHE_URL: `redis://127.0.0.1:${closed}` });
    try {
      const ready = await fetch(`${service.url}/health/ready`);
      assert.equal(ready.status, 200);
      const health = await json<{ status: string; checks: Record<string, { status: string }> }>(await fetch(`${service.url}/health`));
      assert.equal(health.status, 'degraded');
      assert.equal(health.checks['session_cache']?.status, 'down');
      const created = await postUser(service.url, { name: 'Linus', email: `linus-${Date.now()}@example.com` });
      assert.equal(created.status, 201);
      const user = await json<UserBody>(created);
      const fetched = await fetch(`${service.url}/users/${user.id}`);
      assert.equal(fetched.status, 200);
      assert.equal(fetched.headers.get('x-cache'), 'miss');
    } finally {
      assert.equal(await stopService(service), 0);
    }
  });

  it('exits 1 within its deadline naming primary_db when PostgreSQL is unreachable', async () => {
    const closed = await freePort();
    const service = await startService(
      {
        ...env,
        EXAMPLE_SERVICE_PRIMARY_DB_URL: `postgres://app:s3cret@127.0.0.1:${closed}/example`,
        EXAMPLE_SERVICE_PRIMARY_DB_START_TIMEOUT: '2000',
      },
      { waitReady: false },
    );
    const { code } = await service.process.exited;
    assert.equal(code, 1);
    // Timed by the app's own log (first line to last): node's start-up on a busy machine is not the app's deadline.
    const times = service.process.lines.flatMap((line) => (typeof line === 'object' && typeof line['time'] === 'number' ? [line['time']] : []));
    const ranFor = Math.max(...times) - Math.min(...times);
    assert.ok(times.length >= 2 && ranFor < 2000 + 5000, `gave up within its 2 s deadline plus a stop (ran ${ranFor} ms)`);
    const output = service.process.stdout + service.process.stderr;
    assert.match(output, /primary_db/);
    assert.match(output, new RegExp(`127\\.0\\.0\\.1:${closed}`));
    assert.doesNotMatch(output, /s3cret/);
  });
});

describe('example service config', () => {
  it('exits 78 in production without server URLs, naming every one at once', async () => {
    const service = await startService({ NODE_ENV: 'production' }, { waitReady: false });
    const { code } = await service.process.exited;
    assert.equal(code, 78);
    for (const name of ['EXAMPLE_SERVICE_PRIMARY_DB_URL', 'EXAMPLE_SERVICE_SESSION_CACHE_URL', 'EXAMPLE_SERVICE_EVENTS_URL']) {
      assert.match(service.process.stderr, new RegExp(`${name} \\(or [A-Z_]+_HOST\\) is required in production; set it, or set [A-Z_]+_EMBEDDED=true`));
    }
    assert.match(service.process.stderr, /EXAMPLE_SERVICE_SERVICE_REGISTRY_URL is required in production; set it, or set EXAMPLE_SERVICE_SERVICE_REGISTRY_EMBEDDED=true/);
    assert.doesNotMatch(service.process.stdout, /preStart/, 'nothing started');
  });

  it('exits 78 naming the bad variable', async () => {
    const service = await startService({ EXAMPLE_SERVICE_HTTP_PORT: '70000' }, { waitReady: false });
    const { code } = await service.process.exited;
    assert.equal(code, 78);
    assert.match(service.process.stderr, /EXAMPLE_SERVICE_HTTP_PORT="70000" is invalid: expected a port number/);
  });
});

/** Creates users with unique emails on keep-alive connections until stopped. */
function createUsersContinuously(url: string, loops: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: loops });
  let running = true;
  let created = 0;
  let failed = 0;
  let sequence = 0;
  const failures: string[] = [];
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const request = http.request(`${url}/users`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      });
      request.on('error', (error: NodeJS.ErrnoException) => reject(Object.assign(error, { reused: request.reusedSocket })));
      request.end(body);
    });
  const loop = async () => {
    while (running) {
      const n = sequence++;
      try {
        const status = await post(JSON.stringify({ name: `load ${n}`, email: `load-${n}-${Date.now()}@example.com` }));
        if (status === 201) created += 1;
        else {
          failed += 1;
          failures.push(`status ${status}`);
        }
      } catch (error) {
        const { code, reused } = error as NodeJS.ErrnoException & { reused: boolean };
        // A new connection refused after the listener closed was never accepted: not a lost request.
        if (code === 'ECONNREFUSED' || (!reused && code === 'ECONNRESET')) {
          running = false;
          break;
        }
        failed += 1;
        failures.push(`${code ?? ''} ${(error as Error).message}`);
      }
    }
  };
  const done = Promise.all(Array.from({ length: loops }, loop));
  return {
    get created() {
      return created;
    },
    async stop() {
      running = false;
      await done;
      agent.destroy();
      return { created, failed, failures };
    },
  };
}
