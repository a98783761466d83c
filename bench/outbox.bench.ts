// The outbox against the write-then-publish it replaces, same servers, same run.
//   1. Commit-to-consume latency: a row and its event committed through the outbox (the
//      relay, woken by NOTIFY, publishes with confirms) vs the row committed and then
//      published directly with a confirmed publish. Same pace, same consumer (plain
//      amqplib, no ack), sides alternating run by run; p50 and p99 per side.
//   2. POST /users throughput on node:http over keep-alive connections: user + outbox row
//      in one transaction vs user insert then a confirmed publish (the old way) vs the
//      insert alone (no event at all). Sides alternate; every answer must be 201.
//   3. Relay processes draining one backlog: two with rows claimed FOR UPDATE SKIP LOCKED
//      vs two where one at a time publishes under an advisory lock, one relay as the
//      reference; and how the two shared the work. Every event must arrive exactly once
//      (no duplicate while both live), or the benchmark fails.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import amqp from 'amqplib';
import { createApp, type App } from '@plinth/core';
import { outbox, rowsOf, type ClaimMode, type OutboxPlugin } from '@plinth/outbox';
import { postgres as postgresPlugin, type PostgresPlugin } from '@plinth/plugin-postgres';
import postgres from 'postgres';
import { rabbitmq, type RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import { createScratchPostgresDatabase, freePort, scratchAmqpNames, spawnProcess, startKeepAliveLoad } from '@plinth/testkit';
import { sql } from 'drizzle-orm';
import { failLoudly, median, printTable, type Row } from './lib.js';

const AMQP = process.env['TEST_AMQP_URL'] || 'amqp://guest:guest@127.0.0.1:5672';
const RUNS = 5;
const LATENCY_EVENTS = 400;
const WRITERS = 4;
const WRITER_PAUSE_MS = 10;
const THROUGHPUT_MS = 4_000;
const CONNECTIONS = 16;
const BACKLOG = 6_000;
const RELAY_FIXTURE = fileURLToPath(new URL('./fixtures/outbox-relay.ts', import.meta.url));
const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

interface Harness {
  readonly app: App;
  readonly db: PostgresPlugin;
  readonly mq: RabbitMqPlugin;
  readonly outbox: OutboxPlugin;
}

function harness(dbUrl: string, exchange: string, queue: string, claim: ClaimMode = 'skip-locked', relay = true): Harness {
  const app = createApp({
    name: 'bench',
    plugins: [
      postgresPlugin('db', { settings: { poolMax: 20 } }),
      rabbitmq('mq', { topology: { exchanges: [{ name: exchange, type: 'topic' }], queues: [{ name: queue, bindings: [{ exchange, routingKey: '#' }], deadLetter: false }] } }),
      outbox('events', { db: 'db', broker: 'mq', exchange, claim }),
    ],
    env: {
      BENCH_DB_URL: dbUrl,
      BENCH_MQ_URL: AMQP,
      BENCH_LOG_LEVEL: 'warn',
      BENCH_EVENTS_BATCH_SIZE: '200',
      // A relay that must not relay (the direct-publish sides) polls once an hour and is never notified of rows.
      ...(relay ? {} : { BENCH_EVENTS_POLL_INTERVAL: '3600000' }),
    },
    logDestination: silent,
  });
  return {
    app,
    get db() {
      return app.plugin('db') as PostgresPlugin;
    },
    get mq() {
      return app.plugin('mq') as RabbitMqPlugin;
    },
    get outbox() {
      return app.plugin('events') as OutboxPlugin;
    },
  };
}

/** A plain consumer: each delivery's arrival time by message id, duplicates counted. */
async function consumer(queue: string): Promise<{ arrivals: Map<string, number>; duplicates: () => number; close(): Promise<void> }> {
  const connection = await amqp.connect(AMQP);
  const channel = await connection.createChannel();
  const arrivals = new Map<string, number>();
  let duplicates = 0;
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const id = String(message.properties.messageId);
      if (arrivals.has(id)) duplicates += 1;
      else arrivals.set(id, performance.now());
    },
    { noAck: true },
  );
  return { arrivals, duplicates: () => duplicates, close: async () => void (await connection.close()) };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

type Writer = (n: number) => Promise<string>;

/** WRITERS loops write LATENCY_EVENTS events at a steady pace; returns commit times by message id. */
async function paced(write: Writer): Promise<Map<string, number>> {
  const committed = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < LATENCY_EVENTS) {
        const id = await write(next++);
        committed.set(id, performance.now());
        await new Promise((resolve) => setTimeout(resolve, WRITER_PAUSE_MS));
      }
    }),
  );
  return committed;
}

async function main(): Promise<void> {
  const scratch = await createScratchPostgresDatabase('bench_outbox');
  const names = scratchAmqpNames('bench-outbox');
  const exchange = names.name('x');
  const queue = names.name('q');
  const side = harness(scratch.url, exchange, queue);
  await side.app.start();
  const { db, mq, outbox: box } = side;
  await db.db.execute(sql`create table bench_users (id integer generated always as identity primary key, email text not null unique)`);
  const sink = await consumer(queue);

  const insertUser = (tx: { execute: PostgresPlugin['db']['execute'] }, email: string) =>
    tx.execute(sql`insert into bench_users (email) values (${email}) returning id`);
  const viaOutbox: Writer = (n) =>
    db.transaction(async (tx) => {
      const [user] = rowsOf<{ id: number }>(await insertUser(tx, `o-${randomUUID()}-${n}@x.io`));
      return box.add(tx, 'user.created', { userId: user?.id, n }, { key: `user:${user?.id}` });
    });
  const direct: Writer = async (n) => {
    const id = randomUUID();
    const userId = await db.transaction(async (tx) => rowsOf<{ id: number }>(await insertUser(tx, `d-${id}-${n}@x.io`))[0]?.id);
    const committedAt = performance.now();
    await mq.publish(exchange, 'user.created', { userId, n }, { messageId: id });
    // The commit time is the one that counts: the publish wait is part of the latency.
    directCommits.set(id, committedAt);
    return id;
  };
  const directCommits = new Map<string, number>();

  // 1. Latency.
  const latency: Record<string, { p50: number[]; p99: number[] }> = { outbox: { p50: [], p99: [] }, direct: { p50: [], p99: [] } };
  for (let run = 0; run < RUNS; run++) {
    for (const [name, write] of run % 2 ? ([['direct', direct], ['outbox', viaOutbox]] as const) : ([['outbox', viaOutbox], ['direct', direct]] as const)) {
      sink.arrivals.clear();
      directCommits.clear();
      const committed = await paced(write);
      await until(() => [...committed.keys()].every((id) => sink.arrivals.has(id)), 30_000, `${name} events`);
      const commits = name === 'direct' ? directCommits : committed;
      const samples = [...commits].map(([id, at]) => (sink.arrivals.get(id) as number) - at);
      latency[name]!.p50.push(percentile(samples, 50));
      latency[name]!.p99.push(percentile(samples, 99));
    }
  }
  const directP50 = median(latency['direct']!.p50);
  const directP99 = median(latency['direct']!.p99);
  printTable(`commit-to-consume latency, ${LATENCY_EVENTS} events per run at ${WRITERS} writers pausing ${WRITER_PAUSE_MS} ms (medians of ${RUNS} runs)`, [
    { case: 'p50', subject: 'direct confirmed publish after commit', samples: latency['direct']!.p50, unit: 'ms' },
    { case: 'p50', subject: 'outbox (NOTIFY-woken relay, confirms)', samples: latency['outbox']!.p50, unit: 'ms', baseline: directP50 },
    { case: 'p99', subject: 'direct confirmed publish after commit', samples: latency['direct']!.p99, unit: 'ms' },
    { case: 'p99', subject: 'outbox (NOTIFY-woken relay, confirms)', samples: latency['outbox']!.p99, unit: 'ms', baseline: directP99 },
  ]);

  // 2. POST /users throughput.
  const servers = new Map<string, { port: number; close: () => void }>();
  const handlers: Record<string, (email: string) => Promise<unknown>> = {
    'insert, then confirmed publish (no outbox)': (email) =>
      db.transaction((tx) => insertUser(tx, email)).then((r) => mq.publish(exchange, 'user.created', { userId: rowsOf<{ id: number }>(r)[0]?.id })),
    'insert + outbox row, one transaction': (email) =>
      db.transaction(async (tx) => {
        const [user] = rowsOf<{ id: number }>(await insertUser(tx, email));
        await box.add(tx, 'user.created', { userId: user?.id }, { key: `user:${user?.id}` });
      }),
    'insert only (no event)': (email) => db.transaction((tx) => insertUser(tx, email)),
  };
  for (const [name, handle] of Object.entries(handlers)) {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { email } = JSON.parse(Buffer.concat(chunks).toString()) as { email: string };
        handle(email).then(
          () => res.writeHead(201, { 'content-type': 'application/json' }).end('{}'),
          (error: unknown) => failLoudly(error),
        );
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    servers.set(name, { port, close: () => server.close() });
  }
  const throughput = new Map<string, number[]>(Object.keys(handlers).map((n) => [n, []]));
  for (let run = 0; run < RUNS; run++) {
    const order = Object.keys(handlers);
    for (let k = 0; k < order.length; k++) {
      const name = order[(k + run) % order.length] as string;
      let n = 0;
      const load = startKeepAliveLoad({
        url: `http://127.0.0.1:${servers.get(name)!.port}/users`,
        connections: CONNECTIONS,
        nextRequest: () => ({
          method: 'POST',
          path: '/users',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: `t-${run}-${k}-${n++}-${randomUUID()}@x.io` }),
        }),
        maxDurationMs: THROUGHPUT_MS,
      });
      const report = await load.done;
      if (Object.keys(report.byStatus).some((s) => s !== '201') || report.otherErrors > 0) failLoudly(new Error(`${name}: ${JSON.stringify(report)}`));
      throughput.get(name)!.push((report.byStatus[201] ?? 0) / (report.durationMs / 1000));
      // Let the relay catch up so the next side does not pay for this one's backlog.
      while ((await box.backlog()).pending > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  for (const server of servers.values()) server.close();
  const noOutbox = median(throughput.get('insert, then confirmed publish (no outbox)')!);
  printTable(`POST /users throughput, ${CONNECTIONS} keep-alive connections, ${THROUGHPUT_MS / 1000} s per run (medians of ${RUNS} runs)`, [
    ...[...throughput].map(([name, samples]): Row => ({
      case: 'requests/s',
      subject: name,
      samples,
      unit: '/s',
      ...(name.startsWith('insert, then') ? {} : { baseline: noOutbox }),
    })),
  ]);
  await sink.close();
  await side.app.stop();

  // 3. Relay processes draining a backlog: one, then two per claim mode.
  const admin = postgres(scratch.url, { max: 1, onnotice: () => undefined });
  const drain: Record<string, number[]> = {};
  const shares: Record<string, number[]> = {};
  const modes = [
    ['one relay', 1, 'skip-locked'],
    ['two relays, FOR UPDATE SKIP LOCKED', 2, 'skip-locked'],
    ['two relays, advisory-lock leader', 2, 'advisory-lock'],
  ] as const;
  for (let run = 0; run < RUNS; run++) {
    for (let m = 0; m < modes.length; m++) {
      const [name, relays, claim] = modes[(m + run) % modes.length]!;
      await admin`truncate plinth.events`;
      const drainSink = await consumer(queue);
      const children = Array.from({ length: relays }, () =>
        spawnProcess({
          args: ['--import', 'tsx', RELAY_FIXTURE],
          env: { RELAY_DB_URL: scratch.url, RELAY_MQ_URL: AMQP, OUTBOX_BENCH_EXCHANGE: exchange, OUTBOX_BENCH_CLAIM: claim, RELAY_LOG_LEVEL: 'warn', RELAY_EVENTS_BATCH_SIZE: '200' },
        }),
      );
      await Promise.all(children.map((c) => c.waitForLine(/"ready":true/, 60_000)));
      // The whole backlog in one commit: one NOTIFY wakes every relay at once.
      await admin`insert into plinth.events (message_id, exchange, routing_key, payload)
                  select gen_random_uuid(), ${exchange}, 'user.created', json_build_object('j', g) from generate_series(1, ${BACKLOG}) g`;
      const started = performance.now();
      await until(() => drainSink.arrivals.size >= BACKLOG, 120_000, `${name} drain`);
      const seconds = (performance.now() - started) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (drainSink.duplicates() > 0) failLoudly(new Error(`${name}: ${drainSink.duplicates()} events delivered twice`));
      for (const child of children) child.signal('SIGTERM');
      const counts = await Promise.all(
        children.map(async (c) => {
          await c.exited;
          const line = c.lines.find((l) => typeof l === 'object' && 'published' in l) as { published: number } | undefined;
          return line?.published ?? 0;
        }),
      );
      (drain[name] ??= []).push(BACKLOG / seconds);
      if (relays === 2) (shares[name] ??= []).push(Math.min(...counts) / BACKLOG);
      await drainSink.close();
    }
  }
  const one = median(drain['one relay']!);
  printTable(`draining a backlog of ${BACKLOG} events, each relay a process of its own (medians of ${RUNS} runs; no event arrived twice)`, [
    ...Object.entries(drain).map(([name, samples]): Row => ({ case: 'events/s', subject: name, samples, unit: '/s', ...(name === 'one relay' ? {} : { baseline: one }) })),
  ]);
  console.log('');
  for (const [name, samples] of Object.entries(shares)) {
    console.log(`- ${name}: the less busy relay published ${(median(samples) * 100).toFixed(1)} % of the events (median; range ${(Math.min(...samples) * 100).toFixed(1)}–${(Math.max(...samples) * 100).toFixed(1)} %)`);
  }

  await admin.end();
  await names.cleanup();
  await scratch.drop();
}

main().then(() => process.exit(0), failLoudly);
