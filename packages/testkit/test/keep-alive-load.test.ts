import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { freePort, startKeepAliveLoad, waitFor, type LoadResult } from '../src/index.js';

async function serve(handler: http.RequestListener): Promise<{ url: string; server: http.Server; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/work`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Counts requests per socket so tests can see that keep-alive really reuses sockets. */
function perSocketCounter(): { sockets: Set<unknown>; count(req: http.IncomingMessage): number } {
  const counts = new WeakMap<object, number>();
  const sockets = new Set<unknown>();
  return {
    sockets,
    count(req) {
      sockets.add(req.socket);
      const n = (counts.get(req.socket) ?? 0) + 1;
      counts.set(req.socket, n);
      return n;
    },
  };
}

describe('startKeepAliveLoad', () => {
  it('keeps N keep-alive loops busy and counts complete responses, no resets', async () => {
    const seen = perSocketCounter();
    let bodies = 0;
    const srv = await serve((req, res) => {
      seen.count(req);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (body === 'ping' && req.method === 'POST' && req.url === '/other' && req.headers['x-test'] === '1') bodies++;
        res.end('ok');
      });
    });
    const load = startKeepAliveLoad({ url: srv.url, connections: 4, method: 'POST', body: 'ping', path: '/other', headers: { 'x-test': '1' } });
    await waitFor(() => load.report().completed >= 200, { message: '200 responses' });
    const report = await load.stop();
    await srv.close();

    assert.ok(report.completed >= 200);
    assert.equal(report.sent, report.completed);
    assert.equal(report.inFlight, 0);
    assert.deepEqual(report.byStatus, { 200: report.completed });
    assert.equal(bodies, report.completed, 'method, path, body and headers reach the server');
    assert.equal(report.resetOnReusedSocket, 0);
    assert.equal(report.resetOnNewSocket, 0);
    assert.equal(report.refused, 0);
    assert.equal(report.otherErrors, 0);
    assert.equal(report.connectionCloseHeaders, 0);
    assert.ok(seen.sockets.size <= 4, `used ${seen.sockets.size} sockets for 4 loops`);
  });

  it('counts Connection: close responses', async () => {
    const srv = await serve((_req, res) => {
      res.setHeader('connection', 'close');
      res.statusCode = 503;
      res.end();
    });
    const load = startKeepAliveLoad({ url: srv.url, connections: 2 });
    await waitFor(() => load.report().completed >= 20);
    const report = await load.stop();
    await srv.close();
    assert.equal(report.connectionCloseHeaders, report.completed);
    assert.deepEqual(report.byStatus, { 503: report.completed });
    assert.equal(report.resetOnReusedSocket + report.resetOnNewSocket, 0);
  });

  it('tells a reset on a reused socket from one on a new socket', async () => {
    // Every socket serves one request, then is destroyed on its second one.
    const seen = perSocketCounter();
    const reusedSrv = await serve((req, res) => {
      if (seen.count(req) === 1) res.end('first');
      else req.socket.destroy();
    });
    const reused = startKeepAliveLoad({ url: reusedSrv.url, connections: 2, backoffMs: 1 });
    await waitFor(() => reused.report().resetOnReusedSocket >= 5);
    const r1 = await reused.stop();
    await reusedSrv.close();
    assert.equal(r1.resetOnNewSocket, 0);
    assert.ok(r1.completed >= 5);

    // Every request is dropped on a fresh socket.
    const newSrv = await serve((req) => req.socket.destroy());
    const fresh = startKeepAliveLoad({ url: newSrv.url, connections: 2, backoffMs: 1 });
    await waitFor(() => fresh.report().resetOnNewSocket >= 5);
    const r2 = await fresh.stop();
    await newSrv.close();
    assert.equal(r2.resetOnReusedSocket, 0);
    assert.equal(r2.completed, 0);
  });

  it('counts refusals and backs off instead of spinning', async () => {
    const port = await freePort();
    const load = startKeepAliveLoad({ url: `http://127.0.0.1:${port}/`, connections: 2, backoffMs: 50 });
    await waitFor(() => load.report().refused >= 4);
    const report = await load.stop();
    assert.equal(report.refused, report.sent);
    assert.equal(report.completed, 0);
    // 2 loops with a 50 ms pause each cannot refuse more than ~2 per 50 ms.
    assert.ok(report.refused <= 2 * (report.durationMs / 50 + 2), `${report.refused} refusals in ${report.durationMs} ms`);
  });

  it('ends on its own after maxDurationMs', async () => {
    const srv = await serve((_req, res) => res.end());
    const load = startKeepAliveLoad({ url: srv.url, connections: 1, maxDurationMs: 100 });
    const report = await load.done;
    await srv.close();
    assert.ok(report.completed > 0);
    assert.equal(report.inFlight, 0);
    assert.deepEqual(load.report(), report, 'counts frozen after the end');
  });

  it('records other errors with messages', async () => {
    // Hangs every request past the request timeout.
    const srv = await serve(() => {});
    const load = startKeepAliveLoad({ url: srv.url, connections: 1, requestTimeoutMs: 50 });
    await waitFor(() => load.report().otherErrors >= 1);
    const report = await load.stop();
    await srv.close();
    assert.equal(report.completed, 0);
    assert.match(report.otherErrorMessages[0] ?? '', /ETIMEDOUT: no response within 50 ms/);
  });
});

describe('startKeepAliveLoad with a mix of requests', () => {
  it('sends what nextRequest builds and reports each outcome with its label, status and body', async () => {
    const srv = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        res.statusCode = req.method === 'POST' ? 201 : 200;
        res.end(`${req.method} ${req.url} ${body}`);
      });
    });
    let n = 0;
    const results: LoadResult[] = [];
    const load = startKeepAliveLoad({
      url: srv.url,
      connections: 2,
      nextRequest: () => (++n % 2 === 0 ? { label: 'write', method: 'POST', path: '/items', body: `n=${n}` } : { label: 'read', path: `/items/${n}` }),
      onResult: (result) => results.push(result),
    });
    await waitFor(() => results.length >= 20);
    const report = await load.stop();
    await srv.close();
    assert.equal(results.length, report.sent, 'one result per request');
    for (const result of results) {
      assert.equal(result.failure, undefined);
      assert.ok(result.latencyMs >= 0);
      if (result.request.label === 'write') {
        assert.equal(result.status, 201);
        assert.equal(result.body, `POST /items ${result.request.body}`);
      } else {
        assert.equal(result.status, 200);
        assert.equal(result.body, `GET ${result.request.path} `);
      }
    }
  });

  it('paces requests to ratePerSecond instead of sending back to back', async () => {
    const srv = await serve((_req, res) => res.end());
    const load = startKeepAliveLoad({ url: srv.url, connections: 4, ratePerSecond: 40, maxDurationMs: 1000 });
    const report = await load.done;
    await srv.close();
    // 40/s for one second: at most the 40 slots plus the first slot of each loop.
    assert.ok(report.completed <= 44, `${report.completed} requests in ${report.durationMs} ms`);
    assert.ok(report.completed >= 20, `${report.completed} requests in ${report.durationMs} ms`);
  });

  it('reports a refused request as a failure to onResult', async () => {
    const port = await freePort();
    const results: LoadResult[] = [];
    const load = startKeepAliveLoad({ url: `http://127.0.0.1:${port}/`, connections: 1, onResult: (result) => results.push(result) });
    await waitFor(() => results.length >= 2);
    await load.stop();
    assert.equal(results[0]?.failure, 'refused');
    assert.match(results[0]?.error ?? '', /ECONNREFUSED/);
  });
});
