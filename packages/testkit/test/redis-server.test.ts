import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redisPing, startRedisServer } from '../src/index.js';
import { connectRaw } from './resp.js';

describe('startRedisServer', () => {
  it('runs a private redis-server that can be stopped and started on the same port', async () => {
    const redis = await startRedisServer();
    try {
      assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
      assert.equal(redis.running, true);
      const conn = await connectRaw(redis.host, redis.port);
      assert.equal(await conn.command('SET k v'), '+OK\r\n');

      await redis.stop();
      assert.equal(redis.running, false);
      await conn.closed; // the crash closed the client's connection
      assert.equal(await redisPing(redis.host, redis.port), false);

      await redis.start();
      assert.equal(redis.running, true);
      assert.equal(await redisPing(redis.host, redis.port), true);
      const again = await connectRaw(redis.host, redis.port);
      assert.equal(await again.command('GET k'), '$-1\r\n', 'fresh server, no persistence');
      again.socket.destroy();
    } finally {
      await redis.close();
    }
    assert.equal(await redisPing(redis.host, redis.port), false);
  });
});
