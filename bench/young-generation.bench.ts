// What the example's start flags buy and cost. Its start command (package.json "start",
// the Dockerfile's CMD, the Kubernetes NODE_OPTIONS) caps V8's young generation with
// --max-semi-space-size: without it, the garbage of startup (building the Redis client
// alone allocates about 20 MB that lives only milliseconds) grows the young generation to its
// 32 MB limit, and V8 keeps it that size while the service idles. Each round starts both
// sides fresh against the same real PostgreSQL, Redis and RabbitMQ, reads RSS at ready,
// drives GET /users/:id, then reads RSS again. Rounds alternate who goes first.
// Run: node --import tsx bench/young-generation.bench.ts
import { fileURLToPath } from 'node:url';
import { createScratchPostgresDatabase, createScratchRedis, createScratchVhost, freePort, spawnProcess, type SpawnedProcess } from '@plinth/testkit';
import { autocannon, exampleStartFlags, failLoudly, median, printTable, rssMbOf, type Row } from './lib.js';

const APP_DIR = fileURLToPath(new URL('../apps/example-service/', import.meta.url));
const ROUNDS = Number(process.env['YOUNG_GENERATION_ROUNDS'] ?? 5);
const SECONDS = 5;
const CONNECTIONS = 32;

interface Side {
  readonly subject: string;
  readonly flags: readonly string[];
}

interface Sample {
  readonly rssAtReadyMb: number;
  readonly requestsPerSecond: number;
  readonly rssAfterLoadMb: number;
}

async function measure(side: Side, env: Record<string, string>): Promise<Sample> {
  const port = await freePort();
  const child: SpawnedProcess = spawnProcess({
    args: [...side.flags, 'dist/main.js'],
    cwd: APP_DIR,
    env: { ...env, EXAMPLE_SERVICE_HTTP_PORT: String(port), EXAMPLE_SERVICE_HEALTH_PORT: String(await freePort()) },
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await child.waitForHttp(`${url}/health/ready`, { status: 200, timeoutMs: 60_000 });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${side.subject} has no pid`);
    const rssAtReadyMb = rssMbOf(pid);
    const created = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', email: `ada-${port}-${Date.now()}@example.test` }),
    });
    if (created.status !== 201) throw new Error(`POST /users answered ${created.status}`);
    const { id } = (await created.json()) as { id: string };
    const result = await autocannon({ url: `${url}/users/${id}`, connections: CONNECTIONS, duration: SECONDS });
    if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) throw new Error(`${side.subject}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
    return { rssAtReadyMb, requestsPerSecond: result.requests.average, rssAfterLoadMb: rssMbOf(pid) };
  } finally {
    child.signal('SIGTERM');
    await child.exited;
  }
}

async function main(): Promise<void> {
  const database = await createScratchPostgresDatabase('bench_young');
  const cache = await createScratchRedis();
  const vhost = await createScratchVhost('bench-young');
  const env = {
    EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
    EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
    EXAMPLE_SERVICE_EVENTS_URL: vhost.url,
    EXAMPLE_SERVICE_HTTP_HOST: '127.0.0.1',
    EXAMPLE_SERVICE_LOG_LEVEL: 'warn',
    EXAMPLE_SERVICE_SHUTDOWN_DELAY: '0',
  };
  const flags = exampleStartFlags();
  if (flags.length === 0) throw new Error('the example starts without node flags: nothing to compare');
  const sides: Side[] = [
    { subject: 'node defaults', flags: [] },
    { subject: `start flags (${flags.join(' ')})`, flags },
  ];
  const samples = sides.map(() => [] as Sample[]);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < sides.length; i++) {
        const index = (round + i) % sides.length;
        samples[index]!.push(await measure(sides[index]!, env));
      }
    }
  } finally {
    await vhost.delete();
    await cache.release();
    await database.drop();
  }
  const rows: Row[] = [];
  const metrics: [string, keyof Sample, string][] = [
    ['RSS at ready', 'rssAtReadyMb', 'MB'],
    [`GET /users/:id, ${CONNECTIONS} connections, ${SECONDS} s`, 'requestsPerSecond', 'req/s'],
    ['RSS after that load', 'rssAfterLoadMb', 'MB'],
  ];
  for (const [label, key, unit] of metrics) {
    const baseline = median(samples[0]!.map((s) => s[key]));
    sides.forEach((side, i) => rows.push({ case: label, subject: side.subject, samples: samples[i]!.map((s) => s[key]), unit, ...(i > 0 && { baseline }) }));
  }
  printTable(`The example service with node's defaults vs its start flags (${ROUNDS} rounds, a fresh process per side and round, alternating)`, rows);
}

main().catch(failLoudly);
