import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { spawnProcess, type OutputLine } from '@plinth/testkit';

const fixture = fileURLToPath(new URL('./fixtures/tracked-main.ts', import.meta.url));
const preload = fileURLToPath(new URL('../src/preload.ts', import.meta.url));
const recordModules = fileURLToPath(new URL('./fixtures/record-modules.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

const msg = (pattern: RegExp) => (line: OutputLine) => typeof line === 'object' && pattern.test(String(line.msg));

/** Every module a process running the `idle` fixture loaded from its start to its exit (after SIGTERM), as URLs. */
async function modulesLoaded(options: { preload: boolean; env: Record<string, string> }): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'plinth-sentry-modules-'));
  const file = path.join(dir, 'modules.txt');
  const child = spawnProcess({
      args: ['--import', 'tsx', '--import', recordModules, ...(options.preload ? ['--import', preload] : []), fixture],
      cwd: packageDir,
      env: {
        FIXTURE_SCENARIO: 'idle',
        TRACKED_APP_SHUTDOWN_DELAY: '0',
        // No health server: nothing to collide with on a shared machine.
        TRACKED_APP_HEALTH_PORT: '0',
        PLINTH_SENTRY_APP: options.preload ? 'tracked-app' : undefined,
        RECORD_MODULES_TO: file,
        ...options.env,
      },
    });
  try {
    await child.waitForLine(msg(/^fixture started$/), 50_000);
    child.signal('SIGTERM');
    const exit = await child.exited;
    assert.equal(exit.code, 0, child.tail());
    return [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))];
  } finally {
    if (child.exitInfo === undefined) await child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

// The SDK and the OpenTelemetry packages it brings; core's metrics load `@opentelemetry/api` on their own.
const sentryModules = (urls: readonly string[]) => urls.filter((url) => /\/node_modules\/@sentry\/|\/node_modules\/@opentelemetry\/(?!api\/)/.test(url));

describe('what a process loads', () => {
  it('no DSN: neither the preload nor the plugin loads the SDK or its OpenTelemetry packages', async () => {
    // Started as the Kubernetes manifests start it: the preload on, the DSN empty.
    const urls = await modulesLoaded({ preload: true, env: { TRACKED_APP_ERROR_TRACKING_DSN: '' } });
    assert.ok(urls.some((url) => url.endsWith('/src/preload.ts')), 'the preload ran');
    assert.ok(urls.some((url) => url.endsWith('/src/sentry-plugin.ts')), 'the plugin was loaded');
    assert.deepEqual(sentryModules(urls), []);
  });

  it('a DSN: the plugin loads @sentry/node when it starts', async () => {
    // Nothing listens there: the SDK is loaded and initialised all the same.
    const urls = await modulesLoaded({ preload: false, env: { TRACKED_APP_ERROR_TRACKING_DSN: 'http://key@127.0.0.1:9/1' } });
    assert.ok(
      sentryModules(urls).some((url) => url.includes('/node_modules/@sentry/node/')),
      'the recorder sees the SDK once reporting is on',
    );
  });
});

