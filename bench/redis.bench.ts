// GET and SET through the redis plugin's `.cache` facade vs a raw node-redis client, same
// server, same run; sides alternate run by run. Subjects:
//   raw node-redis      client.get / client.set on a plain client with default options, JSON
//                       encoded and keys prefixed by hand (the baseline: what you would write
//                       without plinth)
//   raw, timeout off    the same with `commandOptions: { timeout: 0 }`: node-redis' default
//                       5 s command timeout costs an AbortSignal.timeout per command
//   plugin .cache       the facade: availability check, KEY_PREFIX, JSON codec, COMMAND_TIMEOUT
//                       (one deadline timer per connection)
// Latency: one command at a time (median and p99 per run). Throughput: CONCURRENCY callers
// in a loop for a fixed number of commands, with this process' CPU time per command (less
// sensitive than wall time to other load on a shared machine). The order of the sides flips
// every run. Every GET answer is checked; any error fails the run (exit 1), so a broken side
// cannot pass as a fast one.
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { createApp } from '@plinth/core';
import { redis, type RedisPlugin } from '@plinth/plugin-redis';
import { createClient } from 'redis';
import { failLoudly, median, printTable, type Row } from './lib.js';

const URL = process.env['TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';
const KEY_PREFIX = 'plinth-bench:';
const KEYS = 100;
const RUNS = 8;
const LATENCY_COMMANDS = 2_000;
const THROUGHPUT_COMMANDS = 20_000;
const CONCURRENCY = 32;
const WARMUP_COMMANDS = 2_000;
const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

interface Value {
  readonly id: number;
  readonly name: string;
  readonly tags: readonly string[];
}
const valueOf = (i: number): Value => ({ id: i, name: `user ${i}`, tags: ['a', 'b', 'c'] });
const keyOf = (i: number): string => `user:${i % KEYS}`;

type Command = (i: number) => Promise<void>;
interface Subject {
  readonly name: string;
  readonly get: Command;
  readonly set: Command;
}

function check(i: number, value: Value | undefined): void {
  if (value?.id !== i % KEYS) throw new Error(`GET ${keyOf(i)} answered ${JSON.stringify(value)}`);
}

async function latencyRun(command: Command): Promise<{ median: number; p99: number }> {
  const samples = new Float64Array(LATENCY_COMMANDS);
  for (let i = 0; i < LATENCY_COMMANDS; i++) {
    const started = performance.now();
    await command(i);
    samples[i] = (performance.now() - started) * 1000;
  }
  samples.sort();
  return { median: median([...samples]), p99: samples[Math.floor(LATENCY_COMMANDS * 0.99)] as number };
}

async function throughputRun(command: Command): Promise<{ opsPerSecond: number; cpuMicrosPerOp: number }> {
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < THROUGHPUT_COMMANDS) await command(issued++);
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { opsPerSecond: THROUGHPUT_COMMANDS / (elapsed / 1000), cpuMicrosPerOp: (used.user + used.system) / THROUGHPUT_COMMANDS };
}

async function main(): Promise<void> {
  const raw = createClient({ url: URL, socket: { reconnectStrategy: false } });
  const untimed = createClient({ url: URL, socket: { reconnectStrategy: false }, commandOptions: { timeout: 0 } });
  for (const client of [raw, untimed]) {
    client.on('error', failLoudly);
    await client.connect();
  }
  const app = createApp({
    name: 'bench',
    plugins: [redis('bench_cache')],
    env: { BENCH_BENCH_CACHE_URL: URL, BENCH_BENCH_CACHE_KEY_PREFIX: KEY_PREFIX },
    logDestination: silent,
  });
  await app.start();
  const plugin = app.plugin('bench_cache') as RedisPlugin;
  if (plugin.embedded || app.state !== 'ready') throw new Error(`plugin not on Redis (embedded ${plugin.embedded}, app ${app.state})`);

  const byHand = (name: string, client: typeof raw): Subject => ({
    name,
    get: async (i) => {
      const text = await client.get(KEY_PREFIX + keyOf(i));
      check(i, text === null ? undefined : (JSON.parse(text) as Value));
    },
    set: async (i) => void (await client.set(KEY_PREFIX + keyOf(i), JSON.stringify(valueOf(i % KEYS)))),
  });
  const subjects: Subject[] = [
    byHand('raw node-redis', raw),
    byHand('raw, timeout off', untimed),
    {
      name: 'plugin .cache',
      get: async (i) => check(i, await plugin.cache.get<Value>(keyOf(i))),
      set: (i) => plugin.cache.set(keyOf(i), valueOf(i % KEYS)),
    },
  ];

  try {
    for (const subject of subjects) {
      for (let i = 0; i < WARMUP_COMMANDS; i++) await subject.set(i);
      for (let i = 0; i < WARMUP_COMMANDS; i++) await subject.get(i);
    }
    const series = () => subjects.map(() => ({ median: [] as number[], p99: [] as number[], ops: [] as number[], cpu: [] as number[] }));
    const results = { get: series(), set: series() };
    for (let run = 0; run < RUNS; run++) {
      // Neither side always runs first, so drift hits all alike.
      const order = run % 2 === 0 ? [...subjects.keys()] : [...subjects.keys()].reverse();
      for (const op of ['set', 'get'] as const) {
        for (const s of order) {
          const result = results[op][s]!;
          const latency = await latencyRun(subjects[s]![op]);
          result.median.push(latency.median);
          result.p99.push(latency.p99);
          const throughput = await throughputRun(subjects[s]![op]);
          result.ops.push(throughput.opsPerSecond);
          result.cpu.push(throughput.cpuMicrosPerOp);
        }
      }
    }

    const rows: Row[] = [];
    for (const op of ['get', 'set'] as const) {
      const name = op.toUpperCase();
      for (const [measure, pick, unit] of [
        ['latency median', (s: number) => results[op][s]!.median, 'µs'],
        ['latency p99', (s: number) => results[op][s]!.p99, 'µs'],
        [`throughput (${CONCURRENCY} in flight)`, (s: number) => results[op][s]!.ops, 'ops/s'],
        [`CPU per command (${CONCURRENCY} in flight)`, (s: number) => results[op][s]!.cpu, 'µs'],
      ] as const) {
        const baseline = median(pick(0));
        for (const [s, subject] of subjects.entries()) {
          rows.push({ case: `${name} ${measure}`, subject: subject.name, samples: pick(s), unit, ...(s > 0 ? { baseline } : {}) });
        }
      }
    }
    printTable(`Redis GET/SET through .cache vs raw node-redis (${RUNS} runs; ratio to raw of the same case)`, rows);
    const cache = subjects.length - 1;
    const ratio = (op: 'get' | 'set', key: 'ops' | 'median' | 'cpu') =>
      (median(results[op][cache]![key]) / median(results[op][0]![key])).toFixed(2);
    console.log(
      `\n.cache vs raw node-redis — throughput: GET ${ratio('get', 'ops')}×, SET ${ratio('set', 'ops')}×; ` +
        `median latency: GET ${ratio('get', 'median')}×, SET ${ratio('set', 'median')}×; ` +
        `CPU per command: GET ${ratio('get', 'cpu')}×, SET ${ratio('set', 'cpu')}×`,
    );
  } finally {
    await plugin.client.del(Array.from({ length: KEYS }, (_, i) => KEY_PREFIX + keyOf(i)));
    await app.stop();
    raw.destroy();
    untimed.destroy();
  }
}

main().catch(failLoudly);
