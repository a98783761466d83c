import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import {
  createScratchPostgresDatabase,
  createScratchRedis,
  requireService,
  sendSlowBody,
  serviceAddress,
  startKeepAliveLoad,
  startTcpProxy,
  testServices,
  waitFor,
  type ScratchPostgresDatabase,
  type ScratchRedis,
  type TcpProxy,
} from '@plinth/testkit';
import { startService, type RunningService } from './support/service-process.js';

function message(line: unknown): string {
  return typeof line === 'object' && line !== null ? String((line as { msg?: unknown }).msg ?? '') : '';
}

describe('example service when PostgreSQL goes away', () => {
  let database: ScratchPostgresDatabase;
  let cache: ScratchRedis;
  let proxy: TcpProxy;
  let service: RunningService;

  before(async () => {
    await requireService('postgres');
    await requireService('redis');
    await requireService('rabbitmq');
    database = await createScratchPostgresDatabase('example_outage');
    cache = await createScratchRedis();
    const { host, port } = serviceAddress('postgres');
    proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const url = new URL(database.url);
    url.host = `${proxy.host}:${proxy.port}`;
    service = await startService({
      EXAMPLE_SERVICE_PRIMARY_DB_URL: url.toString(),
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: testServices().amqp,
      EXAMPLE_SERVICE_HTTP_REQUEST_TIMEOUT: '1000',
    });
  });
  after(async () => {
    await proxy?.restore().catch(() => undefined);
    if (service) {
      service.process.signal('SIGTERM');
      await service.process.exited;
    }
    await proxy?.close();
    await cache?.release();
    await database?.drop();
  });

  it('answers 503 with Retry-After during the outage, logs it once with a count, and serves again when it is back', async () => {
    const load = startKeepAliveLoad({ url: `${service.url}/stats`, connections: 4, maxDurationMs: 30_000 });
    await waitFor(() => load.report().completed > 20, { timeoutMs: 10_000, message: 'load running' });
    const from = service.process.lines.length;
    await proxy.cut();
    await waitFor(async () => (await fetch(`${service.url}/stats`)).status === 503, { timeoutMs: 5000, message: 'a 503 during the outage' });
    const during = await fetch(`${service.url}/stats`);
    assert.equal(during.status, 503);
    assert.match(during.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After in seconds');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await proxy.restore();
    const restored = performance.now();
    await waitFor(async () => (await fetch(`${service.url}/stats`)).status === 200, { timeoutMs: 10_000, intervalMs: 25, message: 'serving again' });
    const recoveryMs = Math.round(performance.now() - restored);
    await waitFor(() => service.process.lines.slice(from).some((line) => /are back/.test(message(line))), { timeoutMs: 5000, message: 'the outage summary' });
    const report = await load.stop();

    assert.equal(report.byStatus[500] ?? 0, 0, `no 500 during the outage: ${JSON.stringify(report.byStatus)}`);
    assert.ok((report.byStatus[503] ?? 0) > 0, `503s during the outage: ${JSON.stringify(report.byStatus)}`);
    const lines = service.process.lines.slice(from);
    // Measured, not asserted (the machine's load decides it): printed for the README's numbers.
    console.log(`PostgreSQL cut 3 s: ${JSON.stringify(report.byStatus)}; serving again ${recoveryMs} ms after it came back`);
    const errors = lines.filter((line) => typeof line === 'object' && (line as { level?: number }).level === 50);
    assert.equal(errors.length, 0, `no error line per request: ${errors.map(message).join('; ')}`);
    assert.equal(lines.filter((line) => /answering 503/.test(message(line))).length, 1, 'one line when the outage starts');
    const back = lines.filter((line) => /are back: \d+ request\(s\) were answered 503/.test(message(line)));
    assert.equal(back.length, 1, 'one line with the count when it ends');
    assert.ok(Number((back[0] as { answered503?: number }).answered503) > 0);

  });

  it('cuts a request body sent one byte at a time at the request timeout (408 or close)', async () => {
    const { port } = new URL(service.url);
    const result = await sendSlowBody({ host: '127.0.0.1', port: Number(port), path: '/users', intervalMs: 200, giveUpAfterMs: 15_000 });
    assert.ok(result.cut, `cut off (after ${result.afterMs} ms, ${result.bytesSent} bytes)`);
    assert.ok(result.status === undefined || result.status === 408, `408 or a closed connection, got ${result.status}`);
    assert.ok(result.afterMs < 1000 + 2500, `within the request timeout plus one check interval (${result.afterMs} ms)`);
  });
});

describe('example service stopped while PostgreSQL hangs', () => {
  it('exits 0 within the shutdown budget: queries with no answer are cancelled once shutdown begins', async () => {
    await requireService('postgres');
    const database = await createScratchPostgresDatabase('example_hang');
    const cache = await createScratchRedis();
    const { host, port } = serviceAddress('postgres');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const url = new URL(database.url);
    url.host = `${proxy.host}:${proxy.port}`;
    try {
      const service = await startService({
        EXAMPLE_SERVICE_PRIMARY_DB_URL: url.toString(),
        EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
        EXAMPLE_SERVICE_EVENTS_URL: testServices().amqp,
        EXAMPLE_SERVICE_PRIMARY_DB_STOP_QUERY_GRACE: '1500',
        EXAMPLE_SERVICE_SHUTDOWN_TIMEOUT: '8000',
      });
      const load = startKeepAliveLoad({ url: `${service.url}/stats`, connections: 4, maxDurationMs: 30_000 });
      await waitFor(() => load.report().completed > 20, { timeoutMs: 10_000, message: 'load running' });
      proxy.hang();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const signalled = performance.now();
      service.process.signal('SIGTERM');
      const { code } = await service.process.exited;
      const exitMs = Math.round(performance.now() - signalled);
      await load.stop();
      assert.equal(code, 0, `a clean stop (${exitMs} ms):\n${service.process.tail()}`);
      assert.ok(exitMs < 8000, `before the shutdown budget ran out (${exitMs} ms)`);
      assert.ok(service.process.lines.some((line) => /cancelled the queries still running/.test(message(line))), 'the cancellation is logged');
    } finally {
      await proxy.restore().catch(() => undefined);
      await proxy.close();
      await cache.release();
      await database.drop();
    }
  });
});
