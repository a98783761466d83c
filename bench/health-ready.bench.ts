// `/health/ready` throughput, compiled JS under plain node: plinth's health server (the
// minimal service of the cold-start bench, one trivial check, results cached for the
// health cache TTL as in production) vs a bare node:http server that returns exactly
// plinth's bytes (status, headers, body) and runs no check (the floor), and
// @godaddy/terminus with one check (its own body). With PLINTH_BEFORE set, that
// checkout's plinth side runs in the same rounds. Rounds are interleaved, each starting
// one side further, and the table reports medians.
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort, spawnProcess, type SpawnedProcess } from '@plinth/testkit';
import { checkouts, compiledFixture, compileFixtures } from './compiled.js';
import { autocannon, failLoudly, get, median, printTable, spread, type CannonResult, type Row } from './lib.js';


const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env['HEALTH_READY_ROUNDS'] ?? 5);
const SECONDS = 4;
const CONNECTIONS = 50;

/** A bare node:http server answering every request with exactly the bytes plinth's /health/ready sent. */
function bareReplay(status: number, headers: http.IncomingHttpHeaders, body: string): string {
  const keep = Object.fromEntries(['content-type', 'cache-control'].map((h) => [h, String(headers[h])]));
  return `
import http from 'node:http';
const body = Buffer.from(${JSON.stringify(body)});
const headers = { ...${JSON.stringify(keep)}, 'content-length': String(body.length) };
http.createServer((req, res) => { res.writeHead(${status}, headers); res.end(body); })
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));`;
}

const TERMINUS = `
import http from 'node:http';
import { createTerminus } from '@godaddy/terminus';
const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
createTerminus(server, { healthChecks: { '/health/ready': async () => ({}) } });
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));`;

async function cannon(url: string, seconds: number): Promise<CannonResult> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds });
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`);
  }
  return result;
}

interface Side {
  readonly subject: string;
  readonly url: string;
}

async function startScript(args: string[]): Promise<{ child: SpawnedProcess; url: string }> {
  const port = await freePort();
  const child = spawnProcess({ args, cwd: ROOT, env: { PORT: String(port), PLINTH_MIN_HEALTH_PORT: String(port) } });
  const url = `http://127.0.0.1:${port}/health/ready`;
  await child.waitForHttp(url, { status: 200, timeoutMs: 30_000 });
  return { child, url };
}

async function main(): Promise<void> {
  compileFixtures();
  const sides: Side[] = [];
  const children: SpawnedProcess[] = [];
  try {
    const plinthSides: Side[] = [];
    for (const checkout of checkouts()) {
      const { child, url } = await startScript([compiledFixture(checkout, 'plinth-min')]);
      children.push(child);
      const tag = checkouts().length > 1 ? `, ${checkout.label}` : '';
      plinthSides.push({ subject: `plinth health server, one check${tag}`, url });
    }
    const after = plinthSides.at(-1) as Side;
    const sample = await get(after.url);
    if (sample.status !== 200) throw new Error(`plinth /health/ready answered ${sample.status}: ${sample.body}`);
    const bare = await startScript(['--input-type=module', '-e', bareReplay(sample.status, sample.headers, sample.body)]);
    children.push(bare.child);
    sides.push({ subject: `bare node:http, plinth's ${sample.body.length} B, no check (floor)`, url: bare.url });
    const replay = await get(bare.url);
    if (replay.body !== sample.body) throw new Error('the bare server does not return the same body');
    const terminus = await startScript(['--input-type=module', '-e', TERMINUS]);
    children.push(terminus.child);
    const terminusSample = await get(terminus.url);
    if (terminusSample.status !== 200) throw new Error(`terminus /health/ready answered ${terminusSample.status}`);
    sides.push({ subject: `terminus 4.12, one check (${terminusSample.body.length} B)`, url: terminus.url }, ...plinthSides);
    for (const side of plinthSides) {
      const body = (await get(side.url)).body;
      if (!/"checks":\{"check":\{"status":"up"/.test(body)) throw new Error(`${side.subject} answered without its check: ${body}`);
    }

    for (const side of sides) await cannon(side.url, 1); // warm-up
    const rps = sides.map(() => [] as number[]);
    const p99 = sides.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < sides.length; k++) {
        const i = (k + round) % sides.length;
        const result = await cannon((sides[i] as Side).url, SECONDS);
        (rps[i] as number[]).push(result.requests.average);
        (p99[i] as number[]).push(result.latency.p99);
      }
    }
    const rows: Row[] = [];
    for (const [label, unit, values] of [
      [`GET /health/ready, ${CONNECTIONS} connections`, 'req/s', rps],
      ['p99 latency', 'ms', p99],
    ] as const) {
      const baseline = median(values[0] as number[]);
      for (const [i, side] of sides.entries()) rows.push({ case: label, subject: side.subject, samples: values[i] as number[], unit, ...(i > 0 ? { baseline } : {}) });
    }
    printTable(`/health/ready throughput, compiled JS under plain node (${ROUNDS} × ${SECONDS} s per side, interleaved, autocannon)`, rows);
    console.log('');
    const bareRps = median(rps[0] as number[]);
    for (const [i, side] of sides.entries()) {
      if (i === 0) continue;
      const m = median(rps[i] as number[]);
      console.log(`- ${side.subject} / bare node:http: ${(m / bareRps).toFixed(3)}× (${m.toFixed(0)} vs ${bareRps.toFixed(0)} req/s; spreads ${spread(rps[i] as number[])} and ${spread(rps[0] as number[])})`);
    }
  } finally {
    for (const child of children) await child.kill();
  }
}

main().then(() => process.exit(0), failLoudly);
