import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import {
  createScratchPostgresDatabase,
  createScratchRedis,
  createScratchVhost,
  requireService,
  serviceAddress,
  startKeepAliveLoad,
  startTcpProxy,
  waitFor,
  type ScratchPostgresDatabase,
  type ScratchRedis,
  type ScratchVhost,
} from '@plinth/testkit';
import { USER_CREATED_QUEUE } from '../src/events/user-events.js';
import { json, postUser, startService, type RunningService } from './support/service-process.js';
import { scrape } from './support/scrape.js';

const DASHBOARD = new URL('../../../deploy/grafana/example-service.json', import.meta.url);

/** Every metric a PromQL expression selects (a name followed by its label matchers). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) => m[1] as string);
}

const DB = { plugin: 'postgres', prefix: 'primary_db' };
const CACHE = { plugin: 'redis', prefix: 'session_cache' };
const EVENTS = { plugin: 'rabbitmq', prefix: 'events' };

async function stop(service: RunningService | undefined): Promise<void> {
  if (!service) return;
  service.process.signal('SIGTERM');
  await service.process.exited;
}

describe('the example service on /metrics', () => {
  let database: ScratchPostgresDatabase;
  let cache: ScratchRedis;
  let vhost: ScratchVhost;

  before(async () => {
    await requireService('postgres');
    await requireService('redis');
    await requireService('rabbitmq');
    [database, cache, vhost] = await Promise.all([createScratchPostgresDatabase('example_metrics'), createScratchRedis(), createScratchVhost('example-metrics')]);
  });
  after(async () => {
    await vhost?.delete();
    await cache?.release();
    await database?.drop();
  });

  it('counts what each plugin and route does under load: queries, cache hits and misses, publishes and confirms, dead-letters, requests by route template', async () => {
    const service = await startService({
      EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: vhost.url,
    });
    try {
      const created = await postUser(service.url, { name: 'Grace', email: `grace-${randomUUID()}@example.com` });
      assert.equal(created.status, 201);
      const { id } = await json<{ id: number }>(created);
      await waitFor(async () => (await scrape(service.url)).value('plinth_rabbitmq_confirmed_total', EVENTS) >= 1, {
        timeoutMs: 15_000,
        message: 'the outbox published the user-created event and the broker confirmed it',
      });
      const before = await scrape(service.url);
      assert.ok(before.value('plinth_postgres_transactions_total', { ...DB, outcome: 'committed' }) >= 1, 'creating the user committed a transaction');
      assert.ok(before.value('plinth_rabbitmq_published_total', EVENTS) >= 1, 'published');
      assert.ok(before.value('plinth_rabbitmq_publish_duration_seconds_count', { ...EVENTS, outcome: 'ok' }) >= 1, 'publish-to-confirm timed');

      // One miss (loads from the database), then one hit.
      const miss = await fetch(`${service.url}/users/${id}`);
      assert.equal(miss.headers.get('x-cache'), 'miss');
      const hit = await fetch(`${service.url}/users/${id}`);
      assert.equal(hit.headers.get('x-cache'), 'hit');
      const afterReads = await scrape(service.url);
      const delta = (name: string, labels: Record<string, string>) => afterReads.value(name, labels) - before.value(name, labels);
      assert.equal(delta('plinth_redis_cache_misses_total', CACHE), 1);
      assert.equal(delta('plinth_redis_cache_hits_total', CACHE), 1);
      assert.equal(delta('plinth_redis_cache_loads_total', CACHE), 1);
      assert.ok(delta('plinth_postgres_query_duration_seconds_count', { ...DB, outcome: 'ok' }) >= 1, 'the miss queried the database');
      assert.equal(delta('plinth_http_request_duration_seconds_count', { method: 'GET', route: '/users/:id', status_class: '2xx' }), 2);

      // A malformed event goes to the dead-letter exchange.
      const connection = await amqplib.connect(vhost.url);
      try {
        const channel = await connection.createConfirmChannel();
        channel.sendToQueue(USER_CREATED_QUEUE, Buffer.from(JSON.stringify({ not: 'a user' })), { messageId: randomUUID(), contentType: 'application/json' });
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
      await waitFor(async () => (await scrape(service.url)).value('plinth_rabbitmq_settled_total', { ...EVENTS, outcome: 'dead_lettered' }) === 1, {
        timeoutMs: 10_000,
        message: 'the malformed event counted as dead-lettered',
      });

      // Under load the request histogram moves, and no raw path becomes a label.
      const load = startKeepAliveLoad({ url: `${service.url}/users/${id}`, connections: 4, maxDurationMs: 20_000 });
      await waitFor(() => load.report().completed >= 200, { timeoutMs: 15_000, message: 'load running' });
      const during = await scrape(service.url);
      const report = await load.stop();
      assert.ok(
        during.value('plinth_http_request_duration_seconds_count', { route: '/users/:id', status_class: '2xx' }) >= 200,
        `requests counted under load (${report.completed} completed)`,
      );
      // Concurrent reads of one key share one lookup (single flight): each is a hit or a join.
      const hits = during.value('plinth_redis_cache_hits_total', CACHE);
      const joins = during.value('plinth_redis_cache_joins_total', CACHE);
      assert.ok(hits + joins >= 200, `cache hits ${hits} + joins ${joins}`);
      assert.ok(joins > 0, 'four connections reading one key join lookups in flight');
      const gets = during.value('plinth_redis_command_duration_seconds_count', { ...CACHE, command: 'get', outcome: 'ok' });
      assert.ok(gets >= hits, `GET commands ${gets} for ${hits} hits`);
      const afterLoad = await scrape(service.url);
      assert.equal(afterLoad.value('plinth_http_requests_in_flight'), 1, 'the load is over: only the scrape itself is in flight');
      assert.equal(afterLoad.value('plinth_plugin_available', DB), 1);
      assert.equal(afterLoad.value('plinth_breaker_state', { ...CACHE, breaker: 'cache', state: 'closed' }), 1);
      assert.ok(afterLoad.value('plinth_postgres_pool_connections', DB) >= 1, `pool connections: ${afterLoad.value('plinth_postgres_pool_connections', DB)}`);
      const text = await (await fetch(`${service.url}/metrics`)).text();
      assert.doesNotMatch(text, new RegExp(`route="/users/${id}"`), 'never the raw path');
    } finally {
      await stop(service);
    }
  });

  it('a Redis that answers in 2 s opens the cache breaker: reads go to the database at its speed, and it closes when Redis is fast again', async () => {
    const { host, port } = serviceAddress('redis');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const url = new URL(cache.url);
    url.host = `${proxy.host}:${proxy.port}`;
    let service: RunningService | undefined;
    try {
      service = await startService({
        EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
        EXAMPLE_SERVICE_SESSION_CACHE_URL: url.toString(),
        EXAMPLE_SERVICE_EVENTS_URL: vhost.url,
        // Slow, not wedged: the connection stays; the breaker is what protects requests.
        EXAMPLE_SERVICE_SESSION_CACHE_COMMAND_TIMEOUT: '10000',
        EXAMPLE_SERVICE_SESSION_CACHE_BREAKER_TIMEOUT: '200',
        EXAMPLE_SERVICE_SESSION_CACHE_BREAKER_FAILURES: '3',
        EXAMPLE_SERVICE_SESSION_CACHE_BREAKER_HALF_OPEN_AFTER: '1000',
      });
      const base = service.url;
      const created = await postUser(base, { name: 'Linus', email: `linus-${randomUUID()}@example.com` });
      const { id } = await json<{ id: number }>(created);
      const timedGet = async (): Promise<{ ms: number; cache: string | null; status: number }> => {
        const started = performance.now();
        const response = await fetch(`${base}/users/${id}`);
        await response.text();
        return { ms: performance.now() - started, cache: response.headers.get('x-cache'), status: response.status };
      };
      assert.equal((await timedGet()).cache, 'miss');
      assert.equal((await timedGet()).cache, 'hit');

      proxy.delay(2000);
      let slowRequests = 0;
      await waitFor(
        async () => {
          slowRequests += 1;
          assert.equal((await timedGet()).status, 200, 'a slow cache never fails a request');
          return (await scrape(base)).value('plinth_breaker_state', { ...CACHE, breaker: 'cache', state: 'open' }) === 1;
        },
        { timeoutMs: 15_000, intervalMs: 0, message: 'the cache breaker opened' },
      );
      // Each read is a GET and a SET through the breaker: three failures take at most three requests.
      assert.ok(slowRequests <= 3, `opened after ${slowRequests} slow requests`);
      const opened = await scrape(base);
      assert.ok(opened.value('plinth_breaker_timeouts_total', { ...CACHE, breaker: 'cache' }) >= 3);
      assert.equal(opened.value('plinth_breaker_opened_total', { ...CACHE, breaker: 'cache' }), 1);

      const whileOpen: number[] = [];
      for (let i = 0; i < 10; i++) {
        const read = await timedGet();
        assert.equal(read.status, 200);
        assert.equal(read.cache, 'miss', 'an open breaker makes every read a miss');
        whileOpen.push(read.ms);
      }
      whileOpen.sort((a, b) => a - b);
      const median = whileOpen[5] as number;
      // The database's latency, not the breaker timeout (200 ms) and far from Redis' 2 s.
      assert.ok(median < 150, `median GET /users/:id with the breaker open: ${median.toFixed(1)} ms`);
      const refused = (await scrape(base)).value('plinth_redis_cache_refused_total', { ...CACHE, reason: 'breaker' });
      assert.ok(refused >= 10, `cache calls refused by the breaker: ${refused}`);
      assert.ok(
        service.process.lines.some((line) => typeof line === 'object' && /breaker session_cache degraded/.test(String((line as { msg?: unknown }).msg))),
        'the breaker opening is a lifecycle event in the log',
      );

      await proxy.restore();
      await waitFor(
        async () => {
          await timedGet();
          return (await scrape(base)).value('plinth_breaker_state', { ...CACHE, breaker: 'cache', state: 'closed' }) === 1;
        },
        { timeoutMs: 20_000, intervalMs: 200, message: 'the cache breaker closed once Redis was fast again' },
      );
      await waitFor(async () => (await timedGet()).cache === 'hit', { timeoutMs: 5000, message: 'reads hit the cache again' });
      console.log(`cache breaker: opened after ${slowRequests} slow requests; median GET while open ${median.toFixed(1)} ms`);
    } finally {
      await stop(service);
      await proxy.close();
    }
  });

  it('has every metric the Grafana dashboard in deploy/ queries, labelled with the app', async () => {
    const service = await startService({
      EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: vhost.url,
    });
    try {
      const created = await postUser(service.url, { name: 'Barbara', email: `barbara-${randomUUID()}@example.com` });
      assert.equal(created.status, 201);
      const exported = await scrape(service.url);
      const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; type: string; targets?: { expr: string }[] }[] };
      const queried = new Map<string, string>();
      for (const panel of dashboard.panels) {
        if (panel.type === 'row') continue;
        assert.ok(panel.targets?.length, `panel "${panel.title}" has queries`);
        for (const { expr } of panel.targets ?? []) {
          const names = metricNames(expr);
          assert.ok(names.length > 0, `panel "${panel.title}": no metric in ${expr}`);
          for (const name of names) queried.set(name, panel.title);
        }
      }
      assert.ok(queried.size >= 40, `the dashboard queries ${queried.size} metrics`);
      const histogram = /_(bucket|count|sum)$/;
      const missing = [...queried].filter(([name]) => !exported.families.has(name) && !(histogram.test(name) && exported.families.has(name.replace(histogram, ''))));
      assert.deepEqual(missing, [], 'metrics the dashboard queries and the app does not export (name, panel)');
      assert.equal(exported.value('plinth_app_ready', { app: 'example-service' }), 1, 'the app label the dashboard filters on');
    } finally {
      await stop(service);
    }
  });
});
