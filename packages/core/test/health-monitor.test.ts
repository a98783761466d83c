import { LogCapture } from '@plinth/testkit';
import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { createApp, type App } from '../src/index.js';
import { controllable, type ControllablePlugin } from './fixtures/controllable-plugin.js';
const running: App[] = [];
after(async () => {
  await Promise.all(running.map((app) => app.stop()));
});

async function startApp(env: Record<string, string> = {}, healthTimeout = 1000): Promise<{ app: App; db: ControllablePlugin; cache: ControllablePlugin }> {
  const app = createApp({
    name: 'test-app',
    plugins: [controllable('db', { healthTimeout }), controllable('cache', { critical: false, healthTimeout })],
    env,
    logDestination: new LogCapture(),
  });
  running.push(app);
  await app.start();
  return { app, db: app.plugin('db') as ControllablePlugin, cache: app.plugin('cache') as ControllablePlugin };
}

describe('health monitor', () => {
  it('runs the checks once for any number of concurrent probes', async () => {
    const { app, db, cache } = await startApp({ TEST_APP_HEALTH_CACHE_TTL: '0' }, 200);
    db.health = 'hang'; // the run lasts until the check timeout, so every caller below overlaps it
    const reports = await Promise.all(Array.from({ length: 25 }, () => app.health.report()));
    assert.equal(db.checks, 1, 'one check of db for 25 concurrent callers');
    assert.equal(cache.checks, 1);
    assert.equal(app.health.runs, 1);
    assert.ok(reports.every((r) => r === reports[0] || r.checks === reports[0]!.checks), 'all share the same results');
    assert.equal(reports[0]!.status, 'down');
  });

  it('reuses results for healthCacheTtl, and runs again once they are older', async () => {
    const cached = await startApp({ TEST_APP_HEALTH_CACHE_TTL: '60000' });
    await cached.app.health.report();
    await cached.app.health.report();
    assert.equal(cached.db.checks, 1, 'the second probe within the TTL used the cached result');

    const fresh = await startApp({ TEST_APP_HEALTH_CACHE_TTL: '0' });
    await fresh.app.health.report();
    await fresh.app.health.report();
    assert.equal(fresh.db.checks, 2, 'with a TTL of 0 every probe after a finished run runs the checks');
  });

  it('reports a check that never settles as down at its timeout, and aborts its signal', async () => {
    const { app, db } = await startApp({ TEST_APP_HEALTH_CACHE_TTL: '0' }, 300);
    db.health = 'hang';
    const started = performance.now();
    const report = await app.health.report();
    const elapsed = performance.now() - started;
    assert.equal(report.checks['db']?.status, 'down');
    assert.match(report.checks['db']?.error ?? '', /healthCheck did not finish within its 300 ms deadline/);
    assert.ok(elapsed >= 290 && elapsed < 300 + 500, `answered after ${elapsed.toFixed(0)} ms, at the 300 ms timeout`);
    assert.equal(db.abortedChecks, 1, "the hung check's signal was aborted");
    assert.equal(report.status, 'down', 'a critical check down: not ready');
  });

  it('gives degraded (ready) for a non-critical check down, down (not ready) for a critical one', async () => {
    const { app, db, cache } = await startApp({ TEST_APP_HEALTH_CACHE_TTL: '0' });
    assert.equal((await app.health.report()).status, 'ok');
    cache.health = 'down';
    const degraded = await app.health.report();
    assert.equal(degraded.status, 'degraded');
    assert.deepEqual({ ...degraded.checks['cache'], latencyMs: 0, error: undefined }, { status: 'down', critical: false, latencyMs: 0, error: undefined });
    db.health = 'down';
    assert.equal((await app.health.report()).status, 'down');
    db.health = 'up';
    cache.health = 'up';
    assert.equal((await app.health.report()).status, 'ok', 'recovers when the checks pass again');
  });

  it('counts a plugin that marked itself unavailable as down without calling its check, and redacts the reason', async () => {
    const { app, db } = await startApp({ TEST_APP_HEALTH_CACHE_TTL: '0', TEST_APP_DB_PASSWORD: 's3cret-pw' });
    db.ctx.availability.markUnavailable(db.ctx.redact('connection lost to postgres://app:s3cret-pw@db:5432/main'));
    const report = await app.health.report();
    assert.equal(db.checks, 0, 'the check was not called');
    assert.equal(report.checks['db']?.status, 'down');
    assert.equal(report.status, 'down');
    assert.ok(!report.checks['db']?.error?.includes('s3cret-pw'), 'no secret in the reason');
    assert.match(report.checks['db']?.error ?? '', /^unavailable: connection lost/);
  });

  it('answers draining at once once shutdown begins, even while a hung check is in flight', async () => {
    const { app, db } = await startApp({ TEST_APP_HEALTH_CACHE_TTL: '0' }, 600);
    db.health = 'hang';
    const inFlight = app.health.report();
    const stopping = app.stop();
    const started = performance.now();
    const report = await app.health.report();
    assert.ok(performance.now() - started < 100, 'no wait for the hung check');
    assert.equal(report.status, 'draining');
    assert.equal(app.health.liveness().ok, true, 'liveness stays 200 while draining');
    assert.equal(app.health.startup().ok, true);
    await stopping;
    assert.equal((await inFlight).status, 'stopped', 'the run in flight reports the state it ends in');
  });
});
