import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { spawnProcess } from './process.js';
import type { SpawnedProcess } from './process.js';
import { sleep } from './wait-for.js';

/** A private redis-server child process that a test may kill and restart. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  /** Kills the server (default SIGKILL, like a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it for good and removes its working directory. */
  close(): Promise<void>;
}

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Default: a free port. */
  readonly port?: number;
  /** Path to the binary. Default `redis-server` on PATH. */
  readonly command?: string;
  /** How long start() waits for PING. Default 5000 ms. */
  readonly startTimeoutMs?: number;
}

/**
 * Spawns `redis-server` on a free loopback port with persistence off, for tests
 * that need to kill and restart Redis without touching the shared server.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  // Its own dir so no stray dump.rdb lands in the package.
  const dir = await mkdtemp(join(tmpdir(), 'plinth-redis-'));
  const startTimeoutMs = options.startTimeoutMs ?? 5000;
  let proc: SpawnedProcess | undefined;

  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const current = proc;
    if (current === undefined) return;
    proc = undefined;
    current.signal(signal);
    await current.exited;
  };

  const start = async (): Promise<void> => {
    if (proc !== undefined && proc.exitInfo === undefined) return;
    const current = spawnProcess({
      command: options.command ?? 'redis-server',
      args: ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    });
    proc = current;
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (current.exitInfo !== undefined) {
        throw new Error(`redis-server on port ${port} exited during start\n--- last output ---\n${current.tail()}\n---`);
      }
      if (await ping(host, port)) return;
      if (Date.now() >= deadline) {
        await stop();
        throw new Error(`redis-server on port ${port} did not answer PING within ${startTimeoutMs} ms\n--- last output ---\n${current.tail()}\n---`);
      }
      await sleep(25);
    }
  };

  await start();
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    get running() {
      return proc !== undefined && proc.exitInfo === undefined;
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** True when a Redis at host:port answers `+PONG` (RESP inline command, no client needed). */
export function ping(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}
