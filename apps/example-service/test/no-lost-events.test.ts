import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import postgres from 'postgres';
import {
  createScratchVhost,
  createScratchPostgresDatabase,
  createScratchRedis,
  freePort,
  requireService,
  serviceAddress,
  startKeepAliveLoad,
  startTcpProxy,
  waitFor,
  type KeepAliveLoad,
  type ScratchVhost,
  type ScratchPostgresDatabase,
  type ScratchRedis,
  type TcpProxy,
} from '@plinth/testkit';
import { USER_CREATED, USER_CREATED_QUEUE, USERS_EXCHANGE } from '../src/events/user-events.js';
import { startService, type RunningService } from './support/service-process.js';

/** Knobs that make outages short to notice and quick to recover from. */
const FAST = {
  EXAMPLE_SERVICE_EVENTS_HEARTBEAT: '1s',
  EXAMPLE_SERVICE_EVENTS_RECONNECT_DELAY: '100',
  EXAMPLE_SERVICE_EVENTS_RECONNECT_MAX_DELAY: '1000',
  EXAMPLE_SERVICE_USER_EVENTS_PUBLISH_TIMEOUT: '1000',
  EXAMPLE_SERVICE_PRIMARY_DB_CONNECT_TIMEOUT: '1000',
  EXAMPLE_SERVICE_HEALTH_DETAILS: 'always',
};

/** `POST /users` in keep-alive loops, each with a fresh email; remembers every id a 201 acknowledged. */
function createUsersUnderLoad(url: string, acknowledged: Set<number>): KeepAliveLoad {
  const run = randomUUID().slice(0, 8);
  let n = 0;
  return startKeepAliveLoad({
    url: `${url}/users`,
    connections: 4,
    nextRequest: () => ({
      method: 'POST',
      path: '/users',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Load', email: `load-${run}-${n++}@example.com` }),
    }),
    onResult: ({ status, body }) => {
      if (status === 201 && body !== undefined) acknowledged.add((JSON.parse(body) as { id: number }).id);
    },
    // Each test stops its load; this cap only ends a forgotten one. A test restarts the service
    // up to four times, which takes well over a minute on a busy machine.
    maxDurationMs: 170_000,
    backoffMs: 50,
  });
}

/** Users with how many welcomes (the consumer's effect) each has, and welcomes for no user. */
async function welcomesPerUser(sql: postgres.Sql): Promise<{ perUser: Map<number, number>; orphans: number }> {
  const rows = await sql<{ id: number; welcomes: number }[]>`
    select u.id, count(w.id)::int as welcomes from users u left join welcomed_users w on w.user_id = u.id group by u.id`;
  const [orphans] = await sql<{ n: number }[]>`select count(*)::int as n from welcomed_users w where not exists (select 1 from users u where u.id = w.user_id)`;
  return { perUser: new Map(rows.map((r) => [r.id, r.welcomes])), orphans: orphans?.n ?? 0 };
}

async function everyUserWelcomedOnce(sql: postgres.Sql): Promise<boolean> {
  const { perUser } = await welcomesPerUser(sql);
  return [...perUser.values()].every((n) => n === 1);
}

function viaProxy(url: string, proxy: TcpProxy): string {
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  return proxied.toString();
}

describe('no lost events: user.created through the outbox, on the real servers', () => {
  let database: ScratchPostgresDatabase;
  let cache: ScratchRedis;
  let vhost: ScratchVhost | undefined;
  let sql: postgres.Sql;

  before(async () => {
    await requireService('postgres');
    await requireService('redis');
    await requireService('rabbitmq');
    [database, cache] = await Promise.all([createScratchPostgresDatabase('lost_events'), createScratchRedis()]);
    sql = postgres(database.url, { max: 2, onnotice: () => undefined });
  });
  after(async () => {
    await sql?.end({ timeout: 1 });
    await Promise.all([database?.drop(), cache?.release(), vhost?.delete()]);
  });

  /**
   * A fresh database schema and a fresh vhost per test. A test ends with the service stopped,
   * not with its queues drained: a redelivered copy left behind would reach the next test's
   * consumer after its schema (and the record of what was processed) was dropped.
   */
  async function reset(): Promise<ScratchVhost> {
    await vhost?.delete();
    vhost = await createScratchVhost('lost-events');
    await sql`drop schema if exists public cascade`;
    await sql`drop schema if exists plinth cascade`;
    await sql`drop schema if exists drizzle cascade`;
    await sql`create schema public`;
    return vhost;
  }

  it('SIGKILL three times under POST /users load: every acknowledged user, and every user in the table, is welcomed exactly once', async () => {
    const vhost = await reset();
    const port = String(await freePort());
    const env = {
      ...FAST,
      EXAMPLE_SERVICE_HTTP_PORT: port,
      EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: vhost.url,
    };
    let service: RunningService = await startService(env);
    const acknowledged = new Set<number>();
    const load = createUsersUnderLoad(service.url, acknowledged);
    try {
      for (let kill = 1; kill <= 3; kill++) {
        const target = acknowledged.size + 30;
        await waitFor(() => acknowledged.size >= target, { timeoutMs: 30_000, message: `30 more users acknowledged before kill ${kill}` });
        await service.process.kill();
        service = await startService(env);
      }
      const target = acknowledged.size + 30;
      await waitFor(() => acknowledged.size >= target, { timeoutMs: 30_000, message: 'users acknowledged after the last restart' });
      await load.stop();
      await waitFor(() => everyUserWelcomedOnce(sql), { timeoutMs: 30_000, intervalMs: 250, message: 'every user welcomed' });
      const { perUser, orphans } = await welcomesPerUser(sql);
      for (const id of acknowledged) assert.equal(perUser.get(id), 1, `acknowledged user ${id} is in the table and welcomed once`);
      assert.ok([...perUser.values()].every((n) => n === 1), 'every user in the table welcomed exactly once (none missing, none twice)');
      assert.equal(orphans, 0);
      assert.ok(perUser.size >= acknowledged.size);
    } finally {
      await load.stop();
      service.process.signal('SIGTERM');
      await service.process.exited;
    }
  });

  it('broker cut for 15 s under load: every POST answers 201, health is degraded with a growing backlog, then every event arrives once', async () => {
    const vhost = await reset();
    const { host, port } = serviceAddress('rabbitmq');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const service = await startService({
      ...FAST,
      EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: viaProxy(vhost.url, proxy),
    });
    const acknowledged = new Set<number>();
    const load = createUsersUnderLoad(service.url, acknowledged);
    const samples: { status: string; outbox: string | undefined; backlog: number }[] = [];
    try {
      await waitFor(() => acknowledged.size >= 50, { timeoutMs: 10_000, message: 'load running' });
      await proxy.cut();
      const cutUntil = Date.now() + 15_000;
      while (Date.now() < cutUntil) {
        const health = (await (await fetch(`${service.url}/health`)).json()) as { status: string; checks: Record<string, { status: string }> };
        const metrics = await (await fetch(`${service.url}/metrics`)).text();
        const backlog = Number(/plinth_outbox_backlog\{plugin="outbox",prefix="user_events",app="example-service"\} (\d+)/.exec(metrics)?.[1] ?? -1);
        samples.push({ status: health.status, outbox: health.checks['user_events']?.status, backlog });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      await proxy.restore();
      const target = acknowledged.size + 50;
      await waitFor(() => acknowledged.size >= target, { timeoutMs: 10_000, message: 'load continues after the cut' });
      const report = await load.stop();
      assert.deepEqual(Object.keys(report.byStatus), ['201'], `every POST answered 201: ${JSON.stringify(report.byStatus)}`);
      assert.equal(report.otherErrors + report.resetOnReusedSocket + report.resetOnNewSocket + report.refused, 0);

      const late = samples.slice(-5);
      assert.ok(late.every((s) => s.status === 'degraded' && s.outbox === 'down'), `health degraded during the cut: ${JSON.stringify(late)}`);
      const backlogs = samples.map((s) => s.backlog);
      assert.ok(backlogs.at(-1)! > backlogs[2]! && backlogs[2]! > 0, `backlog grows during the cut: ${backlogs.join(', ')}`);

      await waitFor(() => everyUserWelcomedOnce(sql), { timeoutMs: 30_000, intervalMs: 250, message: 'every event consumed after the cut' });
      const { perUser, orphans } = await welcomesPerUser(sql);
      for (const id of acknowledged) assert.equal(perUser.get(id), 1, `user ${id} welcomed once`);
      assert.equal(orphans, 0);
    } finally {
      await load.stop();
      await proxy.restore();
      service.process.signal('SIGTERM');
      await service.process.exited;
      await proxy.close();
    }
  });

  it('PostgreSQL cut for 5 s while events arrive: none is dead-lettered, each is handled once after the cut', async () => {
    const vhost = await reset();
    const { host, port } = serviceAddress('postgres');
    const proxy = await startTcpProxy({ targetHost: host, targetPort: port });
    const service = await startService({
      ...FAST,
      EXAMPLE_SERVICE_PRIMARY_DB_URL: viaProxy(database.url, proxy),
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: vhost.url,
    });
    const connection = await amqplib.connect(vhost.url);
    const channel = await connection.createConfirmChannel();
    const sent: string[] = [];
    const publish = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const messageId = randomUUID();
        const userId = 1_000_000 + sent.length;
        sent.push(messageId);
        channel.publish(USERS_EXCHANGE, USER_CREATED, Buffer.from(JSON.stringify({ userId, email: `u${userId}@example.com` })), {
          messageId,
          contentType: 'application/json',
          persistent: true,
        });
      }
      await channel.waitForConfirms();
    };
    try {
      await publish(20);
      await proxy.cut();
      // Events keep arriving through the outage, every 250 ms.
      for (let tick = 0; tick < 20; tick++) {
        await publish(10);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await proxy.restore();
      await publish(20);
      await waitFor(
        async () => {
          const [row] = await sql<{ n: number }[]>`select count(distinct message_id)::int as n from welcomed_users where message_id = any(${sent})`;
          return row?.n === sent.length;
        },
        { timeoutMs: 30_000, intervalMs: 250, message: 'every event handled after the cut' },
      );
      const rows = await sql<{ message_id: string; n: number }[]>`select message_id, count(*)::int as n from welcomed_users group by message_id`;
      assert.deepEqual(new Set(rows.map((r) => r.message_id)), new Set(sent));
      assert.ok(rows.every((r) => r.n === 1), 'each handled once');
      const dlq = await channel.checkQueue(`${USER_CREATED_QUEUE}.dlq`);
      assert.equal(dlq.messageCount, 0, 'nothing dead-lettered');
    } finally {
      await channel.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await proxy.restore();
      service.process.signal('SIGTERM');
      await service.process.exited;
      await proxy.close();
    }
  });
});
