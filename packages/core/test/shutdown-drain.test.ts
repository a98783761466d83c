import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { startKeepAliveLoad, waitFor, type LoadReport } from '@plinth/testkit';
import { ConnectionTracker, drainHttpServer } from '../src/http/index.js';
import { byMessage, logObjects, request, startServiceApp, type Reply } from './fixtures/harness.js';

/** Every request the load client sent was answered, refused at connect, or reset on a fresh socket (never a reused one). */
function assertNothingDropped(report: LoadReport): void {
  const detail = JSON.stringify(report);
  assert.equal(report.resetOnReusedSocket, 0, `no reset on a kept-alive socket: ${detail}`);
  assert.equal(report.otherErrors, 0, `no other error: ${detail}`);
  assert.equal(report.inFlight, 0);
  assert.deepEqual(Object.keys(report.byStatus), ['200'], `complete 200 responses only: ${detail}`);
  assert.equal(report.sent, report.completed + report.refused + report.resetOnNewSocket, `every request accounted for: ${detail}`);
}

describe('SIGTERM under keep-alive load', () => {
  for (const shutdownDelay of [0, 500]) {
    it(`answers every request sent on an established connection, finishes a 2.5 s request, exits 0 (shutdown delay ${shutdownDelay} ms)`, async (t) => {
      const app = await startServiceApp({ FIXTURE_APP_SHUTDOWN_DELAY: String(shutdownDelay), FIXTURE_HTTP: 'on' });
      const load = startKeepAliveLoad({ url: `${app.api}/work`, connections: 16, maxDurationMs: 60_000 });
      try {
        await waitFor(() => load.report().completed >= 500, { timeoutMs: 20_000, message: 'load running' });
        const from = app.child.lines.length;
        const slow: Promise<Reply> = request(`${app.api}/slow?ms=2500`);
        await app.child.waitForLine(byMessage('slow request started'), 10_000, { from });
        const atSignal = load.report();
        app.child.signal('SIGTERM');

        const exit = await app.child.exited;
        const report = await load.stop();
        const slowReply = await slow;

        const { otherErrorMessages: _messages, byStatus: _byStatus, ...counts } = report;
        t.diagnostic(`load: ${JSON.stringify(counts)}`);
        assert.deepEqual(exit, { code: 0, signal: null }, app.child.tail());
        assert.equal(slowReply.status, 200);
        assert.equal(slowReply.text, 'slow done after 2500 ms\n', 'the in-flight request got its whole response');
        assertNothingDropped(report);
        assert.ok(report.completed > atSignal.completed, 'requests kept being answered after SIGTERM');
        assert.ok(report.connectionCloseHeaders >= 1, 'connections were closed with Connection: close responses');
        const drained = logObjects(app.child).find((l) => /drained$/.test(String(l['msg'])));
        assert.ok(drained, 'the server drained within its deadline (not forced)');
        const draining = logObjects(app.child).findIndex((l) => l['msg'] === 'state draining');
        const stopped = logObjects(app.child).findIndex((l) => l['msg'] === 'state stopped');
        assert.ok(draining >= 0 && stopped > draining);
      } finally {
        await load.stop();
        await app.child.kill();
      }
    });
  }
});

describe('draining one server (in process)', () => {
  async function serve(handler: http.RequestListener): Promise<{ server: http.Server; tracker: ConnectionTracker; url: string }> {
    const server = http.createServer();
    const tracker = new ConnectionTracker(server);
    server.on('request', (req, res) => {
      tracker.onRequest(req, res);
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, tracker, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  function get(url: string, agent: http.Agent): Promise<{ status: number; text: string; connection: string | undefined; reused: boolean }> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, connection: res.headers.connection, reused: req.reusedSocket }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  it('a response already streaming when the drain begins finishes; the next request on that socket gets Connection: close', async () => {
    const { server, tracker, url } = await serve((req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part 1\n');
        setTimeout(() => res.end('part 2\n'), 200);
      } else res.end('next\n');
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const streaming = get(`${url}/stream`, agent);
      await waitFor(() => tracker.inFlight === 1);
      const drained = drainHttpServer(server, tracker, { timeoutMs: 5000, idleGraceMs: 2000 });
      const first = await streaming;
      assert.equal(first.text, 'part 1\npart 2\n');
      assert.equal(first.connection, 'keep-alive', 'its headers went out before the drain began');
      const second = await get(`${url}/next`, agent);
      assert.equal(second.reused, true, 'the client reused the kept-alive socket');
      assert.equal(second.text, 'next\n', 'and got a complete response, not a reset');
      assert.equal(second.connection, 'close');
      const report = await drained;
      assert.equal(report.forced, false);
      assert.equal(tracker.connections, 0);
    } finally {
      agent.destroy();
      server.closeAllConnections();
    }
  });

  it('closes an idle keep-alive connection after the idle grace, cleanly (FIN, no reset)', async () => {
    const { server, tracker, url } = await serve((_req, res) => res.end('ok\n'));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await get(url, agent);
      const socket = Object.values(agent.freeSockets)[0]?.[0] as Socket;
      assert.ok(socket, 'one idle kept-alive socket');
      socket.ref(); // the agent unrefs idle sockets; this test waits on one
      const events: string[] = [];
      socket.on('error', (e: NodeJS.ErrnoException) => events.push(`error ${e.code}`));
      socket.on('end', () => events.push('end'));
      const closed = new Promise((resolve) => socket.on('close', resolve));
      const report = await drainHttpServer(server, tracker, { timeoutMs: 5000, idleGraceMs: 150 });
      await closed;
      assert.deepEqual(events, ['end'], 'the server ended the idle connection; the client saw no error');
      assert.equal(report.forced, false);
      assert.ok(report.durationMs >= 140, `it waited for the grace (${report.durationMs} ms)`);
    } finally {
      agent.destroy();
    }
  });

  it("unlike Node's own close(), which destroys an idle keep-alive socket at once", async () => {
    const server = http.createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, agent);
      const socket = Object.values(agent.freeSockets)[0]?.[0] as Socket;
      socket.ref(); // the agent unrefs idle sockets; this test waits on one
      const closed = new Promise((resolve) => socket.on('close', resolve));
      server.close();
      await closed;
      assert.ok(socket.destroyed, 'gone with no grace: a request being sent on it now would be reset');
    } finally {
      agent.destroy();
    }
  });

  it('destroys what is left at the drain deadline and says so', async () => {
    const { server, tracker, url } = await serve(() => undefined); // never answers
    const agent = new http.Agent({ keepAlive: true });
    try {
      const hung = get(url, agent).catch((error: NodeJS.ErrnoException) => error.code ?? error.message);
      await waitFor(() => tracker.inFlight === 1);
      const report = await drainHttpServer(server, tracker, { timeoutMs: 200, idleGraceMs: 100 });
      assert.equal(report.forced, true);
      assert.equal(report.destroyed, 1);
      assert.equal(await hung, 'ECONNRESET');
    } finally {
      agent.destroy();
    }
  });
});
