import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createScratchPostgresDatabase,
  createScratchRedis,
  createScratchVhost,
  freePort,
  startTcpProxy,
  testServices,
  serviceAddress,
  type TcpProxy,
} from '@plinth/testkit';
import { EventLedger } from './event-ledger.js';
import { startHaproxy, type Haproxy } from './haproxy.js';
import { startReplica, type Replica } from './replica.js';
import { assertTimingsFit, defaultTimings, type ClusterTimings } from './timings.js';

export interface ClusterOptions {
  readonly replicas: number;
  /** The haproxy binary (see `ensureHaproxy`). */
  readonly haproxyBinary: string;
  readonly timings?: ClusterTimings;
  /** Put a TCP proxy between the replicas and RabbitMQ, so its connections can be cut. */
  readonly amqpProxy?: boolean;
  /** HAProxy falls back to every replica, unchecked, when none is ready (see haproxyConfig). */
  readonly failOpen?: boolean;
  /** Extra env for every replica. */
  readonly env?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
}

/** How one replica was replaced (or killed and replaced). */
export interface Replacement {
  readonly server: string;
  readonly signal: 'SIGTERM' | 'SIGKILL';
  /** Signal → HAProxy reports it DOWN. */
  readonly outOfRotationMs: number;
  /** Signal → the process exited. */
  readonly exitedMs: number;
  readonly exitCode: number | null;
  /** Signal → the new process is ready and HAProxy reports it UP. */
  readonly backInRotationMs: number;
}

export interface Cluster {
  /** HAProxy's frontend: where clients send requests. */
  readonly url: string;
  readonly replicas: readonly Replica[];
  readonly haproxy: Haproxy;
  readonly ledger: EventLedger;
  /** The scratch vhost's URL, straight to the broker. */
  readonly amqpUrl: string;
  /** The TCP proxy in front of RabbitMQ, when `amqpProxy` was asked for. */
  readonly amqpProxy: TcpProxy | undefined;
  readonly timings: ClusterTimings;
  /** SIGTERM the slot's replica, wait for its exit, start a new one, wait until it is in rotation. */
  replace(index: number): Promise<Replacement>;
  /** The same with SIGKILL: no drain, whatever it had in flight is cut. */
  kill(index: number): Promise<Replacement>;
  /** Stops replicas (gracefully), HAProxy, and drops the scratch database, Redis DB and vhost. */
  stop(): Promise<void>;
}

/**
 * Starts `replicas` processes of the example service on their own ports against a scratch
 * PostgreSQL database, Redis DB and RabbitMQ vhost, and HAProxy in front of them.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const timings = options.timings ?? defaultTimings;
  assertTimingsFit(timings);
  const log = options.log ?? (() => {});
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.splice(0).reverse()) await step().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  };

  try {
    const workDir = await mkdtemp(join(tmpdir(), 'plinth-cluster-'));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));
    // Each one registers its own cleanup, so a failure of another does not leak it.
    const [database, cache, vhost] = await settleAll([
      createScratchPostgresDatabase('cluster').then((db) => (cleanups.push(() => db.drop()), db)),
      createScratchRedis().then((redis) => (cleanups.push(() => redis.release()), redis)),
      createScratchVhost('cluster').then((scratch) => (cleanups.push(() => scratch.delete()), scratch)),
    ] as const);
    log(`scratch resources: database ${database.name}, Redis DB ${cache.db}, vhost ${vhost.name}`);

    let amqpProxy: TcpProxy | undefined;
    let eventsUrl = vhost.url;
    if (options.amqpProxy) {
      const { host, port } = serviceAddress('rabbitmq', testServices());
      amqpProxy = await startTcpProxy({ targetHost: host, targetPort: port });
      const proxied = new URL(vhost.url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(amqpProxy.port);
      eventsUrl = proxied.toString();
      const proxy = amqpProxy;
      cleanups.push(() => proxy.close());
    }

    const env: Record<string, string> = {
      NODE_ENV: 'production',
      EXAMPLE_SERVICE_PRIMARY_DB_URL: database.url,
      EXAMPLE_SERVICE_SESSION_CACHE_URL: cache.url,
      EXAMPLE_SERVICE_EVENTS_URL: eventsUrl,
      // HAProxy does the routing; the replicas need no Consul.
      EXAMPLE_SERVICE_SERVICE_REGISTRY_EMBEDDED: 'true',
      EXAMPLE_SERVICE_SHUTDOWN_DELAY: String(timings.shutdownDelayMs),
      EXAMPLE_SERVICE_LOG_LEVEL: 'info',
      ...options.env,
    };
    const ports = await Promise.all(Array.from({ length: options.replicas }, () => freePort()));
    const replicas: Replica[] = [];
    cleanups.push(() => Promise.all(replicas.map((replica) => stopReplica(replica))));
    const launch = async (index: number, generation: number): Promise<Replica> => {
      const replica = startReplica(`r${index + 1}`, ports[index]!, generation, env);
      replicas[index] = replica;
      await replica.process.waitForHttp(`http://127.0.0.1:${replica.port}/health/ready`, { status: 200, timeoutMs: 90_000, intervalMs: 100 });
      return replica;
    };

    // The first replica migrates the schema; the event ledger hooks into it before any load.
    await launch(0, 1);
    const ledger = new EventLedger(database.url, vhost.url);
    cleanups.push(() => ledger.close());
    await ledger.install();
    await Promise.all(ports.slice(1).map((_, i) => launch(i + 1, 1)));

    const haproxy = await startHaproxy(options.haproxyBinary, workDir, {
      port: await freePort(),
      servers: replicas.map((replica) => ({ name: replica.server, port: replica.port })),
      timings,
      failOpen: options.failOpen ?? false,
    });
    cleanups.push(() => haproxy.stop());
    await Promise.all(replicas.map((replica) => haproxy.waitUntilUp(replica.server)));
    log(`HAProxy on ${haproxy.url} → ${replicas.map((r) => `${r.server} :${r.port}`).join(', ')}`);

    const cycle = async (index: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<Replacement> => {
      const old = replicas[index]!;
      const started = Date.now();
      const out = haproxy.waitUntilDown(old.server).then(() => Date.now() - started);
      old.process.signal(signal);
      const { code } = await old.process.exited;
      const exitedMs = Date.now() - started;
      const outOfRotationMs = await out;
      await launch(index, old.generation + 1);
      await haproxy.waitUntilUp(old.server);
      const replacement: Replacement = {
        server: old.server,
        signal,
        outOfRotationMs,
        exitedMs,
        exitCode: code,
        backInRotationMs: Date.now() - started,
      };
      log(
        `${old.server}: ${signal}, out of rotation after ${outOfRotationMs} ms, exited (${code ?? signal}) after ${exitedMs} ms, ` +
          `replacement in rotation after ${replacement.backInRotationMs} ms`,
      );
      return replacement;
    };

    let stopping: Promise<void> | undefined;
    return {
      url: haproxy.url,
      replicas,
      haproxy,
      ledger,
      amqpUrl: vhost.url,
      amqpProxy,
      timings,
      replace: (index) => cycle(index, 'SIGTERM'),
      kill: (index) => cycle(index, 'SIGKILL'),
      stop: () => (stopping ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Like Promise.all, but waits for every promise before rejecting with the first failure. */
async function settleAll<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** SIGTERM, and SIGKILL if it has not exited within its own shutdown budget. */
async function stopReplica(replica: Replica): Promise<void> {
  if (replica.process.exitInfo) return;
  replica.process.signal('SIGTERM');
  const timer = setTimeout(() => replica.process.signal('SIGKILL'), 30_000);
  await replica.process.exited;
  clearTimeout(timer);
}
