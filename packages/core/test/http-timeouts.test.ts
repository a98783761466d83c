import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { sendSlowBody } from '@plinth/testkit';
import { createApp } from '../src/index.js';

const silent = () => new Writable({ write: (_chunk, _encoding, done) => done() });

const ENV = { TEST_APP_HTTP_REQUEST_TIMEOUT: '1000', TEST_APP_HTTP_HEADERS_TIMEOUT: '800', TEST_APP_HTTP_KEEP_ALIVE_TIMEOUT: '1500' };

/** A handler that reads the whole body before answering, as body parsers do. */
function echoLength(req: http.IncomingMessage, res: http.ServerResponse): void {
  let length = 0;
  req.on('data', (chunk: Buffer) => (length += chunk.length));
  req.on('end', () => res.end(String(length)));
}

function portOf(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

describe('request timeouts of attached servers', () => {
  it('cut a body sent at one byte per 200 ms on a server handed over with attachHttpServer', async () => {
    const app = createApp({ name: 'test-app', env: ENV, logDestination: silent() });
    await app.start();
    const server = http.createServer(echoLength);
    app.attachHttpServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      assert.equal(server.requestTimeout, 1000);
      assert.equal(server.headersTimeout, 800);
      assert.equal(server.keepAliveTimeout, 1500);
      const result = await sendSlowBody({ host: '127.0.0.1', port: portOf(server), intervalMs: 200, giveUpAfterMs: 10_000 });
      assert.ok(result.cut, `cut off (after ${result.afterMs} ms, ${result.bytesSent} bytes)`);
      assert.ok(result.status === undefined || result.status === 408, `408 or a closed connection, got ${result.status}`);
      assert.ok(result.afterMs < 1000 + 1000 + 1500, `within the request timeout plus one check interval (${result.afterMs} ms)`);
    } finally {
      await app.stop();
    }
  });

  it('cut a slow body on a server created by serveHttp (an express app) the same way', async () => {
    const app = createApp({ name: 'test-app', env: ENV, logDestination: silent() });
    await app.start();
    const server = await app.serveHttp(echoLength, { port: 0, host: '127.0.0.1' });
    try {
      const result = await sendSlowBody({ host: '127.0.0.1', port: portOf(server), intervalMs: 200, giveUpAfterMs: 10_000 });
      assert.ok(result.cut, `cut off (after ${result.afterMs} ms)`);
      assert.ok(result.afterMs < 1000 + 1000 + 1500, `within the request timeout plus one check interval (${result.afterMs} ms)`);
    } finally {
      await app.stop();
    }
  });

  it('default to 30 s for a request, 10 s for headers and 5 s keep-alive', async () => {
    const app = createApp({ name: 'test-app', env: {}, logDestination: silent() });
    await app.start();
    const server = http.createServer(echoLength);
    app.attachHttpServer(server);
    try {
      assert.equal(server.requestTimeout, 30_000);
      assert.equal(server.headersTimeout, 10_000);
      assert.equal(server.keepAliveTimeout, 5_000);
    } finally {
      await app.stop();
    }
  });
});
