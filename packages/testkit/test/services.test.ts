import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { freePort, requireService, serviceAddress, testServices } from '../src/index.js';

describe('testServices', () => {
  it('uses local defaults when the env is empty', () => {
    assert.deepEqual(testServices({}), {
      postgres: 'postgres://postgres@127.0.0.1:5432/test',
      redis: 'redis://127.0.0.1:6379',
      amqp: 'amqp://guest:guest@127.0.0.1:5672',
    });
  });

  it('prefers TEST_* env vars', () => {
    const s = testServices({ TEST_POSTGRES_URL: 'postgres://u@db:1/x', TEST_REDIS_URL: 'redis://r:2', TEST_AMQP_URL: 'amqp://m:3' });
    assert.equal(s.postgres, 'postgres://u@db:1/x');
    assert.equal(s.redis, 'redis://r:2');
    assert.equal(s.amqp, 'amqp://m:3');
    assert.deepEqual(serviceAddress('postgres', s), { host: 'db', port: 1 });
  });
});

describe('requireService', () => {
  const saved = process.env.TEST_REDIS_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.TEST_REDIS_URL;
    else process.env.TEST_REDIS_URL = saved;
  });

  it('resolves with the URL for each running server', async () => {
    assert.equal(await requireService('postgres'), testServices().postgres);
    assert.equal(await requireService('redis'), testServices().redis);
    assert.equal(await requireService('rabbitmq'), testServices().amqp);
  });

  it('fails naming the server, its address and how to start it', async () => {
    const port = await freePort();
    process.env.TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
    await assert.rejects(requireService('redis'), (err: Error) => {
      assert.match(err.message, /^Redis is not reachable at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
      assert.ok(err.message.includes(`:${port}`));
      assert.ok(err.message.includes('redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379'));
      assert.ok(err.message.includes('TEST_REDIS_URL'));
      return true;
    });
  });
});

describe('freePort', () => {
  it('returns a port that can be bound right away', async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
