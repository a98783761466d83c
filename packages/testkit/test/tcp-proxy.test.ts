import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requireService, serviceAddress, startTcpProxy, waitFor } from '../src/index.js';
import type { TcpProxy } from '../src/index.js';
import { connectRaw, tryConnect } from './resp.js';

describe('startTcpProxy (in front of the real Redis)', () => {
  let proxy: TcpProxy;
  before(async () => {
    await requireService('redis');
    const { host, port } = serviceAddress('redis');
    proxy = await startTcpProxy({ targetHost: host, targetPort: port });
  });
  after(() => proxy.close());

  it('forwards both ways', async () => {
    const conn = await connectRaw(proxy.host, proxy.port);
    assert.equal(await conn.command('PING'), '+PONG\r\n');
    await waitFor(() => proxy.activeConnections === 1, { message: 'proxy tracks the connection' });
    conn.socket.destroy();
    await waitFor(() => proxy.activeConnections === 0, { message: 'proxy forgets the closed connection' });
  });

  it('cut() closes open connections and refuses new ones until restore()', async () => {
    const conn = await connectRaw(proxy.host, proxy.port);
    assert.equal(await conn.command('PING'), '+PONG\r\n');
    await proxy.cut();
    assert.equal(proxy.mode, 'cut');
    await conn.closed; // Would hang (test timeout) if the connection stayed open.
    assert.equal(conn.socket.destroyed, true);
    assert.equal(await tryConnect(proxy.host, proxy.port), 'ECONNREFUSED');

    await proxy.restore();
    const again = await connectRaw(proxy.host, proxy.port);
    assert.equal(await again.command('PING'), '+PONG\r\n');
    again.socket.destroy();
  });

  it('cut({ reset: true }) resets open connections', async () => {
    const conn = await connectRaw(proxy.host, proxy.port);
    assert.equal(await conn.command('PING'), '+PONG\r\n');
    await proxy.cut({ reset: true });
    const err = (await conn.closed) as NodeJS.ErrnoException | undefined;
    assert.equal(err?.code, 'ECONNRESET');
    await proxy.restore();
  });

  it('hang() keeps connections open but silent; restore() resumes them', async () => {
    const held = await connectRaw(proxy.host, proxy.port);
    assert.equal(await held.command('PING'), '+PONG\r\n');
    proxy.hang();
    assert.equal(await held.command('PING', 300), undefined, 'PING answered through a hung proxy');
    assert.equal(held.socket.destroyed, false);

    // New connections are accepted but silent too.
    const fresh = await connectRaw(proxy.host, proxy.port);
    assert.equal(await fresh.command('PING', 300), undefined);

    await proxy.restore();
    // The PINGs sent during the hang are delivered now, like a healed partition.
    await waitFor(() => held.received().endsWith('+PONG\r\n+PONG\r\n'), { message: 'held PING answered after restore' });
    await waitFor(() => fresh.received() === '+PONG\r\n', { message: 'fresh PING answered after restore' });
    const after = await connectRaw(proxy.host, proxy.port);
    assert.equal(await after.command('PING'), '+PONG\r\n');
    for (const c of [held, fresh, after]) c.socket.destroy();
  });

  it('delay(ms) answers every command that much later, in order; restore() ends it without reordering bytes', async () => {
    const conn = await connectRaw(proxy.host, proxy.port);
    assert.equal(await conn.command('PING'), '+PONG\r\n');
    proxy.delay(150);
    assert.equal(proxy.mode, 'delay');
    const started = performance.now();
    assert.equal(await conn.command('ECHO first', 2000), '$5\r\nfirst\r\n');
    const slow = performance.now() - started;
    assert.ok(slow >= 290, `one round trip through a 150 ms delay each way took ${slow.toFixed(0)} ms`);

    conn.socket.write('ECHO a\r\n');
    await proxy.restore();
    conn.socket.write('ECHO b\r\n');
    await waitFor(() => conn.received().endsWith('$1\r\na\r\n$1\r\nb\r\n'), { message: 'the delayed reply first, then the one sent after restore' });
    conn.socket.destroy();
  });

  it('close() ends every connection', async () => {
    const p = await startTcpProxy({ targetHost: serviceAddress('redis').host, targetPort: serviceAddress('redis').port });
    const conn = await connectRaw(p.host, p.port);
    assert.equal(await conn.command('PING'), '+PONG\r\n');
    await p.close();
    await conn.closed;
    assert.equal(await tryConnect(p.host, p.port), 'ECONNREFUSED');
  });
});
