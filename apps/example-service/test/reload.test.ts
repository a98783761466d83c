import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startKeepAliveLoad, waitFor, type OutputLine } from '@plinth/testkit';
import { startService } from './support/service-process.js';

const message = (pattern: RegExp) => (line: OutputLine): boolean => typeof line === 'object' && pattern.test(String(line['msg']));

describe('signals that do not stop the example service', () => {
  it('SIGHUP applies a valid change and refuses an invalid one, SIGUSR2 is logged and ignored, under keep-alive load, without one failed request', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'example-reload-'));
    const envFile = path.join(dir, 'example.env');
    writeFileSync(envFile, 'EXAMPLE_SERVICE_LOG_LEVEL=info\n');
    const service = await startService({ EXAMPLE_SERVICE_ENV_FILE: envFile, EXAMPLE_SERVICE_LOG_LEVEL: undefined });
    const load = startKeepAliveLoad({ url: `${service.url}/stats`, connections: 4, maxDurationMs: 60_000 });
    try {
      await waitFor(() => load.report().completed > 50, { timeoutMs: 15_000 });

      writeFileSync(envFile, 'EXAMPLE_SERVICE_LOG_LEVEL=debug\nEXAMPLE_SERVICE_ERROR_TRACKING_SAMPLE_RATE=0.5\nEXAMPLE_SERVICE_HTTP_PORT=1\n');
      service.process.signal('SIGHUP');
      const applied = (await service.process.waitForLine(message(/^config reloaded: /), 15_000)) as Record<string, unknown>;
      assert.deepEqual(applied['changed'], [
        { setting: 'EXAMPLE_SERVICE_LOG_LEVEL', from: 'info', to: 'debug' },
        { setting: 'EXAMPLE_SERVICE_ERROR_TRACKING_SAMPLE_RATE', from: 1, to: 0.5 },
      ]);
      assert.deepEqual(applied['needsRestart'], ['EXAMPLE_SERVICE_HTTP_PORT']);
      let before = load.report().completed;
      await waitFor(() => load.report().completed > before + 50, { timeoutMs: 15_000 });

      writeFileSync(envFile, 'EXAMPLE_SERVICE_LOG_LEVEL=loud\nEXAMPLE_SERVICE_ERROR_TRACKING_SAMPLE_RATE=2\n');
      service.process.signal('SIGHUP');
      const refused = (await service.process.waitForLine(message(/^config reload refused, nothing changed/), 15_000)) as Record<string, unknown>;
      assert.deepEqual(refused['problems'], ['EXAMPLE_SERVICE_LOG_LEVEL', 'EXAMPLE_SERVICE_ERROR_TRACKING_SAMPLE_RATE']);
      before = load.report().completed;
      await waitFor(() => load.report().completed > before + 50, { timeoutMs: 15_000 });

      // Its default action would end the process (exit 140) mid-request.
      service.process.signal('SIGUSR2');
      await service.process.waitForLine(message(/^received SIGUSR2: ignored, the app keeps serving$/), 15_000);
      before = load.report().completed;
      await waitFor(() => load.report().completed > before + 50, { timeoutMs: 15_000 });
      assert.equal(service.process.exitInfo, undefined, 'still running');

      const report = await load.stop();
      assert.equal(report.completed, report.byStatus[200], JSON.stringify(report.byStatus));
      assert.equal(report.resetOnReusedSocket + report.otherErrors + report.refused, 0, JSON.stringify(report));
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      assert.match(metrics, /plinth_config_reloads_total\{outcome="applied",app="[^"]+"\} 1/);
      assert.match(metrics, /plinth_config_reloads_total\{outcome="rejected",app="[^"]+"\} 1/);
      service.process.signal('SIGTERM');
      assert.equal((await service.process.exited).code, 0);
    } finally {
      await load.stop();
      await service.process.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
