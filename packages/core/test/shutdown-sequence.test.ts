import { strict as assert } from 'node:assert';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LogCapture } from '@plinth/testkit';
import { describe, it } from 'node:test';
import { createApp, type StateChange } from '../src/index.js';
import { controllable, type ControllablePlugin } from './fixtures/controllable-plugin.js';
import { request } from './fixtures/harness.js';

async function appWithServer(env: Record<string, string>) {
  const app = createApp({
    name: 'test-app',
    plugins: [controllable('db'), controllable('cache', { critical: false })],
    env,
    logDestination: new LogCapture(),
  });
  const states: StateChange[] = [];
  app.on('state', (change) => states.push(change));
  await app.start();
  const server = http.createServer((_req, res) => res.end('ok\n'));
  app.attachHttpServer(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { app, server, url, states, db: app.plugin('db') as ControllablePlugin, cache: app.plugin('cache') as ControllablePlugin };
}

function keepAliveGet(url: string, agent: http.Agent): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      })
      .on('error', reject);
  });
}

describe('shutdown sequence', () => {
  it('readiness 503 at once, serving through the shutdown delay, then the listener closes, then onStop', async () => {
    const { app, server, url, states, db, cache } = await appWithServer({ TEST_APP_SHUTDOWN_DELAY: '300' });
    assert.equal((await request(`${url}/health/ready`)).status, 200, 'probes are served on the attached server');
    let closedAt: number | undefined;
    const close = server.close.bind(server);
    server.close = (callback?: (error?: Error) => void) => {
      closedAt = performance.now(); // the moment the listener stops accepting
      return close(callback);
    };

    const agent = new http.Agent({ keepAlive: true });
    const stopping = app.stop();
    const ready = await request(`${url}/health/ready`);
    const work = await keepAliveGet(`${url}/work`, agent);
    agent.destroy();
    assert.equal(ready.status, 503, 'readiness dropped at once');
    assert.equal(work.status, 200, 'the service still serves during the shutdown delay');
    assert.equal(work.connection, 'close', 'a kept-alive client is told to reconnect (elsewhere) while the listener still accepts');
    await stopping;

    const draining = states.find((s) => s.to === 'draining')!.at;
    assert.ok(closedAt !== undefined && closedAt - draining >= 295, `listener closed ${(closedAt ?? 0) - draining} ms after draining began`);
    assert.ok(db.stopStartedAt! >= closedAt! && cache.stopStartedAt! >= closedAt!, 'onStop ran after the server closed');
    await assert.rejects(request(`${url}/work`), /ECONNREFUSED/);
  });

  it('leaves upgraded connections (WebSockets) to their owner: the drain neither waits for them nor cuts them', async () => {
    const { app, server, url } = await appWithServer({ TEST_APP_SHUTDOWN_DRAIN_TIMEOUT: '5000' });
    server.on('upgrade', (_req, socket: Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
    });
    const client = net.connect(Number(new URL(url).port), '127.0.0.1');
    const switched = new Promise<string>((resolve) => client.once('data', (chunk) => resolve(chunk.toString())));
    client.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
    assert.match(await switched, /^HTTP\/1\.1 101/);
    let clientClosed = false;
    client.on('close', () => (clientClosed = true));
    try {
      const started = performance.now();
      await app.stop();
      assert.ok(performance.now() - started < 1000, 'the drain did not wait for the upgraded connection');
      assert.equal(clientClosed, false, 'nor did it close it');
      assert.equal(client.write('still open'), true);
    } finally {
      client.destroy();
    }
  });

  it('serveHttp serves a request listener (an express app) with the probes, and drains it', async () => {
    const app = createApp({ name: 'test-app', plugins: [controllable('db')], env: {}, logDestination: new LogCapture() });
    await app.start();
    const server = await app.serveHttp((_req, res) => res.end('from the handler\n'), { port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.equal((await request(`${url}/anything`)).text, 'from the handler\n');
    assert.equal((await request(`${url}/health/ready`)).json()['status'], 'ok');
    await app.stop();
    assert.equal(server.listening, false, 'closed by the shutdown');
    await assert.rejects(request(`${url}/anything`), /ECONNREFUSED/);
  });

  it('app.stop() is idempotent: every caller awaits one shutdown', async () => {
    const { app, states, db, cache } = await appWithServer({});
    const first = app.stop('first');
    const second = app.stop('second');
    assert.equal(first, second, 'the same promise');
    const report = await first;
    assert.equal(await app.stop('later'), report, 'a call after the end gets the same report');
    assert.deepEqual([db.stops, cache.stops], [1, 1], 'each onStop ran once');
    assert.deepEqual(states.map((s) => s.to), ['starting', 'ready', 'draining', 'stopped']);
    assert.equal(report.clean, true);
  });
});
