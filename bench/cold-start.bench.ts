// Cold start: from spawning the process to the first 200 on its readiness endpoint, and
// the process's resident memory at that moment. A minimal plinth service vs a minimal
// NestJS service with @nestjs/terminus (the same single trivial check), with a bare
// node:http server as the floor. Each side is a child process polled every POLL_MS.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FIXTURES_TSCONFIG } from './fixtures/import-decorated.js';
import { failLoudly, median, printTable, type Row } from './lib.js';

const RUNS = 7;
const POLL_MS = 5;
const READY_TIMEOUT_MS = 30_000;

interface Side {
  readonly subject: string;
  readonly fixture: string;
  /** Env that tells the fixture which port to listen on. */
  readonly portEnv: (port: number) => Record<string, string>;
  readonly readyPath: string;
  /** What the 200 must say, so an endpoint that answers without running the check cannot pass. */
  readonly readyBody: RegExp;
}

const sides: readonly Side[] = [
  {
    subject: 'bare node:http (floor)',
    fixture: 'bare-http.ts',
    portEnv: (port) => ({ BARE_HTTP_PORT: `${port}` }),
    readyPath: '/health/ready',
    readyBody: /^ok$/,
  },
  {
    subject: 'plinth',
    fixture: 'plinth-min.ts',
    portEnv: (port) => ({ PLINTH_MIN_HEALTH_PORT: `${port}` }),
    readyPath: '/health/ready',
    readyBody: /"checks":\{"check":\{"status":"up"/,
  },
  {
    subject: 'NestJS + terminus',
    fixture: 'nest-min.ts',
    portEnv: (port) => ({ NEST_MIN_PORT: `${port}` }),
    readyPath: '/health/ready',
    readyBody: /"info":\{"check":\{"status":"up"/,
  },
];

interface Sample {
  readonly readyMs: number;
  readonly rssMb: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Answer {
  readonly status: number | undefined;
  readonly body: string;
}

/** One GET; undefined when nothing answers yet (refused, reset, timeout). */
function probe(port: number, path: string): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 1_000 }, (res) => {
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

function rssMbOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  const kb = Number(line?.match(/(\d+)\s*kB/)?.[1]);
  if (!Number.isFinite(kb) || kb <= 0) throw new Error(`no VmRSS for pid ${pid}`);
  return kb / 1024;
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
  const fixture = fileURLToPath(new URL(`./fixtures/${side.fixture}`, import.meta.url));
  const env = { ...process.env, TSX_TSCONFIG_PATH: FIXTURES_TSCONFIG, ...side.portEnv(port) };
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${side.subject} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr}`);
      }
      if (performance.now() - started > READY_TIMEOUT_MS) throw new Error(`${side.subject} not ready after ${READY_TIMEOUT_MS} ms:\n${stderr}`);
      const answer = await probe(port, side.readyPath);
      if (answer?.status === 200) {
        const readyMs = performance.now() - started;
        const rssMb = rssMbOf(child.pid as number);
        if (!side.readyBody.test(answer.body)) throw new Error(`${side.subject} answered 200 without its check: ${answer.body}`);
        return { readyMs, rssMb };
      }
      await sleep(POLL_MS);
    }
  } finally {
    await stop(child);
  }
}

async function main(): Promise<void> {
  const samples = sides.map(() => [] as Sample[]);
  // Round 0 warms tsx's compile cache and the OS file cache; it is not recorded. Each
  // round starts one side further, so drift on a busy machine hits all sides alike.
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
    ['RSS at ready', 'MB', (s: Sample) => s.rssMb],
  ] as const) {
    const baseline = median(floor.map(pick));
    for (const [i, side] of sides.entries()) {
      rows.push({ case: label, subject: side.subject, samples: (samples[i] as Sample[]).map(pick), unit, ...(i > 0 ? { baseline } : {}) });
    }
  }
  printTable(
    `Cold start (${RUNS} spawns per side, polled every ${POLL_MS} ms; every side runs under node --import tsx, so tsx's loader and its cached compile are in every row alike; RSS from /proc/<pid>/status)`,
    rows,
  );
}

main().catch(failLoudly);
