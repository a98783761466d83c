// What the plugin, breaker and HTTP metrics cost, same servers, same run, sides alternating:
//   1. The example service's GET /users/:id (a cache hit: HTTP, Redis and, per request, a
//      few metric updates) with EXAMPLE_SERVICE_METRICS on vs off: two processes, keep-alive
//      load from this one; requests per second, and the service process' CPU time per
//      request (from /proc: far less sensitive than throughput to other load on the machine).
//   2. Per operation, in this process, each plugin with {APP}_METRICS on vs off, and its raw
//      client as the reference: CPU time per operation (process.cpuUsage, less sensitive than
//      wall time to other load on a shared machine) with CONCURRENCY operations in flight.
//        redis     .cache.get of a cached key (breaker, command timer, hit counter) vs node-redis GET
//        postgres  .db.execute(select 1) (the instrumented postgres.js client) vs postgres.js
//        rabbitmq  confirmed .publish vs amqplib's confirm channel
// Every answer is checked; any error fails the run (exit 1).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { createApp, type App } from '@plinth/core';
import { postgres as postgresPlugin, type PostgresPlugin } from '@plinth/plugin-postgres';
import { rabbitmq, type RabbitMqPlugin } from '@plinth/plugin-rabbitmq';
import { redis, type RedisPlugin } from '@plinth/plugin-redis';
import {
  createScratchPostgresDatabase,
  createScratchRedis,
  createScratchVhost,
  freePort,
  spawnProcess,
  startKeepAliveLoad,
  type SpawnedProcess,
} from '@plinth/testkit';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { createClient } from 'redis';
import { failLoudly, median, printTable, type Row } from './lib.js';

const RUNS = 7;
const LOAD_MS = 4000;
const LOAD_CONNECTIONS = 8;
const CONCURRENCY = 32;
const OPS = { redis: 20_000, postgres: 5_000, rabbitmq: 3_000 } as const;
const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
const exampleMain = fileURLToPath(new URL('../apps/example-service/src/main.ts', import.meta.url));
const exampleDir = fileURLToPath(new URL('../apps/example-service/', import.meta.url));

type Op = (i: number) => Promise<void>;

/** User + system CPU time of a process so far, in µs, from /proc (clock ticks of 10 ms). */
function processCpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function cpuPerOp(op: Op, count: number): Promise<number> {
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < count) await op(issued++);
  };
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / count;
}

/** Runs each side `RUNS` times, alternating the order, and returns the samples by side. */
async function alternate<T extends string>(sides: readonly T[], measure: (side: T) => Promise<number>): Promise<Record<T, number[]>> {
  const samples = Object.fromEntries(sides.map((s) => [s, [] as number[]])) as Record<T, number[]>;
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) samples[side].push(await measure(side));
  }
  return samples;
}

function pluginApp(metrics: boolean, env: Record<string, string>, plugins: Parameters<typeof createApp>[0]['plugins']): App {
  return createApp({ name: 'bench', plugins, env: { ...env, BENCH_METRICS: String(metrics) }, logDestination: silent });
}

async function exampleThroughput(): Promise<Row[]> {
  const [database, cache, vhost] = await Promise.all([createScratchPostgresDatabase('bench_metrics'), createScratchRedis(), createScratchVhost('bench-metrics')]);
  const services: Record<'metrics on' | 'metrics off', { child: SpawnedProcess; url: string }> = {} as never;
  try {
    for (const side of ['metrics on', 'metrics off'] as const) {
      const port = await freePort();
      const child = spawnProcess({
        args: ['--import', 'tsx', exampleMain],
        cwd: exampleDir,
        env: {
          EXAMPLE_SERVICE_HTTP_PORT: String(port),
          EXAMPLE_SERVICE_HTTP_HOST: '127.0.0.1',
          EXAMPLE_SERVICE_HEALTH_PORT: String(await freePort()),
          EXAMPLE_SERVICE_LOG_LEVEL: 'warn',
          EXAMPLE_SERVICE_METRICS: String(side === 'metrics on'),
          EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
          EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
          EXAMPLE_SERVICE_EVENTS_URL: vhost.url,
        },
      });
      const url = `http://127.0.0.1:${port}`;
      services[side] = { child, url };
      await child.waitForHttp(`${url}/health/ready`, { status: 200, timeoutMs: 60_000 });
    }
    const created = await fetch(`${services['metrics on'].url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', email: `bench-${Date.now()}@example.com` }),
    });
    if (created.status !== 201) throw new Error(`POST /users answered ${created.status}`);
    const { id } = (await created.json()) as { id: number };
    const throughput = { 'metrics off': [] as number[], 'metrics on': [] as number[] };
    const cpu = await alternate(['metrics off', 'metrics on'] as const, async (side) => {
      const pid = services[side].child.pid as number;
      const cpuBefore = processCpuMicros(pid);
      const load = startKeepAliveLoad({ url: `${services[side].url}/users/${id}`, connections: LOAD_CONNECTIONS, maxDurationMs: LOAD_MS });
      await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
      const report = await load.stop();
      const ok = report.byStatus[200] ?? 0;
      if (ok !== report.completed) throw new Error(`${side}: not every answer was 200: ${JSON.stringify(report.byStatus)}`);
      throughput[side].push(ok / (report.durationMs / 1000));
      return (processCpuMicros(pid) - cpuBefore) / ok;
    });
    const title = 'GET /users/:id (cache hit)';
    return [
      { case: `${title}, req/s`, subject: 'metrics off', samples: throughput['metrics off'], unit: 'req/s' },
      { case: `${title}, req/s`, subject: 'metrics on', samples: throughput['metrics on'], unit: 'req/s', baseline: median(throughput['metrics off']) },
      { case: `${title}, service CPU per request`, subject: 'metrics off', samples: cpu['metrics off'], unit: 'µs' },
      { case: `${title}, service CPU per request`, subject: 'metrics on', samples: cpu['metrics on'], unit: 'µs', baseline: median(cpu['metrics off']) },
    ];
  } finally {
    for (const { child } of Object.values(services)) {
      child.signal('SIGTERM');
      await child.exited;
    }
    await Promise.all([vhost.delete(), cache.release(), database.drop()]);
  }
}

async function redisOverhead(): Promise<Row[]> {
  const cache = await createScratchRedis();
  const raw = createClient({ url: cache.url, socket: { reconnectStrategy: false } });
  raw.on('error', failLoudly);
  await raw.connect();
  const apps = { on: pluginApp(true, { BENCH_CACHE_URL: cache.url }, [redis('cache')]), off: pluginApp(false, { BENCH_CACHE_URL: cache.url }, [redis('cache')]) };
  await Promise.all([apps.on.start(), apps.off.start()]);
  try {
    const plugin = (app: App) => app.plugin('cache' as never) as RedisPlugin;
    await plugin(apps.on).cache.set('k', { id: 1 });
    const check = (value: unknown) => {
      if ((value as { id?: number } | undefined)?.id !== 1) throw new Error(`GET answered ${JSON.stringify(value)}`);
    };
    const ops: Record<string, Op> = {
      'raw node-redis': async () => check(JSON.parse((await raw.get('k')) ?? 'null')),
      'plugin, metrics off': async () => check(await plugin(apps.off).cache.get('k')),
      'plugin, metrics on': async () => check(await plugin(apps.on).cache.get('k')),
    };
    for (const op of Object.values(ops)) await cpuPerOp(op, 2000);
    const samples = await alternate(Object.keys(ops), (side) => cpuPerOp(ops[side] as Op, OPS.redis));
    return rowsOf('redis .cache.get (hit), CPU µs/op', samples);
  } finally {
    await Promise.all([apps.on.stop(), apps.off.stop()]);
    await raw.close();
    await cache.release();
  }
}

async function postgresOverhead(): Promise<Row[]> {
  const database = await createScratchPostgresDatabase('bench_metrics_pg');
  const raw = postgres(database.url, { max: 10 });
  const env = { BENCH_DB_URL: database.url, BENCH_DB_POOL_MAX: '10' };
  const apps = { on: pluginApp(true, env, [postgresPlugin('db')]), off: pluginApp(false, env, [postgresPlugin('db')]) };
  await Promise.all([apps.on.start(), apps.off.start()]);
  try {
    const plugin = (app: App) => app.plugin('db' as never) as PostgresPlugin;
    const check = (rows: readonly unknown[]) => {
      if (rows.length !== 1) throw new Error(`select 1 answered ${JSON.stringify(rows)}`);
    };
    const ops: Record<string, Op> = {
      'raw postgres.js': async () => check(await raw`select 1 as one`),
      'plugin, metrics off': async () => check(await plugin(apps.off).db.execute(sql`select 1 as one`)),
      'plugin, metrics on': async () => check(await plugin(apps.on).db.execute(sql`select 1 as one`)),
    };
    for (const op of Object.values(ops)) await cpuPerOp(op, 1000);
    const samples = await alternate(Object.keys(ops), (side) => cpuPerOp(ops[side] as Op, OPS.postgres));
    return rowsOf('postgres select 1, CPU µs/op', samples);
  } finally {
    await Promise.all([apps.on.stop(), apps.off.stop()]);
    await raw.end();
    await database.drop();
  }
}

async function rabbitmqOverhead(): Promise<Row[]> {
  const vhost = await createScratchVhost('bench-metrics-mq');
  const queue = 'bench-metrics';
  const topology = { queues: [{ name: queue }] };
  const env = { BENCH_MQ_URL: vhost.url };
  const apps = { on: pluginApp(true, env, [rabbitmq('mq', { topology })]), off: pluginApp(false, env, [rabbitmq('mq', { topology })]) };
  await Promise.all([apps.on.start(), apps.off.start()]);
  const connection = await amqp.connect(vhost.url);
  const channel = await connection.createConfirmChannel();
  try {
    const plugin = (app: App) => app.plugin('mq' as never) as RabbitMqPlugin;
    const body = { id: 1, name: 'event' };
    const ops: Record<string, Op> = {
      'raw amqplib confirm channel': () =>
        new Promise<void>((resolve, reject) => {
          channel.sendToQueue(queue, Buffer.from(JSON.stringify(body)), { persistent: true, contentType: 'application/json' }, (error) => (error ? reject(error) : resolve()));
        }),
      'plugin, metrics off': async () => void (await plugin(apps.off).sendToQueue(queue, body)),
      'plugin, metrics on': async () => void (await plugin(apps.on).sendToQueue(queue, body)),
    };
    for (const op of Object.values(ops)) await cpuPerOp(op, 500);
    const samples = await alternate(Object.keys(ops), async (side) => {
      const cpu = await cpuPerOp(ops[side] as Op, OPS.rabbitmq);
      await channel.purgeQueue(queue);
      return cpu;
    });
    return rowsOf('rabbitmq confirmed publish, CPU µs/op', samples);
  } finally {
    await connection.close();
    await Promise.all([apps.on.stop(), apps.off.stop()]);
    await vhost.delete();
  }
}

/** Rows with "metrics off" as the baseline of "metrics on", and the raw client as the baseline of both plugin rows' second ratio. */
function rowsOf(title: string, samples: Record<string, number[]>): Row[] {
  const [rawName] = Object.keys(samples).filter((s) => !s.startsWith('plugin'));
  const raw = median(samples[rawName as string] as number[]);
  const off = median(samples['plugin, metrics off'] as number[]);
  return [
    { case: title, subject: rawName as string, samples: samples[rawName as string] as number[], unit: 'µs' },
    { case: title, subject: 'plugin, metrics off (vs raw)', samples: samples['plugin, metrics off'] as number[], unit: 'µs', baseline: raw },
    { case: title, subject: 'plugin, metrics on (vs raw)', samples: samples['plugin, metrics on'] as number[], unit: 'µs', baseline: raw },
    { case: title, subject: 'plugin, metrics on (vs metrics off)', samples: samples['plugin, metrics on'] as number[], unit: 'µs', baseline: off },
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  printTable(
    `Example service, metrics on vs off (${RUNS} runs × ${LOAD_MS / 1000} s per side, ${LOAD_CONNECTIONS} keep-alive connections; req/s: higher is better; the service process' CPU per request from /proc: lower is better)`,
    await exampleThroughput(),
  );
  printTable(`Per-operation CPU time, ${CONCURRENCY} in flight, ${RUNS} runs per side (lower is better; ratio to the row's baseline)`, [
    ...(await redisOverhead()),
    ...(await postgresOverhead()),
    ...(await rabbitmqOverhead()),
  ]);
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

main().then(() => process.exit(0), failLoudly);
