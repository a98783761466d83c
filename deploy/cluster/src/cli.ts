#!/usr/bin/env node
// npm run cluster [-- --rolling | --kill] [options]: see README.md beside this package.
import { parseArgs } from 'node:util';
import { startCluster, type Cluster } from './cluster.js';
import { ensureHaproxy } from './haproxy.js';
import { formatReport } from './report.js';
import { killOne, rollingRestart, type ScenarioReport } from './scenarios.js';

const usage = `npm run cluster -- [--rolling | --kill] [options]

Starts N replicas of the built example service behind HAProxy, on a scratch PostgreSQL
database, Redis DB and RabbitMQ vhost (servers from TEST_POSTGRES_URL, TEST_REDIS_URL,
TEST_AMQP_URL; local defaults). Without a scenario it runs until Ctrl-C.

  --replicas N      replicas (default 3)
  --rolling         under load, replace every replica in turn and print the tables
  --kill            under load, SIGKILL one replica instead
  --cut-amqp        with --rolling: cut RabbitMQ's connections while the 2nd replica is replaced
  --cut-ms MS       how long the cut lasts (default 0: reset, reconnects accepted at once)
  --fail-open       when no replica is ready, HAProxy tries them all anyway (unchecked backups)
  --rate R          requests per second asked of the load (default 150)
  --connections C   keep-alive connections (default 16)
  --writes F        share of POST /users among requests (default 0.3)
  --warmup S        seconds of load before the first replica is touched (default 5)
  --settle S        seconds of load after the last one is back (default 3)
  --json            print the report as JSON instead of tables`;

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: '3' },
    rolling: { type: 'boolean', default: false },
    kill: { type: 'boolean', default: false },
    'cut-amqp': { type: 'boolean', default: false },
    'cut-ms': { type: 'string', default: '0' },
    'fail-open': { type: 'boolean', default: false },
    rate: { type: 'string', default: '150' },
    connections: { type: 'string', default: '16' },
    writes: { type: 'string', default: '0.3' },
    warmup: { type: 'string', default: '5' },
    settle: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function number(name: keyof typeof values, min: number, max: number): number {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(`--${name} must be a number from ${min} to ${max} (got ${String(values[name])})\n\n${usage}`);
    process.exit(2);
  }
  return value;
}

if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (values.rolling && values.kill) {
  console.error(`--rolling and --kill are separate runs\n\n${usage}`);
  process.exit(2);
}
const log = (line: string): void => console.error(`[cluster] ${line}`);
const replicas = number('replicas', 1, 32);
const scenarioOptions = {
  ratePerSecond: number('rate', 1, 100_000),
  connections: number('connections', 1, 1000),
  writeShare: number('writes', 0, 1),
  warmupMs: number('warmup', 0, 3600) * 1000,
  settleMs: number('settle', 0, 3600) * 1000,
  log,
  ...(values['cut-amqp'] ? { cutAmqpDuring: Math.min(1, replicas - 1), cutMs: number('cut-ms', 0, 60_000) } : {}),
};

let cluster: Cluster | undefined;
let stopping = false;
let interrupted = false;
const stopAndExit = async (code: number): Promise<never> => {
  stopping = true;
  await cluster?.stop();
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping || interrupted) return;
    log(`${signal}: stopping the replicas, HAProxy and the scratch resources`);
    interrupted = true;
    // While starting, the cluster is not ours to stop yet: stop it once it is.
    if (cluster) void stopAndExit(130);
  });
}

try {
  const haproxyBinary = await ensureHaproxy(log);
  cluster = await startCluster({ replicas, haproxyBinary, amqpProxy: values['cut-amqp'], failOpen: values['fail-open'], log });
  if (interrupted) await stopAndExit(130);
  if (!values.rolling && !values.kill) {
    log(`ready: send requests to ${cluster.url} (e.g. curl ${cluster.url}/health); Ctrl-C stops everything`);
    await new Promise(() => {});
  }
  const run = values.rolling ? rollingRestart : killOne;
  const report: ScenarioReport = { ...(await run(cluster, scenarioOptions)), failOpen: values['fail-open'] };
  // The created ids are thousands of numbers: JSON gets their count.
  const asJson = (): string => JSON.stringify({ ...report, load: { ...report.load, createdIds: report.load.createdIds.length } }, null, 2);
  console.log(values.json ? asJson() : formatReport(report));
  const clean = report.load.all.failed === 0 && report.events.createdWithoutEvent === 0 && report.events.createdButMissing === 0;
  await stopAndExit(clean ? 0 : 1);
} catch (err) {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  await stopAndExit(1);
}
