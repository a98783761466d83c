import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSilentListener, waitFor } from '../src/index.js';
import { connectRaw, tryConnect } from './resp.js';

describe('startSilentListener', () => {
  it('accepts connections and never answers', async () => {
    const listener = await startSilentListener();
    try {
      const conn = await connectRaw(listener.host, listener.port);
      assert.equal(await conn.command('PING', 300), undefined);
      conn.socket.write('SELECT 1\r\n');
      assert.equal(conn.received(), '');
      assert.equal(listener.connections, 1);
      await waitFor(() => listener.openConnections === 1);
      conn.socket.destroy();
      await waitFor(() => listener.openConnections === 0, { message: 'closed connection untracked' });
      assert.equal(listener.connections, 1);
    } finally {
      await listener.close();
    }
  });

  it('close() destroys open sockets and stops listening', async () => {
    const listener = await startSilentListener();
    const conn = await connectRaw(listener.host, listener.port);
    await waitFor(() => listener.openConnections === 1);
    await listener.close();
    await conn.closed; // Would hang if close() left the socket open.
    assert.equal(listener.openConnections, 0);
    assert.equal(await tryConnect(listener.host, listener.port), 'ECONNREFUSED');
  });
});
