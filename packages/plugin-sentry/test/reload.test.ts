import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { sentry, type SentryPlugin } from '../src/index.js';
import { stopApps, trackedApp, trackingEnv } from './helpers.js';

describe('reloading the sample rate', () => {
  afterEach(stopApps);

  it('applies a new SAMPLE_RATE to the running SDK without a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plinth-sentry-reload-'));
    try {
      const envFile = path.join(dir, 'app.env');
      writeFileSync(envFile, `${trackingEnv('SAMPLE_RATE')}=1\n`);
      const { app } = trackedApp({ plugins: [sentry('error_tracking')], env: { TRACKED_APP_ENV_FILE: envFile, [trackingEnv('DSN')]: 'http://key@127.0.0.1:9/1' } });
      await app.start();
      const tracker = app.plugin('error_tracking') as SentryPlugin;
      assert.equal(tracker.client?.getOptions().sampleRate, 1);
      writeFileSync(envFile, `${trackingEnv('SAMPLE_RATE')}=0.25\n`);
      const report = await app.reload();
      assert.deepEqual(report.applied, [trackingEnv('SAMPLE_RATE')]);
      assert.equal(tracker.client?.getOptions().sampleRate, 0.25);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
