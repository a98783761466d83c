import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import amqp from 'amqplib';
import postgres from 'postgres';
import { createClient } from 'redis';
import { createScratchPostgresDatabase, createScratchRedis, createScratchVhost, scratchAmqpNames, testServices } from '../src/index.js';

describe('createScratchPostgresDatabase', () => {
  it('creates a usable database and really drops it, even with open sessions', async () => {
    const db = await createScratchPostgresDatabase('Plinth-Kit');
    assert.match(db.name, /^plinth_kit_[a-z0-9]+_[0-9a-f]{8}$/);
    assert.equal(db.database, db.name);
    assert.equal(db.port, 5432);
    const admin = postgres(testServices().postgres, { max: 1, onnotice: () => {} });
    // Left open on purpose: drop() must terminate it.
    const user = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const exists = await admin`SELECT 1 FROM pg_database WHERE datname = ${db.name}`;
      assert.equal(exists.length, 1);
      await user`CREATE TABLE t (id int)`;
      const [row] = await user<{ db: string }[]>`SELECT current_database() AS db`;
      assert.equal(row?.db, db.name);

      await db.drop();
      const gone = await admin`SELECT 1 FROM pg_database WHERE datname = ${db.name}`;
      assert.equal(gone.length, 0);
      await db.drop(); // idempotent
    } finally {
      await user.end({ timeout: 1 }).catch(() => {});
      await admin.end();
    }
  });

  it('gives parallel callers distinct databases', async () => {
    const [a, b] = await Promise.all([createScratchPostgresDatabase(), createScratchPostgresDatabase()]);
    try {
      assert.notEqual(a.name, b.name);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});

describe('createScratchRedis', () => {
  it('claims distinct DBs for concurrent callers, isolates them and cleans up', async () => {
    const [a, b] = await Promise.all([createScratchRedis(), createScratchRedis()]);
    const admin = createClient({ url: testServices().redis });
    admin.on('error', () => {});
    await admin.connect();
    try {
      assert.notEqual(a.db, b.db);
      for (const s of [a, b]) {
        assert.ok(s.db >= 1 && s.db <= 15);
        assert.ok(s.url.endsWith(`/${s.db}`));
        assert.ok(await admin.get(`plinth:testkit:db:${s.db}`), 'claim key present');
      }
      const ca = createClient({ url: a.url });
      ca.on('error', () => {});
      await ca.connect();
      await ca.set('k', 'from-a');
      ca.destroy();
      const cb = createClient({ url: b.url });
      cb.on('error', () => {});
      await cb.connect();
      assert.equal(await cb.get('k'), null, 'DBs are isolated');
      cb.destroy();

      await a.release();
      assert.equal(await admin.get(`plinth:testkit:db:${a.db}`), null, 'claim released');
      await admin.select(a.db);
      assert.equal(await admin.dbSize(), 0, 'released DB flushed');
      await admin.select(0);
      await a.release(); // idempotent

      // A released index can be claimed again.
      const c = await createScratchRedis();
      assert.notEqual(c.db, b.db);
      await c.release();
    } finally {
      await a.release();
      await b.release();
      admin.destroy();
    }
  });
});

describe('scratchAmqpNames', () => {
  it('hands out unique names and deletes the queues and exchanges made with them', async () => {
    const names = scratchAmqpNames('kit');
    const other = scratchAmqpNames('kit');
    assert.notEqual(names.prefix, other.prefix);
    const queue = names.name('jobs');
    const exchange = names.name('events');
    const neverDeclared = names.name();
    assert.equal(queue, `${names.prefix}.jobs`);
    assert.ok(neverDeclared.startsWith(`${names.prefix}.`));

    const conn = await amqp.connect(testServices().amqp);
    conn.on('error', () => {});
    const exists = async (check: (ch: amqp.Channel) => Promise<unknown>): Promise<boolean> => {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      try {
        await check(ch);
        await ch.close();
        return true;
      } catch {
        return false; // 404 closed the channel
      }
    };
    try {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await ch.assertQueue(queue, { durable: false });
      await ch.assertExchange(exchange, 'fanout', { durable: false });
      await ch.close();
      assert.equal(await exists((c) => c.checkQueue(queue)), true);
      assert.equal(await exists((c) => c.checkExchange(exchange)), true);

      await names.cleanup();
      assert.equal(await exists((c) => c.checkQueue(queue)), false, 'queue deleted');
      assert.equal(await exists((c) => c.checkExchange(exchange)), false, 'exchange deleted');
      await names.cleanup(); // nothing left: no error
    } finally {
      await conn.close();
    }
  });
});

describe('createScratchVhost', () => {
  it('isolates a queue name in its own vhost and deletes the vhost with its queues', async () => {
    const vhost = await createScratchVhost('kit');
    const queue = 'same-name-everywhere';
    const inVhost = await amqp.connect(vhost.url);
    inVhost.on('error', () => {});
    try {
      const ch = await inVhost.createChannel();
      await ch.assertQueue(queue, { durable: true });
      await ch.sendToQueue(queue, Buffer.from('x'));
      await ch.close();
    } finally {
      await inVhost.close();
    }
    const outside = await amqp.connect(testServices().amqp);
    outside.on('error', () => {});
    try {
      const ch = await outside.createChannel();
      ch.on('error', () => {});
      await assert.rejects(ch.checkQueue(queue), /NOT_FOUND/, 'the default vhost does not see it');
    } finally {
      await outside.close();
    }
    await vhost.delete();
    await assert.rejects(amqp.connect(vhost.url), 'the vhost is gone');
    await vhost.delete(); // twice: no error
  });
});
