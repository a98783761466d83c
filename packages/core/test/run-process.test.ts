import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { spawnProcess } from '@plinth/testkit';
import { byMessage, logObjects } from './fixtures/harness.js';

const idleApp = fileURLToPath(new URL('./fixtures/idle-app.ts', import.meta.url));
const trackerApp = fileURLToPath(new URL('./fixtures/error-tracker-app.ts', import.meta.url));

describe('run()', () => {
  it('keeps an app that holds no handle alive until SIGTERM, then exits 0', async () => {
    const child = spawnProcess({ args: ['--import', 'tsx', idleApp] });
    await child.waitForLine(/idle-app started/, 20_000);
    // Without a handle of its own, the process would exit 13 (unsettled top-level await) here.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(child.exitInfo, undefined, 'still running');
    child.signal('SIGTERM');
    const { code } = await child.exited;
    assert.equal(code, 0);
  });

  it('runs the beforeExit steps before exiting 1 after a failed startup, with the failure reported', async () => {
    const child = spawnProcess({
      args: ['--import', 'tsx', trackerApp],
      env: { FIXTURE_APP_HEALTH_PORT: '0', FIXTURE_APP_PRIMARY_DB_FAIL_START: 'true', FIXTURE_APP_PRIMARY_DB_START_TIMEOUT: '300' },
    });
    const { code } = await child.exited;
    assert.equal(code, 1, child.tail());
    const flushed = logObjects(child).find((l) => l['msg'] === 'flushed');
    assert.ok(flushed, child.tail());
    assert.ok((flushed['errors'] as string[]).includes('startup:StartupError'), JSON.stringify(flushed));
  });

  it('reports an uncaught exception, stops, flushes, and exits 1', async () => {
    const child = spawnProcess({ args: ['--import', 'tsx', trackerApp], env: { FIXTURE_APP_HEALTH_PORT: '0' } });
    await child.waitForLine(byMessage('fixture-app started'), 20_000);
    child.signal('SIGUSR2');
    const { code } = await child.exited;
    assert.equal(code, 1, child.tail());
    const flushed = logObjects(child).find((l) => l['msg'] === 'flushed');
    assert.deepEqual(flushed?.['errors'], ['uncaughtException:Error'], child.tail());
  });

  it('--version prints the app version and exits 0 without starting', async () => {
    const child = spawnProcess({ args: ['--import', 'tsx', trackerApp, '--version'], env: { FIXTURE_APP_PRIMARY_DB_FAIL_START: 'true' } });
    const { code } = await child.exited;
    assert.equal(code, 0, child.tail());
    assert.ok(child.lines.includes('fixture-app 4.5.6'), child.tail());
    assert.ok(!child.tail().includes('starting'), child.tail());
  });
});
