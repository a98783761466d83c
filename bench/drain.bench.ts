// Drain: requests dropped when SIGTERM arrives under keep-alive load, with a 2.5 s request in
// flight: plinth (`app.run()` with the service's server attached) vs @godaddy/terminus with
// its defaults vs a bare `server.close()` on SIGTERM. Each is a real child process.
// (`/health/ready` throughput is health-ready.bench.ts.)
// Run: node --import tsx bench/drain.bench.ts   (exits non-zero if any side errors)
import { fileURLToPath } from 'node:url';
import { freePort, spawnProcess, startKeepAliveLoad, waitFor, type LoadReport, type SpawnedProcess } from '@plinth/testkit';
import { failLoudly, get, median } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORE = fileURLToPath(new URL('../packages/core/', import.meta.url));
const PLINTH_FIXTURE = fileURLToPath(new URL('../packages/core/test/fixtures/service-app.ts', import.meta.url));
const DRAIN_ROUNDS = 5;
const LOAD_CONNECTIONS = 16;
const SLOW_MS = 2500;

/** The request handler every non-plinth side uses: the same routes as the plinth fixture's. */
const HANDLER = `
const handler = (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/slow') {
    const ms = Number(url.searchParams.get('ms'));
    setTimeout(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('slow done after ' + ms + ' ms\\n'); }, ms);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok\\n');
};`;

const SIDES = {
  terminus: `
import http from 'node:http';
import { createTerminus } from '@godaddy/terminus';
${HANDLER}
const server = http.createServer(handler);
createTerminus(server, { healthChecks: { '/health/ready': async () => ({}) } });
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));`,
  bare: `
import http from 'node:http';
${HANDLER}
const server = http.createServer(handler);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));`,
} as const;

type SideName = 'plinth' | keyof typeof SIDES;

interface Started {
  readonly child: SpawnedProcess;
  readonly url: string;
  readonly healthUrl: string;
}

async function startSide(side: SideName, extraEnv: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  if (side === 'plinth') {
    const healthPort = await freePort();
    const child = spawnProcess({
      args: ['--import', 'tsx', PLINTH_FIXTURE],
      cwd: CORE, // tsx reads the package's tsconfig there (legacy decorators)
      env: {
        FIXTURE_APP_HTTP_PORT: String(port),
        FIXTURE_APP_HEALTH_PORT: String(healthPort),
        FIXTURE_APP_LOG_LEVEL: 'warn',
        FIXTURE_APP_SHUTDOWN_DELAY: '0',
        ...extraEnv,
      },
    });
    const healthUrl = `http://127.0.0.1:${healthPort}`;
    await child.waitForHttp(`${healthUrl}/health/ready`, { status: 200, timeoutMs: 30_000 });
    if (extraEnv['FIXTURE_HTTP'] !== 'off') await child.waitForHttp(`http://127.0.0.1:${port}/work`, { status: 200 });
    return { child, url: `http://127.0.0.1:${port}`, healthUrl };
  }
  const child = spawnProcess({ args: ['--input-type=module', '-e', SIDES[side]], cwd: ROOT, env: { PORT: String(port), ...extraEnv } });
  await child.waitForHttp(`http://127.0.0.1:${port}/work`, { status: 200, timeoutMs: 30_000 });
  return { child, url: `http://127.0.0.1:${port}`, healthUrl: `http://127.0.0.1:${port}` };
}

interface DrainRound {
  readonly load: LoadReport;
  readonly slowCompleted: boolean;
  readonly slowOutcome: string;
  readonly exit: string;
  readonly exitMs: number;
}

/** One SIGTERM under load. A side that keeps serving established connections forever is stopped by the load ending. */
async function drainRound(side: SideName): Promise<DrainRound> {
  const { child, url } = await startSide(side);
  const load = startKeepAliveLoad({ url: `${url}/work`, connections: LOAD_CONNECTIONS, maxDurationMs: 60_000 });
  try {
    await waitFor(() => load.report().completed >= 1000, { timeoutMs: 20_000, message: `${side}: load running` });
    const slow = get(`${url}/slow?ms=${SLOW_MS}`).then(
      (r) => (r.status === 200 && r.body.startsWith('slow done') ? 'completed' : `status ${r.status}`),
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 100)); // the slow request reaches the server
    const signalled = Date.now();
    child.signal('SIGTERM');
    const exitedInTime = await Promise.race([child.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), SLOW_MS + 4000))]);
    const report = await load.stop();
    const exit = await child.exited;
    const exitMs = Date.now() - signalled;
    const slowOutcome = await slow;
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    return { load: report, slowCompleted: slowOutcome === 'completed', slowOutcome, exit: exitedInTime ? how : `${how} (only after the load stopped)`, exitMs };
  } finally {
    await load.stop();
    await child.kill();
  }
}

async function drainComparison(): Promise<Map<SideName, DrainRound[]>> {
  const sides: SideName[] = ['plinth', 'terminus', 'bare'];
  const rounds = new Map<SideName, DrainRound[]>(sides.map((s) => [s, []]));
  for (let i = 0; i < DRAIN_ROUNDS; i++) {
    for (const side of sides) rounds.get(side)!.push(await drainRound(side)); // interleaved: drift hits all sides alike
  }
  const label: Record<SideName, string> = { plinth: 'plinth', terminus: 'terminus 4.12 (defaults)', bare: 'bare server.close()' };
  console.log(`\n### Requests dropped on SIGTERM under keep-alive load (${LOAD_CONNECTIONS} connections, ${DRAIN_ROUNDS} rounds per side, a ${SLOW_MS} ms request in flight)\n`);
  console.log('| side | sent | completed | reset on a reused socket (dropped) | reset on a new socket | refused | other errors | 2.5 s request completed | exit | SIGTERM → exit (median) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const side of sides) {
    const r = rounds.get(side)!;
    const sum = (f: (x: DrainRound) => number) => r.reduce((a, x) => a + f(x), 0);
    const exits = [...new Set(r.map((x) => x.exit))].join('; ');
    const slowFailures = [...new Set(r.filter((x) => !x.slowCompleted).map((x) => x.slowOutcome))];
    console.log(
      `| ${label[side]} | ${sum((x) => x.load.sent)} | ${sum((x) => x.load.completed)} | ${sum((x) => x.load.resetOnReusedSocket)} | ` +
        `${sum((x) => x.load.resetOnNewSocket)} | ${sum((x) => x.load.refused)} | ${sum((x) => x.load.otherErrors)} | ` +
        `${sum((x) => (x.slowCompleted ? 1 : 0))}/${r.length}${slowFailures.length ? ` (${slowFailures.join(', ')})` : ''} | ${exits} | ${median(r.map((x) => x.exitMs)).toFixed(0)} ms |`,
    );
  }
  return rounds;
}

async function main(): Promise<void> {
  const drains = await drainComparison();
  const dropped = (side: SideName) => drains.get(side)!.reduce((a, r) => a + r.load.resetOnReusedSocket + r.load.otherErrors, 0);
  const slowLost = (side: SideName) => drains.get(side)!.filter((r) => !r.slowCompleted).length;
  console.log('\n### Ratios\n');
  console.log(`- requests dropped on established connections: plinth ${dropped('plinth')}, terminus ${dropped('terminus')}, bare close() ${dropped('bare')} (over ${DRAIN_ROUNDS} SIGTERMs each)`);
  console.log(`- ${SLOW_MS} ms in-flight request lost: plinth ${slowLost('plinth')}/${DRAIN_ROUNDS}, terminus ${slowLost('terminus')}/${DRAIN_ROUNDS}, bare close() ${slowLost('bare')}/${DRAIN_ROUNDS}`);
  if (dropped('plinth') > 0 || slowLost('plinth') > 0) {
    throw new Error('plinth dropped requests during the drain: that is a bug, not a measurement');
  }
}

main().then(() => process.exit(0), failLoudly);
