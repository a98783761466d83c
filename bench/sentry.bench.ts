// Request throughput of the example service with error tracking on vs off, same servers,
// same run. "On" is how a deployment turns it on: the preload
// (`node --import @plinth/plugin-sentry/preload`), a DSN (here a local envelope server),
// SAMPLE_RATE 1, TRACES_SAMPLE_RATE 0. A third side has the DSN but no preload (the SDK
// initialised by the plugin, after the modules loaded). The requests succeed, so what is
// measured is the SDK's cost per request (scope isolation, instrumentation), not sending.
// Each side is the built service (dist/main.js) in its own process, against real
// PostgreSQL, Redis and RabbitMQ; rounds alternate sides so drift hits both alike.
// Run: node --import tsx bench/sentry.bench.ts   (exits non-zero if any side errors)
import { fileURLToPath } from 'node:url';
import {
  createScratchPostgresDatabase,
  createScratchRedis,
  freePort,
  requireService,
  spawnProcess,
  startSentryEnvelopeServer,
  type SpawnedProcess,
} from '@plinth/testkit';
import { autocannon, failLoudly, median, printTable, type Row } from './lib.js';


const APP_DIR = fileURLToPath(new URL('../apps/example-service/', import.meta.url));
const ROUNDS = 7;
const SECONDS = 5;
const CONNECTIONS = 32;

type Side = 'off' | 'on' | 'plugin';
const SIDES: readonly Side[] = ['off', 'on', 'plugin'];

async function startService(side: Side, env: Record<string, string>): Promise<{ child: SpawnedProcess; url: string }> {
  const port = await freePort();
  const child = spawnProcess({
    args: [...(side === 'on' ? ['--import', '@plinth/plugin-sentry/preload'] : []), 'dist/main.js'],
    cwd: APP_DIR,
    env: {
      ...env,
      EXAMPLE_SERVICE_HTTP_PORT: String(port),
      EXAMPLE_SERVICE_HTTP_HOST: '127.0.0.1',
      EXAMPLE_SERVICE_HEALTH_PORT: String(await freePort()),
      EXAMPLE_SERVICE_LOG_LEVEL: 'warn',
      EXAMPLE_SERVICE_SHUTDOWN_DELAY: '0',
      ...(side === 'off' && { EXAMPLE_SERVICE_ERROR_TRACKING_DSN: undefined }),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await child.waitForHttp(`${url}/health/ready`, { status: 200, timeoutMs: 60_000 });
  return { child, url };
}

async function cannon(url: string): Promise<number> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`);
  }
  return result.requests.average;
}

async function main(): Promise<void> {
  const [amqpUrl] = await Promise.all([requireService('rabbitmq'), requireService('postgres'), requireService('redis')]);
  const database = await createScratchPostgresDatabase('bench_sentry');
  const cache = await createScratchRedis();
  const ingest = await startSentryEnvelopeServer();
  const env = {
    EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
    EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
    EXAMPLE_SERVICE_EVENTS_URL: amqpUrl,
    EXAMPLE_SERVICE_ERROR_TRACKING_DSN: ingest.dsn(),
    EXAMPLE_SERVICE_ERROR_TRACKING_SAMPLE_RATE: '1',
    EXAMPLE_SERVICE_ERROR_TRACKING_TRACES_SAMPLE_RATE: '0',
    PLINTH_SENTRY_APP: 'example-service',
  };
  const services = { off: await startService('off', env), on: await startService('on', env), plugin: await startService('plugin', env) };
  try {
    // One user to read: GET /users/:id is the service's hot path (a cache hit after the first read).
    const created = await fetch(`${services.off.url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', email: `ada-${Date.now()}@example.com` }),
    });
    if (created.status !== 201) throw new Error(`POST /users answered ${created.status}`);
    const { id } = (await created.json()) as { id: number };
    const samples: Record<Side, number[]> = { off: [], on: [], plugin: [] };
    for (const side of SIDES) await cannon(`${services[side].url}/users/${id}`); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate who goes first, so drift within a round hits every side alike.
      for (let i = 0; i < SIDES.length; i++) {
        const side = SIDES[(round + i) % SIDES.length]!;
        samples[side].push(await cannon(`${services[side].url}/users/${id}`));
      }
    }
    const baseline = median(samples.off);
    const rows: Row[] = [
      { case: `GET /users/:id, ${CONNECTIONS} connections`, subject: 'Sentry off (no DSN)', samples: samples.off, unit: 'req/s' },
      { case: `GET /users/:id, ${CONNECTIONS} connections`, subject: 'Sentry on (preload, SAMPLE_RATE 1, TRACES_SAMPLE_RATE 0)', samples: samples.on, unit: 'req/s', baseline },
      { case: `GET /users/:id, ${CONNECTIONS} connections`, subject: 'Sentry on without the preload (same settings)', samples: samples.plugin, unit: 'req/s', baseline },
    ];
    printTable(`Example service throughput with error tracking on vs off (${ROUNDS} × ${SECONDS} s per side, alternating, autocannon)`, rows);
    const perRound = (side: Side) => samples[side].map((value) => value.toFixed(0)).join(', ');
    console.log(`\nPer round (req/s): off ${perRound('off')}; on ${perRound('on')}; without preload ${perRound('plugin')}.`);
    console.log(`Throughput ratio on/off: ${(median(samples.on) / baseline).toFixed(3)}; envelopes received during the run: ${ingest.items.map((item) => item.type).join(', ') || 'none'}`);
  } finally {
    for (const { child } of Object.values(services)) {
      child.signal('SIGTERM');
      await child.exited;
    }
    await ingest.close();
    await cache.release();
    await database.drop();
  }
}

main().catch(failLoudly);
