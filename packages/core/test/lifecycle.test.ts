import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { Inject, InjectPlugin, PluginUnavailableError, Service, StartupAbortedError, StartupError, type OnStart, type OnStop, type PreStart } from '../src/index.js';
import { scripted, Recorder, testApp, type Behaviour, type ScriptedPlugin } from './support/scripted-plugin.js';

const behaviour = (b: Behaviour = {}) => ({ behaviour: b, recorder: new Recorder() });

describe('lifecycle order and concurrency', () => {
  it('overlaps independent preStarts, starts a dependent only after its dependency, and stops in exact reverse', async () => {
    const recorder = new Recorder();
    const opts = (ms: number, dependsOn?: string[]) => ({ behaviour: { preStartMs: ms }, recorder, ...(dependsOn ? { dependsOn } : {}) });
    const { app } = testApp({
      plugins: [scripted('a', opts(80)), scripted('b', opts(80)), scripted('c', opts(20, ['a'])), scripted('d', opts(10, ['c']))],
    });
    await app.start();
    const a = recorder.first('a', 'preStart')!;
    const b = recorder.first('b', 'preStart')!;
    const c = recorder.first('c', 'preStart')!;
    const d = recorder.first('d', 'preStart')!;
    assert.ok(b.start < a.end!, 'b began before a finished: independent preStarts overlap');
    assert.ok(a.start < b.end!, 'a began before b finished');
    assert.ok(c.start >= a.end!, 'c (depends on a) began after a succeeded');
    assert.ok(c.start < b.end!, 'c did not wait for b, which it does not depend on');
    assert.ok(d.start >= c.end!, 'd began after c');
    const lastPreStartEnd = Math.max(...recorder.of('preStart').map((call) => call.end!));
    assert.ok(recorder.of('onStart').every((call) => call.start >= lastPreStartEnd), 'every preStart finished before any onStart');
    assert.equal(app.state, 'ready');

    await app.stop();
    const stops = recorder.of('onStop');
    const stopOf = (id: string) => stops.find((s) => s.component === id)!;
    assert.ok(stopOf('c').end! <= stopOf('a').start, 'a stops only after its dependent c stopped');
    assert.ok(stopOf('d').end! <= stopOf('c').start, 'c stops only after d stopped');
    assert.ok(stopOf('b').start < stopOf('d').end! + 1, 'b, which nothing depends on, stops concurrently with the chain');
    assert.equal(app.state, 'stopped');
  });

  it('orders services after the plugins and services they inject, and stops them first', async () => {
    const recorder = new Recorder();
    const stopped: string[] = [];
    @Service()
    class Repository implements OnStop {
      constructor(@InjectPlugin('db') readonly db: ScriptedPlugin) {}
      onStop(): void {
        stopped.push('Repository');
      }
    }
    @Service()
    class Api implements PreStart, OnStop {
      startedAfterDb = false;
      constructor(@Inject(Repository) readonly repository: Repository) {}
      preStart(): void {
        this.startedAfterDb = recorder.first('db', 'preStart')?.outcome === 'ok';
      }
      onStop(): void {
        stopped.push('Api');
      }
    }
    const { app } = testApp({
      plugins: [scripted('db', { behaviour: { preStartMs: 30, onStopMs: 5 }, recorder })],
      services: [Api, Repository],
    });
    await app.start();
    const api = app.get<Api>(Api);
    assert.equal(api.startedAfterDb, true);
    assert.equal(api.repository.db, app.plugin('db'), 'the injected plugin is the singleton instance');
    assert.equal(app.get(Repository), api.repository, 'services are singletons');
    await app.stop();
    assert.deepEqual(stopped, ['Api', 'Repository']);
    assert.ok(recorder.first('db', 'onStop'), 'the plugin stopped after both services');
  });
});

describe('critical failures', () => {
  it('names the plugin that failed: a non-critical plugin cut off by that failure is not logged as degraded', async () => {
    const recorder = new Recorder();
    const { app, events, logs } = testApp({
      plugins: [
        scripted('orders_db', { behaviour: { preStartMs: 20, failPreStart: Infinity, failPermanently: true }, recorder }),
        scripted('analytics_db', { behaviour: { hangPreStart: true }, recorder, critical: false }),
      ],
    });
    await assert.rejects(app.start(), (error: unknown) => StartupError.is(error) && error.component === 'orders_db');
    assert.ok(!events.some((e) => e.component === 'analytics_db' && e.outcome === 'degraded'), 'analytics_db is not degraded');
    const analyticsLines = logs.lines.filter((l) => String(l['msg']).includes('analytics_db') && l['level'] as number >= 40);
    assert.deepEqual(analyticsLines, [], 'no warning names analytics_db');
    const failure = logs.lines.find((l) => l['msg'] === 'preStart orders_db failed');
    assert.ok(failure && String(failure['error']).includes('password authentication failed'), logs.text);
  });

  it('rolls back when the third of four critical plugins fails: the two started stop in reverse, the others never stop', async () => {
    const recorder = new Recorder();
    const opts = (b: Behaviour, dependsOn?: string[]) => ({ behaviour: b, recorder, ...(dependsOn ? { dependsOn } : {}), startTimeout: 300 });
    const { app, events } = testApp({
      plugins: [
        scripted('first', opts({ preStartMs: 5 })),
        scripted('second', opts({ preStartMs: 5 }, ['first'])),
        scripted('third', opts({ failPreStart: Infinity }, ['second'])),
        scripted('fourth', opts({ preStartMs: 5 }, ['third'])),
      ],
    });
    await assert.rejects(app.start(), (error: unknown) => {
      assert.ok(error instanceof StartupError);
      assert.match(error.message, /scripted plugin "third" \(localhost:5432\) preStart/);
      assert.match(error.message, /ECONNREFUSED localhost:5432/);
      assert.match(error.message, /\d+ attempts/);
      assert.equal(error.component, 'third');
      return true;
    });
    assert.equal(app.state, 'failed');
    assert.deepEqual(recorder.of('onStop').map((c) => c.component), ['second', 'first']);
    assert.ok(recorder.first('second', 'onStop')!.end! <= recorder.first('first', 'onStop')!.start);
    assert.equal(recorder.first('fourth', 'preStart'), undefined, 'fourth never began');
    assert.ok(events.some((e) => e.component === 'fourth' && e.outcome === 'skipped'));
    assert.ok(recorder.of('preStart').filter((c) => c.component === 'third').length >= 2, 'a critical preStart is retried');
    assert.equal(recorder.of('onStart').length, 0, 'no onStart after a failed preStart phase');
  });

  it('retries a critical preStart with backoff until it succeeds', async () => {
    const { app, events } = testApp({ plugins: [scripted('db', behaviour({ failPreStart: 2 }))] });
    await app.start();
    const attempts = events.filter((e) => e.component === 'db' && e.phase === 'preStart');
    assert.deepEqual(
      attempts.filter((e) => e.outcome !== 'begin').map((e) => `${e.outcome}#${e.attempt}`),
      ['retrying#1', 'retrying#2', 'succeeded#3'],
    );
    const begins = attempts.filter((e) => e.outcome === 'begin');
    const retries = attempts.filter((e) => e.outcome === 'retrying');
    assert.ok(begins[1]!.at > retries[0]!.at, 'the second attempt began after the first failed (a backoff, not a spin)');
    assert.equal(app.state, 'ready');
    await app.stop();
  });

  it('fails at the deadline while waiting out a backoff delay, and starts no attempt after it', async () => {
    const { app, events } = testApp({
      plugins: [scripted('db', { ...behaviour({ failPreStart: Infinity }), startTimeout: 200 })],
      retryBackoff: { initialDelayMs: 1000, maxDelayMs: 1000 },
    });
    const started = performance.now();
    await assert.rejects(app.start(), /did not succeed within its 200 ms deadline/);
    const timedOut = events.find((e) => e.component === 'db' && e.outcome === 'timedOut');
    assert.ok(timedOut, 'a timedOut event was emitted');
    assert.ok(timedOut.at - started < 500, `failed at the 200 ms deadline, not after the ≥500 ms backoff (took ${Math.round(timedOut.at - started)} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((app.plugin('db') as ScriptedPlugin).attempts, 1, 'the attempt due after the backoff never began');
  });

  it('fails at once, without retrying, when preStart throws NonRetryableError', async () => {
    const { app, events } = testApp({
      plugins: [scripted('db', { ...behaviour({ failPreStart: Infinity, failPermanently: true }), startTimeout: 5000 })],
    });
    await assert.rejects(app.start(), (error: unknown) => {
      assert.ok(error instanceof StartupError);
      assert.match(error.message, /scripted plugin "db" \(localhost:5432\) preStart failed \(1 attempt, \d+ ms\): password authentication failed/);
      assert.equal(error.attempts, 1);
      return true;
    });
    assert.equal((app.plugin('db') as ScriptedPlugin).attempts, 1);
    assert.ok(!events.some((e) => e.outcome === 'retrying'), 'no retry was announced');
    assert.equal(app.state, 'failed');
  });

  it('never puts a secret in a startup error', async () => {
    const { app } = testApp({
      plugins: [scripted('db', { ...behaviour({ failPreStart: Infinity }), startTimeout: 100 })],
      env: { TEST_APP_DB_PASSWORD: 's3cr3t-pass' },
    });
    await assert.rejects(app.start(), (error: Error) => {
      assert.doesNotMatch(error.message, /s3cr3t-pass/);
      assert.match(error.message, /<redacted>/);
      return true;
    });
  });

  it('names the plugin\'s target when the deadline cut the first attempt before any error', async () => {
    const { app } = testApp({
      plugins: [scripted('slow', { ...behaviour({ hangPreStart: true }), startTimeout: 100 })],
      env: { TEST_APP_SLOW_HOST: 'db.internal' },
    });
    await assert.rejects(app.start(), /scripted plugin "slow" \(db\.internal:5432\) preStart did not succeed within its 100 ms deadline/);
  });

  it('fails a preStart that hangs at its deadline, with the deadline in the message', async () => {
    const { app, events } = testApp({
      plugins: [scripted('slow', { ...behaviour({ hangPreStart: true }), startTimeout: 150 })],
    });
    const started = performance.now();
    await assert.rejects(app.start(), /did not succeed within its 150 ms deadline/);
    const failed = events.find((e) => e.component === 'slow' && e.outcome === 'timedOut');
    assert.ok(failed, 'a timedOut event was emitted');
    assert.ok(failed.at - started >= 150, 'not before the deadline');
    assert.equal(app.state, 'failed');
  });

  it('abandons an onStop that hangs at its deadline while the others still stop', async () => {
    const recorder = new Recorder();
    const { app, events } = testApp({
      plugins: [
        scripted('stuck', { behaviour: { hangOnStop: true }, recorder, stopTimeout: 100 }),
        scripted('fine', { behaviour: { onStopMs: 10 }, recorder }),
        scripted('dependent', { behaviour: {}, recorder, dependsOn: ['stuck'] }),
      ],
    });
    await app.start();
    const report = await app.stop();
    assert.equal(report.clean, false);
    assert.deepEqual(report.failures.map((f) => f.component), ['stuck']);
    assert.match(report.failures[0]!.error, /100 ms deadline/);
    assert.equal(recorder.first('fine', 'onStop')?.outcome, 'ok');
    assert.ok(events.some((e) => e.component === 'stuck' && e.phase === 'onStop' && e.outcome === 'timedOut'));
    assert.equal(app.state, 'stopped');
  });

  it('gives each rollback onStop a fresh deadline', async () => {
    const recorder = new Recorder();
    const { app } = testApp({
      plugins: [
        scripted('db', { behaviour: { onStopMs: 120 }, recorder, stopTimeout: 200 }),
        scripted('broken', { behaviour: { preStartMs: 150, failPreStart: Infinity }, recorder, startTimeout: 180, dependsOn: ['db'] }),
      ],
    });
    await assert.rejects(app.start(), StartupError);
    assert.equal(recorder.first('db', 'onStop')?.outcome, 'ok', 'onStop ran to completion after the failed preStart used its own deadline');
  });
});

describe('non-critical plugins', () => {
  it('starts degraded, fails calls fast during the outage, and recovers to ready in the background', async () => {
    const cache = behaviour({ failPreStart: 3 });
    const { app, events } = testApp({ plugins: [scripted('db', behaviour()), scripted('cache', { ...cache, critical: false })] });
    const states: string[] = [];
    app.on('state', (change) => states.push(change.to));
    await app.start();
    assert.equal(app.state, 'degraded');
    const plugin = app.plugin('cache') as ScriptedPlugin;
    const before = performance.now();
    assert.throws(() => plugin.query(), (error: unknown) => error instanceof PluginUnavailableError && /cache/.test(error.message));
    assert.ok(performance.now() - before < 50, 'the call failed fast');
    assert.equal((app.plugin('db') as ScriptedPlugin).query(), 'db:ok');

    await waitForState(app, 'ready');
    assert.equal(plugin.query(), 'cache:ok');
    assert.deepEqual(states, ['starting', 'degraded', 'ready']);
    assert.ok(events.some((e) => e.component === 'cache' && e.phase === 'recover' && e.outcome === 'succeeded'));
    assert.ok(cache.recorder.first('cache', 'onStart'), 'onStart ran once the plugin recovered');
    await app.stop();
    assert.ok(cache.recorder.first('cache', 'onStop'), 'a recovered plugin is stopped');
  });

  it('can be made critical through env', async () => {
    const { app } = testApp({
      plugins: [scripted('cache', { ...behaviour({ failPreStart: Infinity }), critical: false, startTimeout: 100 })],
      env: { TEST_APP_CACHE_CRITICAL: 'true' },
    });
    await assert.rejects(app.start(), StartupError);
    assert.equal(app.state, 'failed');
  });

  it('stops background recovery at shutdown and does not stop what never started', async () => {
    const cache = behaviour({ failPreStart: Infinity });
    const { app } = testApp({ plugins: [scripted('cache', { ...cache, critical: false })] });
    await app.start();
    const report = await app.stop();
    assert.equal(report.clean, true);
    assert.equal(cache.recorder.first('cache', 'onStop'), undefined);
    const attempts = (app.plugin('cache') as ScriptedPlugin).attempts;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal((app.plugin('cache') as ScriptedPlugin).attempts, attempts, 'no reconnect attempts after stop');
  });
  it('does not hold up shutdown while recovery waits out a long backoff delay', async () => {
    const { app, events } = testApp({
      plugins: [scripted('cache', { ...behaviour({ failPreStart: Infinity }), critical: false })],
      recoveryBackoff: { initialDelayMs: 400, maxDelayMs: 10_000 },
    });
    await app.start();
    await waitFor(() => events.some((e) => e.component === 'cache' && e.phase === 'recover' && e.outcome === 'retrying'));
    const stopping = performance.now();
    const report = await app.stop();
    const took = performance.now() - stopping;
    assert.equal(report.clean, true);
    assert.ok(took < 150, `stop did not wait for the ≥400 ms recovery backoff (took ${Math.round(took)} ms)`);
  });
});

describe('stop during startup', () => {
  it('aborts startup and rolls back what had started', async () => {
    const recorder = new Recorder();
    const { app, events } = testApp({
      plugins: [
        scripted('fast', { behaviour: { preStartMs: 5 }, recorder }),
        scripted('slow', { behaviour: { preStartMs: 5_000 }, recorder }),
      ],
    });
    const starting = app.start();
    await waitFor(() => recorder.first('fast', 'preStart')?.outcome === 'ok');
    const report = await app.stop('SIGTERM');
    await assert.rejects(starting, StartupAbortedError);
    assert.equal(report.clean, true);
    assert.equal(recorder.first('fast', 'onStop')?.outcome, 'ok');
    assert.equal(recorder.first('slow', 'preStart')?.outcome, 'aborted', 'the in-flight preStart saw its signal abort');
    assert.equal(recorder.first('slow', 'onStop'), undefined);
    assert.ok(events.some((e) => e.component === 'slow' && e.outcome === 'skipped'));
    assert.equal(app.state, 'stopped');
  });

  it('joins the running shutdown when an app.signal listener calls stop() (no second shutdown)', async () => {
    const recorder = new Recorder();
    const { app } = testApp({ plugins: [scripted('db', { behaviour: { onStopMs: 10 }, recorder })] });
    await app.start();
    let fromListener: Promise<unknown> | undefined;
    app.signal.addEventListener('abort', () => (fromListener = app.stop('from listener')));
    const first = app.stop();
    await first;
    assert.equal(fromListener, first, 'the listener got the same shutdown');
    assert.equal(recorder.of('onStop').length, 1, 'onStop ran once');
  });

  it('is idempotent: every caller awaits the same shutdown', async () => {
    const { app } = testApp({ plugins: [scripted('db', behaviour({ onStopMs: 30 }))] });
    await app.start();
    const [a, b] = [app.stop(), app.stop()];
    assert.equal(a, b);
    await a;
  });
});

describe('lifecycle events', () => {
  it('logs one startup summary line per component with its time in each phase', async () => {
    const { app, logs } = testApp({ plugins: [scripted('db', behaviour({ preStartMs: 20 }))] });
    await app.start();
    const summary = logs.lines.filter((l) => l['msg'] === 'component started');
    assert.equal(summary.length, 1);
    assert.equal(summary[0]!['component'], 'db');
    // setTimeout(20) can measure as 19.x ms on performance.now(): timers round to whole ms.
    assert.ok((summary[0]!['preStartMs'] as number) >= 19);
    assert.equal(typeof summary[0]!['onStartMs'], 'number');
    await app.stop();
  });

  it('gives a service a summary line only when it ran a start hook; the starting line lists every component', async () => {
    @Service()
    class Plain {}
    @Service()
    class Hooked implements OnStart {
      onStart(): void {}
    }
    const { app, logs } = testApp({ services: [Plain, Hooked] });
    await app.start();
    const summary = logs.lines.filter((l) => l['msg'] === 'component started').map((l) => l['component']);
    assert.deepEqual(summary, ['Hooked']);
    const starting = logs.lines.find((l) => Array.isArray(l['components']));
    assert.deepEqual([...(starting?.['components'] as string[])].sort(), ['Hooked', 'Plain']);
    await app.stop();
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function waitForState(app: { state: string }, state: string): Promise<void> {
  return waitFor(() => app.state === state);
}
