// Cold start on compiled JavaScript under plain `node`: from spawning the process to the
// first 200 on its readiness endpoint, and the process's resident memory at that moment.
// Sides: a bare node:http server (the floor), a minimal plinth service, the example
// service on real PostgreSQL/Redis/RabbitMQ (scratch database, Redis db and vhost), and a
// minimal NestJS service with @nestjs/terminus (the same single trivial check). With
// PLINTH_BEFORE set, the plinth sides of that checkout run in the same rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createScratchPostgresDatabase, createScratchRedis, createScratchVhost, freePort } from '@plinth/testkit';
import { checkouts, compiledFixture, compileFixtures, THIS_CHECKOUT } from './compiled.js';
import { exampleStartFlags, failLoudly, median, printTable, rssMbOf, type Row } from './lib.js';

const RUNS = Number(process.env['COLD_START_RUNS'] ?? 9);
const POLL_MS = 5;
const READY_TIMEOUT_MS = 60_000;

interface Side {
  readonly subject: string;
  /** The script `node` runs, absolute. */
  readonly script: string;
  /** Node flags before the script (the example's own start flags, for its "as started" side). */
  readonly flags?: readonly string[];
  /** Env that tells the script which port to listen on (and what else it needs). */
  readonly env: (port: number) => Record<string, string>;
  /** What the 200 must say, so an endpoint that answers without running the check cannot pass. */
  readonly readyBody: RegExp;
  /** The row group this side belongs to (its ratio is to the floor of the same run). */
  readonly group: string;
}

interface Sample {
  readonly readyMs: number;
  /** CPU the process used until ready: unlike the wall clock, it hardly moves when other work shares the machine. */
  readonly cpuMs: number;
  readonly rssMb: number;
}

interface Answer {
  readonly status: number | undefined;
  readonly body: string;
}

/** One GET; undefined when nothing answers yet (refused, reset, timeout). */
function probe(port: number): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health/ready', agent: false, timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** User + system CPU of a process so far, from /proc/<pid>/stat (in clock ticks, 100 per second on Linux). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`no CPU times for pid ${pid}`);
  return ticks * 10;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function coldStart(side: Side): Promise<Sample> {
  const port = await freePort();
  const env = { ...process.env, ...side.env(port) };
  const started = performance.now();
  const child = spawn(process.execPath, [...(side.flags ?? []), side.script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  let last: Answer | undefined;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${side.subject} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr}`);
      }
      if (performance.now() - started > READY_TIMEOUT_MS) throw new Error(`${side.subject} not ready after ${READY_TIMEOUT_MS} ms (last answer ${last?.status}: ${last?.body}):\n${stderr}`);
      const answer = await probe(port);
      last = answer ?? last;
      if (answer?.status === 200) {
        const readyMs = performance.now() - started;
        const rssMb = rssMbOf(child.pid as number);
        const cpuMs = cpuMsOf(child.pid as number);
        if (!side.readyBody.test(answer.body)) throw new Error(`${side.subject} answered 200 without its check: ${answer.body}`);
        return { readyMs, cpuMs, rssMb };
      }
      await sleep(POLL_MS);
    }
  } finally {
    await stop(child);
  }
}

async function main(): Promise<void> {
  compileFixtures();
  const db = await createScratchPostgresDatabase('plinth_bench');
  const cache = await createScratchRedis();
  const vhost = await createScratchVhost('plinth-bench');
  try {
    const exampleEnv = (port: number): Record<string, string> => ({
      EXAMPLE_SERVICE_HTTP_PORT: `${port}`,
      EXAMPLE_SERVICE_HTTP_HOST: '127.0.0.1',
      EXAMPLE_SERVICE_PRIMARY_DB_URL: db.url,
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: vhost.url,
      EXAMPLE_SERVICE_LOG_LEVEL: 'warn',
    });
    const sides: Side[] = [
      { group: 'floor', subject: 'bare node:http (floor)', script: compiledFixture(THIS_CHECKOUT, 'bare-http'), env: (port) => ({ BARE_HTTP_PORT: `${port}` }), readyBody: /^ok$/ },
    ];
    for (const checkout of checkouts()) {
      const tag = checkouts().length > 1 ? `, ${checkout.label}` : '';
      sides.push({
        group: 'plinth minimal',
        subject: `plinth minimal${tag}`,
        script: compiledFixture(checkout, 'plinth-min'),
        env: (port) => ({ PLINTH_MIN_HEALTH_PORT: `${port}` }),
        readyBody: /"checks":\{"check":\{"status":"up"/,
      });
    }
    for (const checkout of checkouts()) {
      const tag = checkouts().length > 1 ? `, ${checkout.label}` : '';
      sides.push({
        group: 'plinth example',
        subject: `example service, real servers${tag}`,
        script: join(checkout.dir, 'apps/example-service/dist/main.js'),
        env: exampleEnv,
        readyBody: /"primary_db":\{"status":"up"/,
      });
    }
    // The example as its start command runs it (package.json "start", the Dockerfile's CMD):
    // with the node flags it ships with.
    sides.push({
      group: 'plinth example, start flags',
      subject: `example service, real servers, started with ${exampleStartFlags().join(' ')}`,
      script: join(THIS_CHECKOUT, 'apps/example-service/dist/main.js'),
      flags: exampleStartFlags(),
      env: exampleEnv,
      readyBody: /"primary_db":\{"status":"up"/,
    });
    sides.push({
      group: 'nest',
      subject: 'NestJS + terminus',
      script: compiledFixture(THIS_CHECKOUT, 'nest-min'),
      env: (port) => ({ NEST_MIN_PORT: `${port}` }),
      readyBody: /"info":\{"check":\{"status":"up"/,
    });

    const samples = sides.map(() => [] as Sample[]);
    // Round 0 warms the OS file cache (and runs the example's migrations); it is not
    // recorded. Each round starts one side further, so drift on a busy machine hits all
    // sides alike.
    for (let round = 0; round <= RUNS; round++) {
      for (let k = 0; k < sides.length; k++) {
        const i = (k + round) % sides.length;
        const sample = await coldStart(sides[i] as Side);
        if (round > 0) (samples[i] as Sample[]).push(sample);
      }
    }

    const floor = samples[0] as Sample[];
    const rows: Row[] = [];
    for (const [label, unit, pick] of [
      ['spawn → first 200 on readiness', 'ms', (s: Sample) => s.readyMs],
      ['CPU used until ready', 'ms', (s: Sample) => s.cpuMs],
      ['RSS at ready', 'MB', (s: Sample) => s.rssMb],
    ] as const) {
      const baseline = median(floor.map(pick));
      for (const [i, side] of sides.entries()) {
        rows.push({ case: label, subject: side.subject, samples: (samples[i] as Sample[]).map(pick), unit, ...(i > 0 ? { baseline } : {}) });
      }
    }
    printTable(
      `Cold start, compiled JS under plain node (${RUNS} spawns per side, interleaved, polled every ${POLL_MS} ms; CPU (10 ms ticks) and RSS from /proc/<pid>; ratio to the bare server)`,
      rows,
    );
    const byGroup = (group: string) => sides.flatMap((side, i) => (side.group === group ? [{ side, samples: samples[i] as Sample[] }] : []));
    for (const group of ['plinth minimal', 'plinth example']) {
      const pair = byGroup(group);
      if (pair.length !== 2) continue;
      const [before, after] = pair as unknown as [{ samples: Sample[] }, { samples: Sample[] }];
      const ratio = (pick: (s: Sample) => number) => (median(after.samples.map(pick)) / median(before.samples.map(pick))).toFixed(3);
      console.log(`- ${group}, after / before: time ${ratio((s) => s.readyMs)}×, CPU ${ratio((s) => s.cpuMs)}×, RSS ${ratio((s) => s.rssMb)}×`);
    }
  } finally {
    await vhost.delete();
    await cache.release();
    await db.drop();
  }
}

main().then(() => process.exit(0), failLoudly);
