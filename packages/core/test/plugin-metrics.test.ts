import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LogCapture } from '@plinth/testkit';
import Fastify from 'fastify';
import { createApp, definePlugin, type LifecycleEvent, type PluginContext } from '../src/index.js';
import { BreakerOpenError, OperationTimeoutError } from '../src/errors.js';
import type { Breaker } from '../src/resilience/index.js';
import { parsePrometheusText } from './fixtures/prometheus-text.js';

type Ctx = PluginContext<Record<string, never>, object>;

/** A plugin that hands its context out, so the test drives its metrics and breakers. */
function samplePlugin(contexts: Map<string, Ctx>) {
  return definePlugin({
    type: 'sample',
    critical: false,
    settings: {},
    create: (ctx: Ctx) => {
      contexts.set(ctx.prefix, ctx);
      return {};
    },
  });
}

async function scrape(app: { metrics: { metrics(): Promise<string> } }) {
  const families = parsePrometheusText(await app.metrics.metrics());
  return (name: string, labels: Record<string, string> = {}): number | undefined =>
    [...families.values()]
      .flatMap((f) => f.samples)
      .find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('plugin metrics (ctx.metrics)', () => {
  it('labels every sample with the plugin type and the instance prefix, and two instances share one family', async () => {
    const contexts = new Map<string, Ctx>();
    const sample = samplePlugin(contexts);
    const app = createApp({ name: 'metrics-app', plugins: [sample('first'), sample('second')], env: {}, logDestination: new LogCapture() });
    await app.start();
    try {
      for (const [prefix, ctx] of contexts) {
        const calls = ctx.metrics.counter<'outcome'>({ name: 'plinth_sample_calls_total', help: 'Calls', labelNames: ['outcome'] });
        const latency = ctx.metrics.histogram({ name: 'plinth_sample_call_duration_seconds', help: 'Latency' });
        calls.inc({ outcome: 'ok' }, prefix === 'first' ? 1 : 2);
        latency.observe({}, 0.003);
      }
      const value = await scrape(app);
      assert.equal(value('plinth_sample_calls_total', { plugin: 'sample', prefix: 'first', outcome: 'ok' }), 1);
      assert.equal(value('plinth_sample_calls_total', { plugin: 'sample', prefix: 'second', outcome: 'ok' }), 2);
      assert.equal(value('plinth_sample_call_duration_seconds_count', { plugin: 'sample', prefix: 'second' }), 1);
    } finally {
      await app.stop();
    }
  });

  it('waits at scrape for a gauge whose collect is asynchronous, beside a synchronous one in the same family', async () => {
    const contexts = new Map<string, Ctx>();
    const sample = samplePlugin(contexts);
    const app = createApp({ name: 'metrics-app', plugins: [sample('first'), sample('second')], env: {}, logDestination: new LogCapture() });
    await app.start();
    try {
      let reads = 0;
      contexts.get('first')?.metrics.gauge({
        name: 'plinth_sample_backlog',
        help: 'Rows read at scrape time',
        async collect(gauge) {
          await sleep(20);
          gauge.set({}, ++reads * 10);
        },
      });
      contexts.get('second')?.metrics.gauge({ name: 'plinth_sample_backlog', help: 'Rows read at scrape time', collect: (gauge) => gauge.set({}, 7) });
      let value = await scrape(app);
      assert.equal(value('plinth_sample_backlog', { prefix: 'first' }), 10);
      assert.equal(value('plinth_sample_backlog', { prefix: 'second' }), 7);
      value = await scrape(app);
      assert.equal(value('plinth_sample_backlog', { prefix: 'first' }), 20, 'read again at each scrape');
    } finally {
      await app.stop();
    }
  });

  it('does nothing with {APP}_METRICS=false', async () => {
    const contexts = new Map<string, Ctx>();
    const app = createApp({ name: 'metrics-app', plugins: [samplePlugin(contexts)('first')], env: { METRICS_APP_METRICS: 'false' }, logDestination: new LogCapture() });
    await app.start();
    try {
      contexts.get('first')?.metrics.counter({ name: 'plinth_sample_calls_total', help: 'Calls' }).inc();
      const value = await scrape(app);
      assert.equal(value('plinth_sample_calls_total', { prefix: 'first' }), undefined);
    } finally {
      await app.stop();
    }
  });
});

describe('plugin availability metrics', () => {
  it('count the time each plugin was unavailable and its recoveries, the current outage included', async () => {
    const contexts = new Map<string, Ctx>();
    const app = createApp({ name: 'metrics-app', plugins: [samplePlugin(contexts)('db')], env: {}, logDestination: new LogCapture() });
    await app.start();
    try {
      const { availability } = contexts.get('db') as Ctx;
      const db = { plugin: 'sample', prefix: 'db' };
      let value = await scrape(app);
      assert.equal(value('plinth_plugin_available', db), 1);
      assert.equal(value('plinth_plugin_unavailable_seconds_total', db), 0);
      availability.markUnavailable('connection lost');
      await sleep(120);
      value = await scrape(app);
      assert.equal(value('plinth_plugin_available', db), 0);
      assert.ok((value('plinth_plugin_unavailable_seconds_total', db) ?? 0) >= 0.1, 'the outage in progress counts');
      assert.equal(value('plinth_plugin_recoveries_total', db), 0);
      availability.markAvailable();
      value = await scrape(app);
      const outage = value('plinth_plugin_unavailable_seconds_total', db) ?? 0;
      assert.equal(value('plinth_plugin_recoveries_total', db), 1);
      await sleep(50);
      assert.equal((await scrape(app))('plinth_plugin_unavailable_seconds_total', db), outage, 'no time counts once it is back');
    } finally {
      await app.stop();
    }
  });
});

describe('breakers (ctx.breaker)', () => {
  it('open after consecutive timeouts, refuse at once, show in health, metrics and lifecycle events, and close after a good trial call', async () => {
    const contexts = new Map<string, Ctx>();
    const app = createApp({ name: 'metrics-app', plugins: [samplePlugin(contexts)('cache')], env: {}, logDestination: new LogCapture() });
    const events: LifecycleEvent[] = [];
    await app.start();
    app.on('lifecycle', (event) => event.phase === 'breaker' && events.push(event));
    try {
      const breaker: Breaker = (contexts.get('cache') as Ctx).breaker('reads', { timeoutMs: 30, consecutiveFailures: 3, halfOpenAfterMs: 200 });
      let slow = true;
      const call = () => breaker.execute(async () => {
        if (slow) await sleep(100);
        return 'value';
      });
      for (let i = 0; i < 3; i++) assert.ok(OperationTimeoutError.is(await call().catch((e: unknown) => e)));
      assert.equal(breaker.state, 'open');
      const refusedAt = performance.now();
      assert.ok(BreakerOpenError.is(await call().catch((e: unknown) => e)));
      assert.ok(performance.now() - refusedAt < 25, 'an open breaker refuses without waiting');

      const health = await app.health.report();
      assert.equal(health.status, 'degraded');
      assert.equal(health.checks['cache.reads breaker']?.status, 'down');
      assert.equal(health.checks['cache.reads breaker']?.critical, false);
      let value = await scrape(app);
      assert.equal(value('plinth_breaker_state', { prefix: 'cache', breaker: 'reads', state: 'open' }), 1);
      assert.equal(value('plinth_breaker_opened_total', { prefix: 'cache', breaker: 'reads' }), 1);
      assert.equal(value('plinth_breaker_refused_total', { prefix: 'cache', breaker: 'reads' }), 1);
      assert.equal(value('plinth_breaker_timeouts_total', { prefix: 'cache', breaker: 'reads' }), 3);

      slow = false;
      await sleep(250);
      assert.equal(await call(), 'value', 'the half-open trial call goes through');
      assert.equal(breaker.state, 'closed');
      assert.equal((await app.health.report()).status, 'ok');
      value = await scrape(app);
      assert.equal(value('plinth_breaker_state', { prefix: 'cache', breaker: 'reads', state: 'closed' }), 1);
      assert.deepEqual(events.map((e) => [e.component, e.outcome]), [['cache', 'degraded'], ['cache', 'succeeded']]);
      assert.match(events[0]?.error ?? '', /reads breaker open: no answer within 30 ms/);
    } finally {
      await app.stop();
    }
  });

  it('open on an error ratio too', async () => {
    const contexts = new Map<string, Ctx>();
    const app = createApp({ name: 'metrics-app', plugins: [samplePlugin(contexts)('db')], env: {}, logDestination: new LogCapture() });
    await app.start();
    try {
      const breaker = (contexts.get('db') as Ctx).breaker('queries', {
        timeoutMs: 1000,
        consecutiveFailures: 100,
        errorRatio: { threshold: 0.5, windowMs: 1000, minimumRps: 1 },
      });
      let n = 0;
      const call = () => breaker.execute(async () => {
        n += 1;
        if (n % 3 !== 0) throw new Error('boom');
      });
      for (let i = 0; i < 30 && breaker.state === 'closed'; i++) await call().catch(() => undefined);
      assert.equal(breaker.state, 'open', 'two failures in three calls open it well before 100 in a row');
    } finally {
      await app.stop();
    }
  });
});

describe('HTTP metrics', () => {
  it('time requests by method, route template (never the raw path) and status class', async () => {
    const app = createApp({ name: 'metrics-app', env: {}, logDestination: new LogCapture() });
    await app.start();
    const fastify = Fastify();
    fastify.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    app.attachHttpServer(fastify);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = fastify.server.address() as { port: number };
      for (const path of ['/users/1', '/users/2', '/nowhere/3']) await fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.text());
      await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
      const value = await scrape(app);
      assert.equal(value('plinth_http_request_duration_seconds_count', { method: 'GET', route: '/users/:id', status_class: '2xx' }), 2);
      assert.equal(value('plinth_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_class: '4xx' }), 1);
      const text = await app.metrics.metrics();
      assert.doesNotMatch(text, /\/users\/1|\/nowhere|route="\/metrics"/);
      assert.equal(value('plinth_http_requests_in_flight'), 0);
    } finally {
      await app.stop();
      await fastify.close();
    }
  });
});
