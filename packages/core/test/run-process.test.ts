import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { spawnProcess } from '@plinth/testkit';

const idleApp = fileURLToPath(new URL('./fixtures/idle-app.ts', import.meta.url));

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
});
