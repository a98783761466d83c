import { strict as assert } from 'node:assert';
import { LogCapture } from '@plinth/testkit';
import { describe, it } from 'node:test';
import { Counter } from 'prom-client';
import { createApp, definePlugin, type HookContext } from '../src/index.js';
import { controllable } from './fixtures/controllable-plugin.js';
import { request, startServiceApp } from './fixtures/harness.js';
import { parsePrometheusText, type MetricFamily } from './fixtures/prometheus-text.js';

function sampleValue(family: MetricFamily | undefined, labels: Record<string, string>, name = family?.name): number | undefined {
  return family?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('/metrics', () => {
  it('parses as Prometheus text and has the lifecycle, health and process metrics', async () => {
    const app = await startServiceApp({ FIXTURE_APP_CACHE_HEALTH: 'down' });
    try {
      for (const base of [app.health, app.api]) {
        const reply = await request(`${base}/metrics`);
        assert.equal(reply.status, 200);
        assert.match(String(reply.headers['content-type']), /^text\/plain; version=0\.0\.4/);
        const families = parsePrometheusText(reply.text);
        const get = (name: string) => families.get(name);

        assert.equal(get('plinth_app_state')?.type, 'gauge');
        assert.equal(sampleValue(get('plinth_app_state'), { state: 'ready' }), 1);
        assert.equal(sampleValue(get('plinth_app_state'), { state: 'starting' }), 0);
        assert.equal(sampleValue(get('plinth_app_ready'), {}), 1, 'a non-critical check down still counts as ready');
        assert.ok((sampleValue(get('plinth_app_startup_duration_seconds'), {}) ?? 0) > 0);

        assert.equal(sampleValue(get('plinth_health_check_up'), { check: 'primary_db', critical: 'true' }), 1);
        assert.equal(sampleValue(get('plinth_health_check_up'), { check: 'cache', critical: 'false' }), 0);
        const latency = get('plinth_health_check_duration_seconds');
        assert.equal(latency?.type, 'histogram');
        assert.ok((sampleValue(latency, { check: 'cache' }, 'plinth_health_check_duration_seconds_count') ?? 0) >= 1);

        const phases = get('plinth_component_phase_duration_seconds');
        for (const component of ['primary_db', 'cache', 'HttpApi']) {
          for (const phase of ['preStart', 'onStart']) {
            const seconds = sampleValue(phases, { component, phase });
            assert.ok(seconds !== undefined && seconds >= 0, `${component} ${phase} duration`);
          }
        }
        assert.equal(sampleValue(get('plinth_component_phase_total'), { component: 'primary_db', phase: 'preStart', outcome: 'succeeded' }), 1);
        assert.equal(sampleValue(get('plinth_plugin_available'), { plugin: 'controllable', prefix: 'cache' }), 1);

        for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_total_bytes']) {
          assert.ok(get(name.replace(/_total$/, '')) ?? get(name), `default process metric ${name}`);
        }
      }
      const head = await request(`${app.health}/metrics`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.text, '');
    } finally {
      app.child.signal('SIGTERM');
      await app.child.exited;
    }
  });

  it('keeps one registry per app, so several apps live in one process, and records phase durations', async () => {
    const slow = definePlugin({
      type: 'slow',
      critical: true,
      settings: {},
      create: () => ({
        preStart: ({ signal }: HookContext) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, 60);
            signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
          }),
      }),
    });
    const a = createApp({ name: 'app-a', plugins: [slow('db')], env: {}, logDestination: new LogCapture() });
    const b = createApp({ name: 'app-b', env: {}, logDestination: new LogCapture() });
    try {
      assert.notEqual(a.metrics, b.metrics);
      new Counter({ name: 'orders_total', help: 'Orders taken', registers: [a.metrics] }).inc(3);
      await a.start();
      const textA = parsePrometheusText(await a.metrics.metrics());
      const textB = parsePrometheusText(await b.metrics.metrics());
      assert.equal(sampleValue(textA.get('orders_total'), {}), 3, 'user metrics on the app registry are served with the rest');
      assert.equal(textB.get('orders_total'), undefined);
      assert.equal(sampleValue(textA.get('plinth_app_state'), { state: 'ready' }), 1);
      assert.equal(sampleValue(textB.get('plinth_app_state'), { state: 'created' }), 1);
      const preStart = sampleValue(textA.get('plinth_component_phase_duration_seconds'), { component: 'db', phase: 'preStart' });
      assert.ok(preStart !== undefined && preStart >= 0.055, `preStart took ${preStart} s`);
      await a.stop();
      const stopped = parsePrometheusText(await a.metrics.metrics());
      assert.equal(sampleValue(stopped.get('plinth_app_state'), { state: 'stopped' }), 1);
      assert.ok(sampleValue(stopped.get('plinth_component_phase_duration_seconds'), { component: 'db', phase: 'onStop' }) !== undefined);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('serves, at the first scrape, the check latencies and reloads counted before the registry existed', async () => {
    const app = createApp({
      name: 'late-registry',
      plugins: [controllable('db')],
      // Cached for the whole test: the scrape must not run the checks again.
      env: { LATE_REGISTRY_HEALTH_CACHE_TTL: '60000' },
      logDestination: new LogCapture(),
    });
    try {
      await app.start();
      await app.health.report();
      await app.reload();
      const families = parsePrometheusText(await app.metrics.metrics());
      assert.equal(sampleValue(families.get('plinth_health_check_duration_seconds'), { check: 'db' }, 'plinth_health_check_duration_seconds_count'), 1);
      assert.equal(sampleValue(families.get('plinth_config_reloads_total'), { outcome: 'unchanged' }), 1);
    } finally {
      await app.stop();
    }
  });
});
