import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { byMessage, FAILING_START_APP, request, spawnFixture, startServiceApp, type RunningFixture } from './fixtures/harness.js';

type Body = { status: string; checks?: Record<string, { status: string; critical: boolean; latencyMs: number; error?: string }> };

async function probe(base: string, path: string, init?: Parameters<typeof request>[1]) {
  const reply = await request(`${base}${path}`, init);
  return { status: reply.status, body: reply.text ? reply.json<Body>() : undefined, headers: reply.headers, ms: reply.ms };
}

describe('probes through the life of a process', () => {
  let app: RunningFixture;
  after(() => app?.child.kill());

  it('starting: liveness 200, startup and readiness 503, served before any preStart has finished', async () => {
    app = await spawnFixture({ FIXTURE_APP_PRIMARY_DB_START_GATE: 'true', FIXTURE_APP_HEALTH_CACHE_TTL: '0', FIXTURE_APP_SHUTDOWN_DELAY: '1500' });
    await app.child.waitForLine(byMessage('waiting for SIGUSR2'), 20_000);
    const live = await probe(app.health, '/health/live');
    const startup = await probe(app.health, '/health/startup');
    const ready = await probe(app.health, '/health/ready');
    const aggregate = await probe(app.health, '/health');
    assert.deepEqual([live.status, startup.status, ready.status, aggregate.status], [200, 503, 503, 503]);
    assert.equal(startup.body?.status, 'starting');
    assert.equal(ready.body?.status, 'starting');
    assert.ok(!app.child.stdout.includes('"to":"ready"'), 'the app was still starting');
  });

  it('ready: every probe 200 once startup finishes, on the health server and on the service server', async () => {
    app.child.signal('SIGUSR2');
    await app.child.waitForHttp(`${app.health}/health/ready`, { status: 200 });
    for (const base of [app.health, app.api]) {
      const ready = await probe(base, '/health/ready');
      assert.equal(ready.status, 200);
      assert.equal(ready.body?.status, 'ok');
      assert.deepEqual(
        Object.fromEntries(Object.entries(ready.body?.checks ?? {}).map(([id, c]) => [id, [c.status, c.critical]])),
        { primary_db: ['up', true], cache: ['up', false] },
      );
      assert.equal((await probe(base, '/health/startup')).status, 200);
      assert.equal((await probe(base, '/health/live')).status, 200);
      assert.equal((await probe(base, '/health')).status, 200);
    }
  });

  it('degraded: a non-critical check down gives 200 "degraded" and names the check', async () => {
    await request(`${app.api}/control?plugin=cache&health=down`);
    const ready = await probe(app.health, '/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body?.status, 'degraded');
    assert.equal(ready.body?.checks?.['cache']?.status, 'down');
    assert.equal(ready.body?.checks?.['cache']?.critical, false);
    assert.equal((await probe(app.health, '/health')).body?.status, 'degraded');
  });

  it('a critical check down: readiness 503 "down", liveness still 200', async () => {
    await request(`${app.api}/control?plugin=primary_db&health=down`);
    const ready = await probe(app.health, '/health/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.body?.status, 'down');
    assert.equal(ready.body?.checks?.['primary_db']?.status, 'down');
    assert.equal((await probe(app.health, '/health/live')).status, 200, 'a dependency never fails liveness');
    assert.equal((await probe(app.health, '/health/startup')).status, 200);
  });

  it('a critical check that never settles: every concurrent probe gets 503 within the 1 s check timeout plus a margin', async () => {
    await request(`${app.api}/control?plugin=primary_db&health=hang`);
    await request(`${app.api}/control?plugin=cache&health=up`);
    const replies = await Promise.all(Array.from({ length: 10 }, () => probe(app.health, '/health/ready')));
    for (const reply of replies) {
      assert.equal(reply.status, 503);
      assert.equal(reply.body?.checks?.['primary_db']?.status, 'down');
      assert.ok(reply.ms < 1000 + 500, `answered in ${reply.ms.toFixed(0)} ms`);
    }
    assert.ok(Math.max(...replies.map((r) => r.ms)) >= 900, 'they waited for the check timeout, not less');
  });

  it('a non-critical check that never settles: 200 "degraded" at the timeout', async () => {
    await request(`${app.api}/control?plugin=primary_db&health=up`);
    await request(`${app.api}/control?plugin=cache&health=hang`);
    const ready = await probe(app.health, '/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body?.status, 'degraded');
    assert.ok(ready.ms < 1000 + 500);
    await request(`${app.api}/control?plugin=cache&health=up`);
    assert.equal((await probe(app.health, '/health/ready')).body?.status, 'ok', 'back to ok');
  });

  it('matches paths without their query string, answers HEAD, forbids caching, refuses other methods', async () => {
    const withQuery = await probe(app.health, '/health/ready?verbose=1&x=%20');
    assert.equal(withQuery.status, 200);
    assert.equal((await probe(app.api, '/health/live?probe=kubelet')).status, 200);
    const head = await request(`${app.health}/health/ready`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.ok(Number(head.headers['content-length']) > 0, 'HEAD carries the length of the GET body');
    for (const path of ['/health', '/health/live', '/health/ready', '/health/startup', '/metrics']) {
      assert.equal((await request(`${app.health}${path}`)).headers['cache-control'], 'no-store', path);
    }
    const post = await request(`${app.health}/health/ready`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD');
    assert.equal((await request(`${app.api}/work`)).text, 'ok\n', "the service's own routes still work");
  });

  it('draining: readiness 503 at once, liveness and startup stay 200, then the process exits 0', async () => {
    app.child.signal('SIGTERM');
    await app.child.waitForLine(byMessage('state draining'));
    const ready = await probe(app.health, '/health/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.body?.status, 'draining');
    assert.equal((await probe(app.api, '/health/ready')).status, 503, 'the service server still serves during the shutdown delay, with readiness 503');
    assert.equal((await probe(app.health, '/health/live')).status, 200);
    assert.equal((await probe(app.health, '/health/startup')).status, 200);
    assert.equal((await probe(app.health, '/health')).status, 503);
    assert.deepEqual(await app.child.exited, { code: 0, signal: null });
  });
});

describe('probes of an app whose startup failed', () => {
  it('failed: liveness, readiness and startup all 503', async () => {
    const app = await spawnFixture({ FIXTURE_APP_PRIMARY_DB_FAIL_START: 'true' }, FAILING_START_APP);
    try {
      await app.child.waitForLine(byMessage(/staying up for the probes/), 20_000);
      const live = await probe(app.health, '/health/live');
      const ready = await probe(app.health, '/health/ready');
      const startup = await probe(app.health, '/health/startup');
      assert.deepEqual([live.status, ready.status, startup.status], [503, 503, 503]);
      assert.deepEqual([live.body?.status, ready.body?.status, startup.body?.status], ['failed', 'failed', 'failed']);
      app.child.signal('SIGTERM');
      assert.equal((await app.child.exited).code, 0);
    } finally {
      await app.child.kill();
    }
  });
});

describe('failure details', () => {
  const secrets = {
    FIXTURE_APP_PRIMARY_DB_HOST: 'pg-7.prod.internal',
    FIXTURE_APP_PRIMARY_DB_PASSWORD: 'hunter2-very-secret',
    FIXTURE_APP_PRIMARY_DB_HEALTH: 'down',
    FIXTURE_APP_CACHE_HOST: 'redis-3.prod.internal',
    FIXTURE_APP_CACHE_PASSWORD: 'cache-pw-0042',
    FIXTURE_APP_CACHE_HEALTH: 'down',
    FIXTURE_HTTP: 'off',
  };
  const leaks = ['pg-7.prod.internal', 'redis-3.prod.internal', 'hunter2-very-secret', 'cache-pw-0042', 'postgres://', 'ECONNREFUSED', 'health-token-1'];

  it('by default names the failing checks only: no hostname, connection string or secret', async () => {
    const app = await startServiceApp({ ...secrets, FIXTURE_APP_HEALTH_TOKEN: 'health-token-1' });
    try {
      for (const path of ['/health', '/health/ready', '/health?details=1']) {
        for (const headers of [{}, { authorization: 'Bearer wrong-token' }] as Record<string, string>[]) {
          const reply = await request(`${app.health}${path}`, { headers });
          assert.equal(reply.status, 503);
          for (const leak of leaks) assert.ok(!reply.text.includes(leak), `${path} leaks ${leak}: ${reply.text}`);
          const body = reply.json<Body>();
          assert.deepEqual(Object.keys(body.checks?.['primary_db'] ?? {}).sort(), ['critical', 'latencyMs', 'status']);
          assert.equal(body.checks?.['primary_db']?.status, 'down');
        }
      }
      const unlocked = (await request(`${app.health}/health`, { headers: { authorization: 'Bearer health-token-1' } })).json<Body>();
      const error = unlocked.checks?.['primary_db']?.error ?? '';
      assert.match(error, /ECONNREFUSED pg-7\.prod\.internal:5432/, 'the token unlocks the error text');
      assert.ok(!error.includes('hunter2-very-secret'), 'still redacted');
      assert.ok(!(unlocked.checks?.['cache']?.error ?? '').includes('cache-pw-0042'));
    } finally {
      app.child.signal('SIGTERM');
      await app.child.exited;
    }
  });

  it('with HEALTH_DETAILS=always shows the error text to everyone, still redacted', async () => {
    const app = await startServiceApp({ ...secrets, FIXTURE_APP_HEALTH_DETAILS: 'always' });
    try {
      const reply = await request(`${app.health}/health`);
      const error = reply.json<Body>().checks?.['primary_db']?.error ?? '';
      assert.match(error, /pg-7\.prod\.internal/);
      assert.ok(!reply.text.includes('hunter2-very-secret') && !reply.text.includes('cache-pw-0042'), reply.text);
      assert.match(reply.text, /<redacted>/);
    } finally {
      app.child.signal('SIGTERM');
      await app.child.exited;
    }
  });
});
