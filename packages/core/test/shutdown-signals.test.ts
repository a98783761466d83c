import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { startKeepAliveLoad, waitFor } from '@plinth/testkit';
import { byMessage, logObjects, request, startServiceApp } from './fixtures/harness.js';

const hungStop = {
  FIXTURE_APP_PRIMARY_DB_HANG_STOP: 'true',
  FIXTURE_APP_PRIMARY_DB_STOP_TIMEOUT: '60000',
  FIXTURE_APP_LOG_LEVEL: 'debug',
};

describe('signals and the hard deadline', () => {
  it('a second SIGTERM exits at once (code 1), saying what was still running', async () => {
    const app = await startServiceApp({ ...hungStop, FIXTURE_APP_SHUTDOWN_TIMEOUT: '60000' });
    try {
      app.child.signal('SIGTERM');
      await app.child.waitForLine(byMessage('onStop primary_db'));
      const sent = performance.now();
      app.child.signal('SIGTERM');
      const exit = await app.child.exited;
      const elapsed = performance.now() - sent;
      assert.deepEqual(exit, { code: 1, signal: null });
      assert.ok(elapsed < 1000, `exited ${elapsed.toFixed(0)} ms after the second signal`);
      const line = logObjects(app.child).find((l) => l['msg'] === 'second SIGTERM: exiting now');
      assert.ok(line, app.child.tail());
      assert.deepEqual(line['stillRunning'], ['onStop primary_db']);
    } finally {
      await app.child.kill();
    }
  });

  it('a hung onStop hits SHUTDOWN_TIMEOUT: exit 1, logging what was still running', async () => {
    const app = await startServiceApp({ ...hungStop, FIXTURE_APP_SHUTDOWN_TIMEOUT: '1500' });
    try {
      const sent = performance.now();
      app.child.signal('SIGTERM');
      const exit = await app.child.exited;
      const elapsed = performance.now() - sent;
      assert.deepEqual(exit, { code: 1, signal: null });
      assert.ok(elapsed >= 1500 && elapsed < 1500 + 1000, `exited ${elapsed.toFixed(0)} ms after SIGTERM`);
      const line = logObjects(app.child).find((l) => /shutdown exceeded its 1500 ms budget/.test(String(l['msg'])));
      assert.ok(line, app.child.tail());
      assert.deepEqual(line['stillRunning'], ['onStop primary_db']);
      assert.equal(line['level'], 60);
      assert.ok(app.child.stdout.includes('HTTP server'), 'the HTTP server had drained before the hooks ran');
    } finally {
      await app.child.kill();
    }
  });
});

describe('signals that do not stop the app', () => {
  it('SIGHUP reloads the config under traffic: a valid change applies, an invalid one changes nothing and says why; no request fails', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plinth-sighup-'));
    const envFile = path.join(dir, 'app.env');
    writeFileSync(envFile, 'FIXTURE_APP_LOG_LEVEL=info\n');
    const app = await startServiceApp({ FIXTURE_APP_ENV_FILE: envFile });
    const load = startKeepAliveLoad({ url: `${app.api}/work`, connections: 4 });
    try {
      await waitFor(() => load.report().completed > 20, { timeoutMs: 10_000 });
      writeFileSync(envFile, 'FIXTURE_APP_LOG_LEVEL=debug\nFIXTURE_APP_SHUTDOWN_DELAY=100\n');
      app.child.signal('SIGHUP');
      const applied = await app.child.waitForLine(byMessage(/^config reloaded: FIXTURE_APP_LOG_LEVEL changed/));
      assert.deepEqual((applied as Record<string, unknown>)['changed'], [{ setting: 'FIXTURE_APP_LOG_LEVEL', from: 'info', to: 'debug' }]);
      await app.child.waitForLine(byMessage('FIXTURE_APP_SHUTDOWN_DELAY changed, but it is not reloadable: it applies after a restart'));
      let before = load.report().completed;
      await waitFor(() => load.report().completed > before + 20, { timeoutMs: 10_000 });

      writeFileSync(envFile, 'FIXTURE_APP_LOG_LEVEL=loud\n');
      app.child.signal('SIGHUP');
      const refused = await app.child.waitForLine(byMessage(/^config reload refused, nothing changed/));
      assert.match(String((refused as Record<string, unknown>)['msg']), /FIXTURE_APP_LOG_LEVEL="loud" is invalid/);
      app.child.signal('SIGUSR2');
      await app.child.waitForLine(byMessage('received SIGUSR2: ignored, the app keeps serving'));
      before = load.report().completed;
      await waitFor(() => load.report().completed > before + 20, { timeoutMs: 10_000 });
      const report = await load.stop();
      assert.equal(app.child.exitInfo, undefined, 'still running');
      assert.ok(report.completed > 60);
      assert.equal(report.completed, report.byStatus[200], JSON.stringify(report));
      assert.equal(report.resetOnReusedSocket + report.otherErrors + report.refused, 0, JSON.stringify(report));
      assert.equal((await request(`${app.health}/health/ready`)).status, 200);
      app.child.signal('SIGTERM');
      assert.deepEqual(await app.child.exited, { code: 0, signal: null });
      // The refused reload left debug on: the shutdown's debug lines are there.
      assert.ok(logObjects(app.child).some((l) => l['level'] === 20), 'debug lines after the refused reload');
    } finally {
      await load.stop();
      await app.child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('crashes', () => {
  it('an unhandled rejection a plugin declared a known defect of its driver is a warning: the app keeps serving and later stops cleanly', async () => {
    const app = await startServiceApp({});
    try {
      await request(`${app.api}/crash?kind=tolerated`);
      const warning = await app.child.waitForLine(byMessage(/^unhandledRejection tolerated \(the fixture driver leaves it unhandled\): driver defect on purpose$/));
      assert.equal(typeof warning === 'string' ? undefined : warning['level'], 40);
      await request(`${app.api}/crash?kind=tolerated`);
      assert.equal((await request(`${app.api}/work`)).status, 200);
      assert.equal((await request(`${app.health}/health/ready`)).status, 200);
      assert.equal(app.child.exitInfo, undefined, 'still running');
      app.child.signal('SIGTERM');
      assert.deepEqual(await app.child.exited, { code: 0, signal: null }, app.child.tail());
      assert.ok(!logObjects(app.child).some((l) => l['level'] === 60), 'nothing logged as fatal');
    } finally {
      await app.child.kill();
    }
  });

  for (const [kind, origin, message] of [
    ['exception', 'uncaughtException', 'boom: thrown on purpose'],
    ['rejection', 'unhandledRejection', 'boom: rejected on purpose'],
  ] as const) {
    it(`an ${origin} is logged with context, then the app stops gracefully and exits 1`, async () => {
      const app = await startServiceApp({ FIXTURE_APP_LOG_LEVEL: 'debug' });
      try {
        await request(`${app.api}/crash?kind=${kind}`);
        const exit = await app.child.exited;
        assert.deepEqual(exit, { code: 1, signal: null }, app.child.tail());
        const logs = logObjects(app.child);
        const fatal = logs.findIndex((l) => l['origin'] === origin);
        assert.ok(fatal >= 0, app.child.tail());
        const line = logs[fatal]!;
        assert.equal(line['level'], 60);
        assert.equal(line['state'], 'ready');
        assert.equal((line['err'] as { message: string }).message, message);
        assert.match(String((line['err'] as { stack: string }).stack), /service-app\.ts/, 'with the stack');
        const after = (msg: string | RegExp) => logs.findIndex((l, i) => i > fatal && (typeof msg === 'string' ? l['msg'] === msg : msg.test(String(l['msg']))));
        assert.ok(after('state draining') > fatal, 'graceful shutdown followed');
        assert.ok(after(/drained$/) > after('state draining'), 'the HTTP server drained');
        assert.ok(after('onStop primary_db succeeded') > after(/drained$/), 'components stopped after the drain');
        assert.ok(after('stopped cleanly') > fatal, 'everything stopped cleanly, and still the exit code says it crashed');
      } finally {
        await app.child.kill();
      }
    });
  }
});
