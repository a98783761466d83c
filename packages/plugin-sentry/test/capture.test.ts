import assert from 'node:assert/strict';
import http from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { APP, Inject, InjectPlugin, Service, type App, type OnStart } from '@plinth/core';
import { rabbitmq, type RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import { redis } from '@plinth/plugin-redis';
import {
  createScratchRedis,
  requireService,
  scratchAmqpNames,
  serviceAddress,
  startSentryEnvelopeServer,
  startTcpProxy,
  waitFor,
  type SentryEnvelopeServer,
} from '@plinth/testkit';
import { sentry, type SentryPlugin } from '../src/index.js';
import { faulty } from './fixtures/faulty-plugin.js';
import { exceptionValue, stopApps, tagsOf, trackedApp, trackingEnv } from './helpers.js';

let server: SentryEnvelopeServer;
before(async () => {
  server = await startSentryEnvelopeServer();
});
after(() => server.close());
afterEach(stopApps);

const on = (extra: Record<string, string> = {}) => ({ [trackingEnv('DSN')]: server.dsn(), ...extra });
const bySource = (source: string) => (event: Readonly<Record<string, unknown>>) => tagsOf(event)['plinth.source'] === source;

describe('what reaches Sentry without user code', () => {
  it('a failed startup: a fatal event with the plugin, phase, attempt, and the app name, environment and release', async () => {
    const { app } = trackedApp({
      plugins: [sentry('error_tracking'), faulty('primary_db')],
      env: on({ TRACKED_APP_PRIMARY_DB_FAIL_START: 'true' }),
      version: '1.4.2',
    });
    await assert.rejects(app.start());
    const event = await server.waitForEvent(bySource('startup'));
    const tags = tagsOf(event);
    assert.equal(tags['plugin.type'], 'faulty');
    assert.equal(tags['plugin.prefix'], 'primary_db');
    assert.equal(tags.phase, 'preStart');
    assert.equal(tags.attempt, 1);
    assert.equal(tags.app, 'tracked-app');
    assert.equal(event.level, 'fatal');
    assert.equal(event.environment, 'development');
    assert.equal(event.release, '1.4.2');
    assert.match(JSON.stringify(event.exception), /ECONNREFUSED 10\.0\.0\.7:5432/);
  });

  it('a failed onStop and an onStop past its deadline: one event each, tagged with the plugin and phase', async () => {
    const { app } = trackedApp({
      plugins: [sentry('error_tracking'), faulty('write_buffer'), faulty('slow_store', { stopTimeout: 100 })],
      env: on({ TRACKED_APP_WRITE_BUFFER_FAIL_STOP: 'true', TRACKED_APP_SLOW_STORE_HANG_STOP: 'true' }),
    });
    await app.start();
    await app.stop();
    const failed = await server.waitForEvent((e) => bySource('stop')(e) && tagsOf(e)['plugin.prefix'] === 'write_buffer');
    assert.equal(tagsOf(failed).phase, 'onStop');
    assert.equal(tagsOf(failed)['plugin.type'], 'faulty');
    assert.match(exceptionValue(failed) ?? '', /flush of the write buffer failed/);
    const late = await server.waitForEvent((e) => tagsOf(e)['plugin.prefix'] === 'slow_store');
    assert.equal(tagsOf(late).phase, 'onStop');
    assert.match(JSON.stringify(late.exception), /100 ?ms|deadline|timed out/i);
  });

  it('a plugin turning unavailable: one warning event for the transition however many retries, and the recovery as a breadcrumb', async () => {
    await requireService('redis');
    const scratch = await createScratchRedis();
    const { host, port } = serviceAddress('redis');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    try {
      proxy.cut();
      const { app } = trackedApp({
        plugins: [sentry('error_tracking'), redis('session_cache', { settings: { connectTimeout: 200 } })],
        env: on({ TRACKED_APP_SESSION_CACHE_URL: `redis://127.0.0.1:${proxy.port}/${scratch.db}` }),
      });
      const recoverAttempts: number[] = [];
      app.on('lifecycle', (event) => {
        if (event.phase === 'recover' && event.outcome === 'retrying') recoverAttempts.push(event.attempt);
      });
      await app.start();
      assert.equal(app.state, 'degraded');
      await waitFor(() => recoverAttempts.length >= 3, { timeoutMs: 10_000 });
      await proxy.restore();
      await waitFor(() => app.state === 'ready', { timeoutMs: 10_000 });

      const plugin = pluginOf(app);
      plugin.captureMessage('after the outage');
      const after = await server.waitForEvent((e) => e.message === 'after the outage');
      const warnings = server.events.filter((e) => tagsOf(e)['plinth.state'] === 'degraded');
      assert.equal(warnings.length, 1, 'one event for the transition, none per retry');
      assert.equal(warnings[0]!.level, 'warning');
      assert.equal(tagsOf(warnings[0]!)['plinth.unavailable'], 'session_cache');
      const crumbs = ((after.breadcrumbs ?? []) as { category?: string; message?: string }[]).filter((b) => b.category === 'plinth.state');
      assert.ok(crumbs.some((b) => /degraded → ready.*recovered/.test(b.message ?? '')), JSON.stringify(crumbs));
      const lifecycle = ((after.breadcrumbs ?? []) as { category?: string; message?: string }[]).filter((b) => b.category === 'plinth.lifecycle');
      assert.ok(lifecycle.some((b) => /session_cache preStart degraded/.test(b.message ?? '')), 'the story before the event');
    } finally {
      await stopApps();
      await proxy.close();
      await scratch.release();
    }
  });

  it('a 5xx answer: method, route and status; no body, no cookies, no authorization', async () => {
    @Service()
    class Api implements OnStart {
      port = 0;
      constructor(@Inject(APP) private readonly app: App) {}
      async onStart(): Promise<void> {
        const listening = await this.app.serveHttp((_request, response) => response.writeHead(503).end('down'), { port: 0, host: '127.0.0.1' });
        this.port = (listening.address() as { port: number }).port;
      }
    }
    const { app } = trackedApp({ plugins: [sentry('error_tracking')], services: [Api], env: on() });
    await app.start();
    const port = app.get<Api>(Api).port;
    await new Promise<void>((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/orders?card=4111111111111111', agent: false, headers: { authorization: 'Bearer tok-8f2e', cookie: 'sid=c00kie' } },
        (response) => response.resume().on('end', resolve),
      );
      request.on('error', reject);
      request.end('{"card":"4111111111111111"}');
    });
    const event = await server.waitForEvent(bySource('http'));
    assert.equal(tagsOf(event).method, 'POST');
    assert.equal(tagsOf(event).status, 503);
    assert.match(exceptionValue(event) ?? '', /^POST \(route unknown\) answered 503$/, 'a plain handler has no route template; the raw path is never sent');
    const sent = server.rawBodies.join('\n');
    for (const secret of ['tok-8f2e', 'c00kie', '4111111111111111']) assert.ok(!sent.includes(secret), `${secret} was sent`);
  });

  it('a rabbitmq handler failure: queue, message id, attempt, and whether it was dead-lettered', async () => {
    const url = await requireService('rabbitmq');
    const names = scratchAmqpNames('sentry');
    const queue = names.name('orders');
    const dlx = names.name('dlx');
    names.name('orders.dlq');
    @Service()
    class Consumer implements OnStart {
      constructor(@InjectPlugin('events') private readonly mq: RabbitMqPlugin) {}
      async onStart(): Promise<void> {
        this.mq.subscribe(queue, () => Promise.reject(new Error('billing rejected the order')), { maxAttempts: 2 });
        await this.mq.sendToQueue(queue, { orderId: 'o-1' }, { messageId: 'order-o-1' });
      }
    }
    try {
      const { app } = trackedApp({
        plugins: [
          sentry('error_tracking'),
          rabbitmq('events', { topology: { queues: [{ name: queue, durable: false }], deadLetterExchange: dlx } }),
        ],
        services: [Consumer],
        env: on({ TRACKED_APP_EVENTS_URL: url }),
      });
      await app.start();
      const retried = await server.waitForEvent((e) => bySource('plugin')(e) && tagsOf(e).attempt === 1);
      const deadLettered = await server.waitForEvent((e) => bySource('plugin')(e) && tagsOf(e).attempt === 2);
      for (const event of [retried, deadLettered]) {
        assert.equal(tagsOf(event).queue, queue);
        assert.equal(tagsOf(event).messageId, 'order-o-1');
        assert.equal(tagsOf(event)['plugin.type'], 'rabbitmq');
        assert.equal(tagsOf(event)['plugin.prefix'], 'events');
        assert.match(exceptionValue(event) ?? '', /billing rejected the order/);
      }
      assert.equal(tagsOf(retried).deadLettered, false);
      assert.equal(tagsOf(deadLettered).deadLettered, true);
    } finally {
      await stopApps();
      await names.cleanup();
    }
  });
});

@Service()
class Checkout {
  constructor(@InjectPlugin('error_tracking') readonly tracker: SentryPlugin) {}
}

describe('the API for services', () => {
  it('captureException with context, captureMessage, withScope, setUser and setTag', async () => {
    const { app } = trackedApp({ plugins: [sentry('error_tracking')], services: [Checkout], env: on() });
    await app.start();
    const { tracker } = app.get<Checkout>(Checkout);
    assert.equal(tracker.enabled, true);
    assert.equal(tracker.mode, 'plugin');

    tracker.setUser({ id: 'u-42' });
    tracker.setTag('tenant', 'acme');
    const id = tracker.captureException(new Error('card declined'), { tags: { step: 'charge' }, level: 'warning' });
    assert.match(id ?? '', /^[0-9a-f]{32}$/);
    tracker.captureMessage('checkout slow', 'info');
    tracker.withScope((scope) => {
      scope.setTag('scoped', 'yes');
      tracker.captureMessage('inside the scope');
    });
    tracker.captureMessage('outside the scope');

    const declined = await server.waitForEvent((e) => exceptionValue(e) === 'card declined');
    assert.equal(tagsOf(declined).step, 'charge');
    assert.equal(tagsOf(declined).tenant, 'acme');
    assert.equal(declined.level, 'warning');
    assert.deepEqual((declined.user as { id?: string }).id, 'u-42');
    assert.equal((await server.waitForEvent((e) => e.message === 'checkout slow')).level, 'info');
    assert.equal(tagsOf(await server.waitForEvent((e) => e.message === 'inside the scope')).scoped, 'yes');
    assert.equal(tagsOf(await server.waitForEvent((e) => e.message === 'outside the scope')).scoped, undefined);
    assert.ok(tracker.sdk, 'the raw SDK');
    tracker.sdk.captureEvent({ message: 'through the raw SDK' });
    assert.equal(tracker.sdk.getClient(), tracker.client);
    await server.waitForEvent((e) => e.message === 'through the raw SDK');
  });
});

function pluginOf(app: App): SentryPlugin {
  return app.plugin('error_tracking') as SentryPlugin;
}
