import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { requireService, scratchAmqpNames, spawnProcess, startSentryEnvelopeServer, waitFor, type OutputLine, type SentryEnvelopeServer } from '@plinth/testkit';
import { tagsOf } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/tracked-main.ts', import.meta.url));
const preload = fileURLToPath(new URL('../src/preload.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

let server: SentryEnvelopeServer;
before(async () => {
  server = await startSentryEnvelopeServer();
});
after(() => server.close());

function run(scenario: string, options: { preload: boolean; env?: Record<string, string> }) {
  return spawnProcess({
    args: ['--import', 'tsx', ...(options.preload ? ['--import', preload] : []), fixture],
    cwd: packageDir,
    env: {
      FIXTURE_SCENARIO: scenario,
      TRACKED_APP_ERROR_TRACKING_DSN: server.dsn(),
      TRACKED_APP_SHUTDOWN_DELAY: '0',
      // No health server: nothing to collide with on a shared machine.
      TRACKED_APP_HEALTH_PORT: '0',
      PLINTH_SENTRY_APP: options.preload ? 'tracked-app' : undefined,
      ...options.env,
    },
  });
}

const msg = (pattern: RegExp) => (line: OutputLine) => typeof line === 'object' && pattern.test(String(line.msg));
const noPreloadNotice = msg(/auto-instrumentation .* is unavailable/);

describe('in a process run by app.run()', () => {
  it('a failed startup exits 1 only after its event arrived', async () => {
    const child = run('fail-start', { preload: false, env: { TRACKED_APP_PRIMARY_DB_FAIL_START: 'true' } });
    const exit = await child.exited;
    // Read at the moment of exit: the event must already be in.
    const startup = server.events.filter((event) => tagsOf(event)['plinth.source'] === 'startup');
    assert.equal(exit.code, 1, child.tail());
    assert.equal(startup.length, 1, child.tail());
    assert.equal(tagsOf(startup[0]!)['plugin.prefix'], 'primary_db');
    assert.equal(startup[0]!.release, '2.0.0');
  });

  it('without the preload: the plugin initialises the SDK, says once that auto-instrumentation is unavailable, and an uncaught exception arrives before exit', async () => {
    const child = run('uncaught', { preload: false });
    const exit = await child.exited;
    const crash = server.events.filter((event) => tagsOf(event)['plinth.source'] === 'uncaughtException');
    assert.notEqual(exit.code, 0);
    assert.equal(crash.length, 1, child.tail());
    assert.match(JSON.stringify(crash[0]!.exception), /uncaught boom/);
    assert.equal(child.lines.filter(noPreloadNotice).length, 1, child.tail());
    const on = child.lines.find(msg(/^error reporting on$/)) as Record<string, unknown> | undefined;
    assert.equal(on?.mode, 'plugin');
  });

  it('with the preload: the plugin attaches to its client (no second init, no notice) and an unhandled rejection arrives', async () => {
    const child = run('rejection', { preload: true });
    try {
      const event = await server
        .waitForEvent((e) => tagsOf(e)['plinth.source'] === 'unhandledRejection' && /rejected boom/.test(JSON.stringify(e.exception)), 60_000)
        .catch((error: Error) => assert.fail(`${error.message.slice(0, 300)}\n${child.tail()}`));
      assert.equal(tagsOf(event).app, 'tracked-app');
      const on = (await child.waitForLine(msg(/^error reporting on$/))) as Record<string, unknown>;
      assert.equal(on.mode, 'preload');
      assert.equal(child.lines.filter(noPreloadNotice).length, 0);
    } finally {
      child.signal('SIGTERM');
      await child.exited;
    }
  });

  it('with tracing on and the preload, the AMQP publish span and the consume span share one trace id', async () => {
    const url = await requireService('rabbitmq');
    const names = scratchAmqpNames('sentry-trace');
    const queue = names.name('user-created');
    const child = run('trace', {
      preload: true,
      env: { FIXTURE_QUEUE: queue, TRACKED_APP_EVENTS_URL: url, TRACKED_APP_ERROR_TRACKING_TRACES_SAMPLE_RATE: '1' },
    });
    try {
      await child.waitForLine(msg(/^consumed$/), 60_000);
      child.signal('SIGTERM');
      await child.exited;
      const op = (span: Readonly<Record<string, unknown>>) => (span.attributes as Record<string, { value?: unknown }> | undefined)?.['sentry.op']?.value;
      await waitFor(() => server.spans.some((s) => op(s) === 'queue.process'), { timeoutMs: 5000 });
      const publish = server.spans.find((s) => op(s) === 'queue.publish' && String(s.name).includes(queue));
      const consume = server.spans.find((s) => op(s) === 'queue.process' && String(s.name).includes(queue));
      assert.ok(publish && consume, JSON.stringify(server.spans.map((s) => s.name)));
      assert.equal(consume.trace_id, publish.trace_id);
      assert.equal(consume.parent_span_id, publish.span_id);
    } finally {
      if (child.exitInfo === undefined) await child.kill();
      await names.cleanup();
    }
  });
});
