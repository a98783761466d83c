import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError, createApp } from '@plinth/core';
import { connectionTarget } from '../src/amqp/connect-options.js';
import { matches } from '../src/embedded/memory-broker.js';
import { encodeMessage } from '../src/message.js';
import { rabbitmq, RabbitMqConfigError } from '../src/index.js';
import { resolveTopology, validateTopology } from '../src/topology.js';

describe('topology', () => {
  it('expands queues with dead-letter queues, arguments and bindings, exchanges first', () => {
    const steps = resolveTopology({
      exchanges: [{ name: 'orders', type: 'topic' }],
      queues: [
        { name: 'orders.created', bindings: [{ exchange: 'orders', routingKey: 'order.created' }], arguments: { 'x-queue-type': 'quorum' } },
        { name: 'scratch', durable: false, deadLetter: false },
      ],
      deadLetterExchange: 'dlx',
    });
    assert.deepEqual(steps, [
      { kind: 'exchange', name: 'orders', type: 'topic', durable: true, arguments: {} },
      { kind: 'exchange', name: 'dlx', type: 'direct', durable: true, arguments: {} },
      { kind: 'queue', name: 'orders.created.dlq', durable: true, arguments: {} },
      {
        kind: 'queue',
        name: 'orders.created',
        durable: true,
        arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'orders.created' },
      },
      { kind: 'queue', name: 'scratch', durable: false, arguments: {} },
      { kind: 'binding', queue: 'orders.created.dlq', exchange: 'dlx', routingKey: 'orders.created' },
      { kind: 'binding', queue: 'orders.created', exchange: 'orders', routingKey: 'order.created' },
    ]);
  });

  it('rejects impossible declarations at declaration time, listing every problem', () => {
    assert.throws(
      () =>
        rabbitmq('events', {
          topology: {
            exchanges: [
              { name: 'a', type: 'headers' as 'direct' },
              { name: 'amq.mine', type: 'direct' },
              { name: 'b', type: 'fanout' },
              { name: 'b', type: 'fanout' },
            ],
            queues: [{ name: 'q' }, { name: 'q.dlq' }, { name: 'r', bindings: [{ exchange: '' }] }],
          },
        }),
      (error: Error) => {
        assert.ok(error instanceof RabbitMqConfigError);
        for (const text of ['type must be direct, topic or fanout', '"amq." are reserved', 'exchange "b" is declared twice', 'clashes with the dead-letter queue', 'binding without an exchange']) {
          assert.ok(error.message.includes(text), `${text} in ${error.message}`);
        }
        return true;
      },
    );
    assert.doesNotThrow(() => validateTopology({ queues: [{ name: 'q', bindings: [{ exchange: 'declared.elsewhere' }] }] }));
  });
});

describe('in-process routing', () => {
  it('matches topic patterns like RabbitMQ', () => {
    const cases: [string, string, boolean][] = [
      ['order.created', 'order.created', true],
      ['order.*', 'order.created', true],
      ['order.*', 'order.created.late', false],
      ['order.#', 'order', true],
      ['order.#', 'order.created.late', true],
      ['#', 'anything.at.all', true],
      ['*.created', 'order.created', true],
      ['*.created', 'created', false],
      ['a.#.z', 'a.z', true],
      ['a.#.z', 'a.b.c.z', true],
      ['a.#.z', 'a.b.c', false],
    ];
    for (const [pattern, key, expected] of cases) assert.equal(matches('topic', pattern, key), expected, `${pattern} ~ ${key}`);
    assert.equal(matches('direct', 'a', 'a'), true);
    assert.equal(matches('direct', 'a.*', 'a.b'), false);
    assert.equal(matches('fanout', 'x', 'y'), true);
  });
});

describe('connection settings', () => {
  const base = { url: undefined, host: 'mq.internal', port: undefined, user: 'svc', password: 'pw', vhost: '/', tls: false, heartbeat: 30_000, connectTimeout: 5000 };

  it('builds every amqplib field from HOST settings, with the port following TLS', () => {
    const plain = connectionTarget(base, 'app:events');
    assert.deepEqual(plain.options, { protocol: 'amqp', hostname: 'mq.internal', port: 5672, username: 'svc', password: 'pw', vhost: '%2F', heartbeat: 30, locale: 'en_US' });
    assert.equal(plain.address, 'mq.internal:5672');
    assert.equal(plain.socket.timeout, 5000);
    assert.equal(connectionTarget({ ...base, tls: true }, 'x').options.port, 5671);
    assert.equal(connectionTarget({ ...base, heartbeat: 0 }, 'x').options.heartbeat, 0);
    assert.equal(connectionTarget({ ...base, heartbeat: 400 }, 'x').options.heartbeat, 1);
  });

  it('lets URL override host, port, credentials and vhost', () => {
    const target = connectionTarget({ ...base, url: 'amqps://u%40x:p%2Fw@broker:5999/my%2Fvhost' }, 'x');
    assert.equal(target.options.protocol, 'amqps');
    assert.equal(target.options.hostname, 'broker');
    assert.equal(target.options.port, 5999);
    assert.equal(target.options.username, 'u@x');
    assert.equal(target.options.password, 'p/w');
    assert.equal(decodeURIComponent(target.options.vhost ?? ''), 'my/vhost');
    assert.equal(target.address, 'broker:5999');
  });

  it('rejects bad values before any I/O, naming each env var and masking secrets', async () => {
    const app = createApp({
      name: 'test-app',
      plugins: [rabbitmq('events')],
      env: {
        TEST_APP_EVENTS_PORT: '56x',
        TEST_APP_EVENTS_URL: 'http://user:topsecret@host/',
        TEST_APP_EVENTS_PREFETCH: '0',
        TEST_APP_EVENTS_PUBLISH_TIMEOUT: 'soon',
        TEST_APP_LOG_LEVEL: 'silent',
      },
    });
    await assert.rejects(app.start(), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      for (const env of ['TEST_APP_EVENTS_PORT', 'TEST_APP_EVENTS_URL', 'TEST_APP_EVENTS_PREFETCH', 'TEST_APP_EVENTS_PUBLISH_TIMEOUT']) {
        assert.ok(error.message.includes(env), `${env} in ${error.message}`);
      }
      assert.ok(!error.message.includes('topsecret'));
      return true;
    });
  });

  it('lists its settings in describeSettings, the password and URL marked sensitive', () => {
    const app = createApp({ name: 'test-app', plugins: [rabbitmq('events')], env: {} });
    const entries = app.describeSettings().filter((e) => e.env.startsWith('TEST_APP_EVENTS_'));
    const names = entries.map((e) => e.env);
    for (const key of ['URL', 'HOST', 'PORT', 'USER', 'PASSWORD', 'VHOST', 'HEARTBEAT', 'PREFETCH', 'PUBLISH_TIMEOUT', 'TLS']) {
      assert.ok(names.includes(`TEST_APP_EVENTS_${key}`), key);
    }
    assert.equal(entries.find((e) => e.env === 'TEST_APP_EVENTS_PASSWORD')?.sensitive, true);
    assert.equal(entries.find((e) => e.env === 'TEST_APP_EVENTS_URL')?.sensitive, true);
  });
});

describe('message encoding', () => {
  it('sends JSON with content type, message id, timestamp and headers by default; Buffers as they are', () => {
    const { content, properties } = encodeMessage({ a: 1 }, { headers: { h: 'v' } }, 1_700_000_000_500);
    assert.equal(content.toString(), '{"a":1}');
    assert.equal(properties.contentType, 'application/json');
    assert.match(properties.messageId, /^[0-9a-f-]{36}$/);
    assert.equal(properties.timestamp, 1_700_000_000);
    assert.deepEqual(properties.headers, { h: 'v' });
    assert.equal(properties.persistent, true);
    const raw = encodeMessage(Buffer.from([1, 2]), { messageId: 'fixed', persistent: false });
    assert.equal(raw.properties.contentType, 'application/octet-stream');
    assert.equal(raw.properties.messageId, 'fixed');
    assert.equal(raw.properties.persistent, false);
    assert.throws(() => encodeMessage(undefined, {}), TypeError);
  });
});
