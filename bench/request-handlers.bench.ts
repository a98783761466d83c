// Request-handler overhead, measured in one run: throughput of a plain route served by an app
// with no request handlers (baseline), with the request-ids handler, and with request ids
// plus the API-key check (a valid key on every request). Each side is its own app in this
// process, loaded by autocannon in turn; rounds alternate the sides.
// Run: node --import tsx bench/request-handlers.bench.ts   (exits non-zero if any side errors)
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createApp, type PluginDeclaration } from '@plinth/core';
import { apiKeys, requestIds } from '@plinth/core/handlers';
import { failLoudly, median, printTable, type Row } from './lib.js';

interface CannonResult {
  readonly requests: { readonly average: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: { url: string; connections: number; duration: number; headers?: Record<string, string> }) => Promise<CannonResult>;

const ROUNDS = 3;
const SECONDS = 3;
const CONNECTIONS = 20;
const KEY = 'bench-key-0123456789';

const sides: { readonly name: string; readonly plugins: PluginDeclaration[] }[] = [
  { name: 'no handlers', plugins: [] },
  { name: 'request ids', plugins: [requestIds('request_ids')] },
  { name: 'request ids + API key', plugins: [requestIds('request_ids'), apiKeys('api_keys')] },
];

async function serve(plugins: PluginDeclaration[]) {
  const app = createApp({ name: 'bench-app', plugins, env: { BENCH_APP_API_KEYS_KEYS: KEY, BENCH_APP_ALLOW_ENV: 'BENCH_APP_API_KEYS_KEYS', BENCH_APP_LOG_LEVEL: 'warn' } });
  await app.start();
  const server = await app.serveHttp((_req, res) => res.end('ok'), { port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/work` };
}

const samples = new Map<string, number[]>(sides.map((s) => [s.name, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of sides) {
      const { app, url } = await serve(side.plugins);
      const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers: { 'x-api-key': KEY } });
      await app.stop();
      if (result.errors + result.timeouts + result.non2xx > 0) throw new Error(`${side.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
      samples.get(side.name)?.push(result.requests.average);
    }
  }
} catch (error) {
  failLoudly(error);
}
const baseline = median(samples.get('no handlers') ?? []);
const rows: Row[] = sides.map((side, i) => ({
  case: `${CONNECTIONS} keep-alive connections, ${SECONDS} s × ${ROUNDS}`,
  subject: side.name,
  samples: samples.get(side.name) ?? [],
  unit: 'req/s',
  ...(i === 0 ? {} : { baseline }),
}));
printTable('Request-handler overhead (throughput of a plain route)', rows);
process.exit(0);
