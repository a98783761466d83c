import { sleep } from '@plinth/testkit';
import type { Cluster, Replacement } from './cluster.js';
import type { EventTally } from './event-ledger.js';
import { startMixedLoad, type MixedLoadOptions, type MixedLoadReport } from './mixed-load.js';

export interface ScenarioOptions extends Omit<MixedLoadOptions, 'url'> {
  /**
   * Steady load before the first replica is touched. Its first half warms the replicas up
   * (JIT, pools) and is left out of the `before` latencies.
   */
  readonly warmupMs: number;
  /** Steady load after the last replacement is in rotation. */
  readonly settleMs: number;
  /** How long events may take to be consumed once the load stopped. */
  readonly consumeTimeoutMs?: number;
  /**
   * Cut RabbitMQ's connections (through the cluster's AMQP proxy) while this replica
   * (index) is being replaced, for `cutMs` (0: reset and accept reconnects at once).
   */
  readonly cutAmqpDuring?: number;
  readonly cutMs?: number;
  readonly log?: (line: string) => void;
}

export interface ScenarioReport {
  readonly kind: 'rolling' | 'kill';
  readonly replicas: number;
  readonly load: MixedLoadReport;
  readonly replacements: readonly Replacement[];
  readonly events: EventTally;
  /** Whether every user's event was consumed before the timeout. */
  readonly consumedInTime: boolean;
  /** HAProxy's log lines for failed or retried requests. */
  readonly haproxyLog: readonly string[];
  /** HAProxy's server state changes (out of and back into rotation). */
  readonly haproxyStates: readonly string[];
  /** The requested rate and connections. */
  readonly ratePerSecond: number;
  readonly connections: number;
  readonly amqpCut?: { readonly during: string; readonly ms: number };
  /** HAProxy fell back to unchecked backups when no replica was ready. */
  readonly failOpen?: boolean;
}

/** Under steady mixed load, replaces every replica in turn (SIGTERM, exit, start, ready). */
export function rollingRestart(cluster: Cluster, options: ScenarioOptions): Promise<ScenarioReport> {
  return underLoad(cluster, options, 'rolling', async () => {
    const replacements: Replacement[] = [];
    for (let index = 0; index < cluster.replicas.length; index++) {
      const cut = index === options.cutAmqpDuring ? cutAmqpSoon(cluster, options.cutMs ?? 0, options.log ?? (() => {})) : undefined;
      replacements.push(await cluster.replace(index));
      await cut;
    }
    return replacements;
  });
}

/** Under steady mixed load, SIGKILLs one replica (no drain) and starts its replacement. */
export function killOne(cluster: Cluster, options: ScenarioOptions): Promise<ScenarioReport> {
  return underLoad(cluster, options, 'kill', async () => [await cluster.kill(0)]);
}

async function underLoad(
  cluster: Cluster,
  options: ScenarioOptions,
  kind: ScenarioReport['kind'],
  disrupt: () => Promise<Replacement[]>,
): Promise<ScenarioReport> {
  const log = options.log ?? (() => {});
  const load = startMixedLoad({ ...options, url: cluster.url });
  let replacements: Replacement[];
  let report: MixedLoadReport;
  try {
    await sleep(options.warmupMs / 2);
    load.mark('before');
    await sleep(options.warmupMs / 2);
    log(`load steady (${load.createdIds.length} users so far); ${kind === 'rolling' ? 'replacing every replica in turn' : 'SIGKILL r1'}`);
    load.mark('during');
    replacements = await disrupt();
    load.mark('after');
    await sleep(options.settleMs);
  } finally {
    report = await load.stop();
  }
  log(`load stopped: ${report.byKind.read.sent + report.byKind.write.sent} requests; waiting for the consumers`);
  const consumedInTime = await cluster.ledger.waitUntilConsumed(options.consumeTimeoutMs ?? 30_000);
  const events = await cluster.ledger.tally(report.createdIds);
  return {
    kind,
    replicas: cluster.replicas.length,
    load: report,
    replacements,
    events,
    consumedInTime,
    haproxyLog: cluster.haproxy.requestLog(),
    haproxyStates: cluster.haproxy.stateLog(),
    ratePerSecond: options.ratePerSecond,
    connections: options.connections,
    ...(options.cutAmqpDuring === undefined ? {} : { amqpCut: { during: `r${options.cutAmqpDuring + 1}`, ms: options.cutMs ?? 0 } }),
  };
}

/** Once the replacement has begun draining, cuts every broker connection, then restores. */
async function cutAmqpSoon(cluster: Cluster, cutMs: number, log: (line: string) => void): Promise<void> {
  const proxy = cluster.amqpProxy;
  if (!proxy) throw new Error('cutting RabbitMQ needs a cluster started with amqpProxy: true');
  await sleep(cluster.timings.shutdownDelayMs / 2);
  log(`cutting every RabbitMQ connection for ${cutMs} ms`);
  await proxy.cut({ reset: true });
  await sleep(cutMs);
  await proxy.restore();
}
