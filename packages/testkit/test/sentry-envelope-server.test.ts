import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createEnvelope, serializeEnvelope } from '@sentry/core';
import { startSentryEnvelopeServer } from '../src/index.js';

function envelopeBody(): string {
  const envelope = createEnvelope({ event_id: 'a'.repeat(32), sent_at: new Date().toISOString() }, [
    [{ type: 'event' }, { event_id: 'a'.repeat(32), message: 'hello', tags: { phase: 'preStart' } }],
    [{ type: 'transaction' }, { event_id: 'b'.repeat(32), type: 'transaction', transaction: 'GET /users' }],
  ]);
  const serialized = serializeEnvelope(envelope);
  return typeof serialized === 'string' ? serialized : Buffer.from(serialized).toString('utf8');
}

function post(port: number, body: Buffer, headers: Record<string, string> = {}, timeoutMs = 2000): Promise<number | string> {
  return new Promise((resolve) => {
    const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/1/envelope/', headers, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.setTimeout(timeoutMs, () => {
      request.destroy();
      resolve('timeout');
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    request.end(body);
  });
}

describe('startSentryEnvelopeServer', () => {
  it('parses posted envelopes (plain and gzip) into events and transactions', async () => {
    const server = await startSentryEnvelopeServer();
    try {
      assert.equal(await post(server.port, Buffer.from(envelopeBody())), 200);
      assert.equal(await post(server.port, gzipSync(envelopeBody()), { 'content-encoding': 'gzip' }), 200);
      assert.equal(server.events.length, 2);
      assert.deepEqual(server.events[0]!.tags, { phase: 'preStart' });
      assert.equal(server.transactions[0]!.transaction, 'GET /users');
      const event = await server.waitForEvent((e) => e.message === 'hello', 100);
      assert.equal(event.event_id, 'a'.repeat(32));
      assert.match(server.dsn(7), new RegExp(`^http://public@127\\.0\\.0\\.1:${server.port}/7$`));
    } finally {
      await server.close();
    }
  });

  it('counts connections, hangs or refuses on demand', async () => {
    const server = await startSentryEnvelopeServer();
    try {
      assert.equal(server.connections, 0);
      server.setMode('hang');
      assert.equal(await post(server.port, Buffer.from(envelopeBody()), {}, 300), 'timeout');
      server.setMode('refuse');
      assert.equal(await post(server.port, Buffer.from(envelopeBody())), 'ECONNRESET');
      assert.equal(server.connections, 2);
      assert.equal(server.events.length, 0);
    } finally {
      await server.close();
    }
  });

  it('rejects a wait when no matching event arrives', async () => {
    const server = await startSentryEnvelopeServer();
    try {
      await assert.rejects(server.waitForEvent(() => true, 50), /no matching Sentry event within 50 ms/);
    } finally {
      await server.close();
    }
  });
});
