import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { HookTimeoutError, StartupError, type ErrorContext, type HttpAddress, type RequestRecord } from '../src/index.js';
import { request } from './fixtures/harness.js';
import { firstPlugin, hooksPlugin, type HooksPlugin } from './fixtures/hooks-plugin.js';
import { probe, Recorder, testApp } from './support/probe-plugin.js';

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

describe('ctx.app: the app as a plugin sees it', () => {
  it('names the app, its version, environment and probe path, and follows its state and signal', async () => {
    const { app } = testApp({
      version: '1.2.3',
      plugins: [hooksPlugin('tracker')],
      env: { NODE_ENV: 'production', TEST_APP_HEALTH_PATH: '/probes/', TEST_APP_TRACKER_EMBEDDED: 'true' },
    });
    await app.start();
    const host = app.plugin('tracker' as never as 'tracker') as unknown as HooksPlugin;
    const { app: ctxApp } = host.ctx;
    assert.equal(ctxApp.name, 'test-app');
    assert.equal(ctxApp.version, '1.2.3');
    assert.equal(ctxApp.production, true);
    assert.equal(ctxApp.environment, 'production');
    assert.equal(ctxApp.healthPath, '/probes');
    assert.equal(ctxApp.state, 'ready');
    assert.equal(ctxApp.signal.aborted, false);
    await app.stop();
    assert.equal(ctxApp.signal.aborted, true);
    assert.equal(ctxApp.state, 'stopped');
  });

  it('is development outside production, unless {APP}_ENV names another environment', async () => {
    const dev = testApp({ plugins: [hooksPlugin('tracker')], env: {} });
    await dev.app.start();
    const ctx = (dev.app.plugin('tracker' as never) as HooksPlugin).ctx;
    assert.equal(ctx.app.production, false);
    assert.equal(ctx.app.environment, 'development');
    assert.equal(ctx.app.version, undefined);
    await dev.app.stop();
  });

  it('delivers state changes and lifecycle events until unsubscribed', async () => {
    const { app } = testApp({ plugins: [hooksPlugin('tracker'), probe('db', { behaviour: {}, recorder: new Recorder() })] });
    const states: string[] = [];
    const events: string[] = [];
    app.on('state', () => undefined);
    // Subscribing happens in create(), during start(): capture through the plugin.
    const started = app.start();
    await started;
    const ctx = (app.plugin('tracker' as never) as HooksPlugin).ctx;
    const offState = ctx.app.onStateChange((change) => states.push(`${change.from}->${change.to}`));
    const offEvents = ctx.app.onLifecycleEvent((event) => events.push(`${event.phase} ${event.component} ${event.outcome}`));
    const stopping = app.stop();
    offEvents();
    await stopping;
    offState();
    assert.deepEqual(states, ['ready->draining', 'draining->stopped']);
    assert.deepEqual(events, [], 'unsubscribed before any onStop began');
  });

  it('hides every sensitive value the app knows, its own and other plugins\'', async () => {
    const { app } = testApp({
      plugins: [hooksPlugin('tracker'), probe('db', { behaviour: {}, recorder: new Recorder() })],
      env: { TEST_APP_DB_PASSWORD: 's3cret-db', TEST_APP_TRACKER_TOKEN: 'tok-123' },
    });
    await app.start();
    const ctx = (app.plugin('tracker' as never) as HooksPlugin).ctx;
    const text = ctx.app.redact('db s3cret-db, token tok-123, url postgres://u:pw@h/db');
    assert.ok(!text.includes('s3cret-db') && !text.includes('tok-123') && !text.includes(':pw@'), text);
    await app.stop();
  });
});

describe("order: 'first'", () => {
  it('starts before every other component and stops after all of them, though declared last', async () => {
    const recorder = new Recorder();
    const order: string[] = [];
    const { app, events } = testApp({
      plugins: [probe('a', { behaviour: { preStartMs: 30 }, recorder }), probe('b', { behaviour: {}, recorder, dependsOn: ['a'] }), firstPlugin('tracker')],
    });
    await app.start();
    await app.stop();
    for (const e of events) if (e.outcome === 'succeeded') order.push(`${e.phase} ${e.component}`);
    const preStarts = order.filter((o) => o.startsWith('preStart'));
    const stops = order.filter((o) => o.startsWith('onStop'));
    assert.equal(preStarts[0], 'preStart tracker');
    const firstOtherBegin = events.find((e) => e.component !== 'tracker' && e.outcome === 'begin');
    const trackerDone = events.find((e) => e.component === 'tracker' && e.phase === 'preStart' && e.outcome === 'succeeded');
    assert.ok(trackerDone && firstOtherBegin && trackerDone.at <= firstOtherBegin.at, 'nothing began before the first plugin was up');
    assert.equal(stops.at(-1), 'onStop tracker');
  });
});

describe('shutdown steps from plugins', () => {
  it('first steps run concurrently at the start of shutdown, before the shutdown delay ends and before the server stops', async () => {
    const { app } = testApp({ plugins: [hooksPlugin('tracker')], env: { TEST_APP_SHUTDOWN_DELAY: '300' } });
    await app.start();
    const server = http.createServer((_req, res) => res.end('ok'));
    app.attachHttpServer(server);
    const url = await listen(server);
    const ctx = (app.plugin('tracker' as never) as HooksPlugin).ctx;
    const log: string[] = [];
    let releaseA!: () => void;
    const aStarted = new Promise<void>((resolve) => {
      ctx.app.addShutdownStep(async () => {
        log.push('a begins');
        resolve();
        await new Promise<void>((r) => (releaseA = r));
        log.push('a ends');
      }, { first: true });
    });
    ctx.app.addShutdownStep(async () => {
      log.push('b begins');
      await aStarted;
      log.push('b sees a running');
      releaseA();
    }, { first: true });
    ctx.app.addShutdownStep(() => void log.push('late step'));
    const close = server.close.bind(server);
    server.close = (callback?: (error?: Error) => void) => {
      log.push('server closed'); // the listener stops accepting
      return close(callback);
    };
    await app.stop();
    assert.deepEqual(log.slice(0, 2).sort(), ['a begins', 'b begins'], 'both began before either ended');
    assert.ok(log.indexOf('b sees a running') < log.indexOf('a ends'));
    assert.ok(log.indexOf('a ends') < log.indexOf('server closed'), 'first steps finished before the listener closed');
    assert.ok(log.indexOf('server closed') < log.indexOf('late step'), 'a plain step runs after the servers drained');
    assert.equal((await request(`${url}/`).catch(() => undefined))?.status, undefined, 'the server is closed');
  });

  it('a hung first step is abandoned at its timeout (its signal aborts) and shutdown goes on', async () => {
    const { app, logs } = testApp({ plugins: [hooksPlugin('tracker')] });
    await app.start();
    const ctx = (app.plugin('tracker' as never) as HooksPlugin).ctx;
    let aborted = false;
    ctx.app.addShutdownStep((signal) => new Promise<void>(() => signal.addEventListener('abort', () => (aborted = true))), { first: true, timeoutMs: 100 });
    const report = await app.stop();
    assert.equal(aborted, true);
    assert.equal(report.clean, true);
    assert.equal(app.state, 'stopped');
    assert.ok(logs.lines.some((l) => l['msg'] === 'shutdown step failed'), logs.text());
  });
});

describe('HTTP address and requests', () => {
  it('reports the real port of an attached server once it listens, to late subscribers too', async () => {
    const { app } = testApp({ plugins: [hooksPlugin('tracker')] });
    await app.start();
    const ctx = (app.plugin('tracker' as never) as HooksPlugin).ctx;
    const seen: HttpAddress[] = [];
    ctx.app.onListening((address) => seen.push(address));
    assert.equal(ctx.app.httpAddress(), undefined);
    const server = http.createServer((_req, res) => res.end('ok'));
    app.attachHttpServer(server);
    await listen(server);
    const port = (server.address() as AddressInfo).port;
    assert.deepEqual(ctx.app.httpAddress(), { host: '127.0.0.1', port });
    assert.deepEqual(seen, [{ host: '127.0.0.1', port }]);
    const late: HttpAddress[] = [];
    ctx.app.onListening((address) => late.push(address));
    assert.deepEqual(late, [{ host: '127.0.0.1', port }]);
    await app.stop();
  });

  it('records every request of a node server, and reports its 5xx answers as errors', async () => {
    const { app } = testApp({ plugins: [hooksPlugin('tracker')] });
    await app.start();
    const ctx = (app.plugin('tracker' as never) as HooksPlugin).ctx;
    const records: RequestRecord[] = [];
    const errors: ErrorContext[] = [];
    ctx.app.onRequest((record) => records.push(record));
    ctx.app.onError((_error, context) => errors.push(context));
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/boom' ? 503 : 200;
      res.end();
    });
    app.attachHttpServer(server);
    const url = await listen(server);
    await request(`${url}/orders/42`);
    await request(`${url}/boom`, { method: 'POST' });
    await request(`${url}/health/live`);
    assert.deepEqual(records.map((r) => [r.method, r.route, r.statusCode]), [['GET', undefined, 200], ['POST', undefined, 503]], 'probes are not recorded');
    assert.ok(records.every((r) => r.durationMs >= 0));
    assert.deepEqual(errors, [{ source: 'http', level: 'error', details: { method: 'POST', status: 503 } }]);
    await app.stop();
  });

  it('records a fastify server\'s route templates and hands over the error behind a 500', async () => {
    const { app } = testApp({ plugins: [hooksPlugin('tracker')] });
    await app.start();
    const ctx = (app.plugin('tracker' as never) as HooksPlugin).ctx;
    const records: RequestRecord[] = [];
    const reported: unknown[] = [];
    ctx.app.onRequest((record) => records.push(record));
    ctx.app.onError((error) => reported.push(error));
    const fastify = Fastify();
    fastify.get('/orders/:id', async () => ({ ok: true }));
    fastify.get('/fail', async () => {
      throw new Error('database on fire');
    });
    app.attachHttpServer(fastify);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
    await request(`${url}/orders/42`);
    await request(`${url}/fail`);
    assert.deepEqual(records.map((r) => [r.method, r.route, r.statusCode]), [['GET', '/orders/:id', 200], ['GET', '/fail', 500]]);
    assert.equal((records[1]?.error as Error).message, 'database on fire');
    assert.equal((reported[0] as Error).message, 'database on fire');
    await app.stop();
  });
});

describe('the error channel', () => {
  it('passes a component\'s reports to every listener, and a throwing listener harms no one', async () => {
    const { app } = testApp({ plugins: [hooksPlugin('tracker')] });
    await app.start();
    const ctx = (app.plugin('tracker' as never) as HooksPlugin).ctx;
    const got: [unknown, ErrorContext][] = [];
    ctx.app.onError(() => {
      throw new Error('tracker bug');
    });
    const off = ctx.app.onError((error, context) => got.push([error, context]));
    const failure = new Error('handler threw');
    ctx.app.reportError(failure, { source: 'plugin', component: 'tracker', details: { queue: 'orders' } });
    off();
    ctx.app.reportError(new Error('unheard'), { source: 'plugin' });
    assert.deepEqual(got, [[failure, { source: 'plugin', component: 'tracker', details: { queue: 'orders' } }]]);
    await app.stop();
  });

  it('reports a failed startup as a fatal StartupError whose cause is the real error', async () => {
    const recorder = new Recorder();
    const { app } = testApp({
      plugins: [hooksPlugin('tracker'), probe('db', { behaviour: { failPreStart: Infinity, failPermanently: true }, recorder })],
    });
    const reports: [unknown, ErrorContext][] = [];
    // The plugin subscribes while it is created, as an error tracker would.
    app.on('lifecycle', () => undefined);
    const trackerReady = new Promise<void>((resolve) => {
      app.on('lifecycle', (event) => {
        if (event.component === 'tracker' && event.outcome === 'begin') {
          (app.plugin('tracker' as never) as HooksPlugin).ctx.app.onError((error, context) => reports.push([error, context]));
          resolve();
        }
      });
    });
    await assert.rejects(app.start(), StartupError);
    await trackerReady;
    const startup = reports.find(([, c]) => c.source === 'startup');
    assert.ok(startup, JSON.stringify(reports.map(([, c]) => c)));
    const [error, context] = startup;
    assert.ok(error instanceof StartupError);
    assert.match((error.cause as Error).message, /password authentication failed/);
    assert.deepEqual(context, { source: 'startup', level: 'fatal', component: 'db', phase: 'preStart', attempt: 1 });
  });

  it('reports hook deadline overruns and failed onStops', async () => {
    const recorder = new Recorder();
    const { app } = testApp({
      plugins: [
        firstPlugin('tracker'),
        probe('slow', { behaviour: { hangOnStop: true }, recorder, stopTimeout: 100 }),
        probe('broken', { behaviour: { failOnStop: true }, recorder }),
      ],
    });
    await app.start();
    const reports: [unknown, ErrorContext][] = [];
    (app.plugin('tracker' as never) as HooksPlugin).ctx.app.onError((error, context) => reports.push([error, context]));
    const report = await app.stop();
    assert.equal(report.clean, false);
    const byComponent = Object.fromEntries(reports.map(([error, context]) => [context.component, { error, context }]));
    assert.ok(byComponent['slow']?.error instanceof HookTimeoutError);
    assert.deepEqual(byComponent['slow']?.context, { source: 'stop', level: 'error', component: 'slow', pluginType: 'probe', phase: 'onStop', attempt: 1 });
    assert.equal((byComponent['broken']?.error as Error).message, 'close failed');
    assert.equal(byComponent['broken']?.context.source, 'stop');
  });
});

describe('embedded fallback', () => {
  it('ctx.embedded is true when the server setting is empty, false when it is set', async () => {
    const { app } = testApp({
      plugins: [hooksPlugin('local'), hooksPlugin('remote')],
      env: { TEST_APP_REMOTE_URL: 'http://cache.internal:1234' },
    });
    await app.start();
    assert.equal((app.plugin('local' as never) as HooksPlugin).ctx.embedded, true);
    assert.equal((app.plugin('remote' as never) as HooksPlugin).ctx.embedded, false);
    await app.stop();
  });
});
