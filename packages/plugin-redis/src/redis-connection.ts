import { performance } from 'node:perf_hooks';
import type { Logger } from '@plinth/core';
import { createClient, type RedisClientType } from '@redis/client';
import { messageOf } from '@plinth/core';
import { backoffDelay, OperationTimeoutError, raceAbort, withTimeout, type BackoffOptions } from '@plinth/core/lifecycle';
import { CallDeadlines } from '@plinth/core/resilience';
import { isConnectionError } from './errors.js';
import { describeTarget, type ServerTarget } from './target.js';

/**
 * The raw node-redis client: RESP3, core commands only. It is `@redis/client` without the
 * `redis` package's RedisJSON/Search/TimeSeries/Bloom modules, which would load ~170 more
 * modules into every service whether or not it uses them.
 */
export type RedisClient = RedisClientType;

/** A connected client, the view of it the plugin's own commands use, and their deadlines. */
interface Live {
  /** Handed out as `.client`: node-redis' own COMMAND_TIMEOUT applies to commands not yet written. */
  readonly client: RedisClient;
  /** The same connection without node-redis' per-command timer; `deadlines` bounds these commands. */
  readonly untimed: RedisClient;
  readonly deadlines: CallDeadlines;
}

export interface ConnectionOptions {
  readonly target: ServerTarget;
  /** CLIENT SETNAME, so operators can tell whose connection it is. */
  readonly clientName: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly logger: Logger;
  readonly redact: (text: string) => string;
  /** The connection is usable again after an outage. */
  readonly onUp: () => void;
  /** Calls can no longer succeed; `reason` is already redacted. */
  readonly onDown: (reason: string) => void;
  /** Builds the error callers see while Redis cannot be reached. */
  readonly unavailable: (reason: string, cause?: unknown) => Error;
}

/**
 * Owns the node-redis client of one instance:
 * - `open()` makes one bounded attempt (connect within CONNECT_TIMEOUT, then PING within
 *   COMMAND_TIMEOUT) and leaves nothing open when it fails; the lifecycle retries it.
 * - Once open, a lost connection — socket closed, or a command unanswered within
 *   COMMAND_TIMEOUT (server wedged) — is dropped and replaced by a fresh client, tried
 *   again and again with backoff and jitter. Until then calls fail at once: the offline
 *   queue is off, so nothing piles up.
 *
 * Reconnecting here rather than through node-redis' `reconnectStrategy` keeps every
 * timer cancellable: node-redis sleeps between attempts on a timer `close()` cannot
 * clear, which would hold the process open after a stop during an outage. It also lets a
 * wedged connection be replaced, which node-redis has no way to do.
 */
export class RedisConnection {
  readonly #options: ConnectionOptions;
  readonly #where: string;
  /** The connected client; undefined while reconnecting. */
  #live: Live | undefined;
  /** Aborts the reconnect attempt in progress, if any. */
  #attemptAbort: AbortController | undefined;
  #running = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #failedAttempts = 0;
  #outageSince: number | undefined;
  /** Clients given up on; any late sign of life from them is cut. */
  readonly #retired = new WeakSet<RedisClient>();
  /** Why a client was dropped: the commands its destroy() rejected failed for that reason. */
  readonly #droppedBecause = new WeakMap<RedisClient, string>();

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#where = describeTarget(options.target);
  }

  /** The connected client, or undefined while reconnecting. */
  get client(): RedisClient | undefined {
    return this.#live?.client;
  }

  /** Connects and verifies with PING. Throws (naming host:port, never a password) and cleans up on failure. */
  async open(signal: AbortSignal): Promise<void> {
    this.#live = this.#adopt(await this.#connectOnce(signal));
    this.#running = true;
    this.#failedAttempts = 0;
    this.#outageSince = undefined;
  }

  /**
   * Runs one command on the connected client under COMMAND_TIMEOUT (or `signal`, if it
   * aborts first). Connection failures and timeouts reject with the `unavailable` error.
   */
  async run<T>(command: (client: RedisClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const live = this.#live;
    if (!this.#running || live === undefined) throw this.#options.unavailable(`reconnecting to ${this.#where}`);
    try {
      const reply = live.deadlines.track(command(live.untimed));
      return await (signal === undefined ? reply : raceAbort(reply, signal));
    } catch (error) {
      const dropped = this.#droppedBecause.get(live.client);
      if (dropped !== undefined) throw this.#options.unavailable(dropped, error);
      if (isConnectionError(error)) throw this.#options.unavailable(this.#options.redact(messageOf(error)), error);
      throw error;
    }
  }

  /** Stops reconnecting; `close()` (waits for pending replies) within `graceMs`, then `destroy()`. */
  async close(graceMs: number, signal: AbortSignal): Promise<void> {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#attemptAbort?.abort(new Error('stopping'));
    const live = this.#live;
    this.#live = undefined;
    if (live === undefined) return;
    live.deadlines.close();
    try {
      if (live.client.isReady) await withTimeout(live.client.close(), graceMs, signal);
    } catch (error) {
      this.#options.logger.debug({ err: messageOf(error) }, 'graceful close did not finish in time; destroying the connection');
    } finally {
      this.#retire(live.client);
    }
  }

  #adopt(client: RedisClient): Live {
    const { commandTimeoutMs } = this.#options;
    return {
      client,
      untimed: client.withCommandOptions({ timeout: 0 }) as RedisClient,
      deadlines: new CallDeadlines(commandTimeoutMs, { lateFailsAll: true, onLate: () => this.#lost(client, `no reply within ${commandTimeoutMs} ms`) }),
    };
  }

  /** One bounded attempt: a fresh client, connected and answering PING, or an error and nothing left open. */
  async #connectOnce(signal?: AbortSignal): Promise<RedisClient> {
    const { connectTimeoutMs, commandTimeoutMs } = this.#options;
    const client = this.#createClient();
    try {
      await withTimeout(client.connect(), connectTimeoutMs, signal);
      await withTimeout(client.ping(), commandTimeoutMs, signal);
      return client;
    } catch (error) {
      this.#retire(client);
      const cause = OperationTimeoutError.is(error) ? `no answer within ${error.timeoutMs} ms` : messageOf(error);
      throw new Error(this.#options.redact(`cannot reach Redis at ${this.#where}: ${cause}`), { cause: error });
    }
  }

  #createClient(): RedisClient {
    const { target, connectTimeoutMs, commandTimeoutMs, clientName } = this.#options;
    // node-redis must not reconnect on its own: see the class comment.
    const common = { host: target.host, port: target.port, connectTimeout: connectTimeoutMs, reconnectStrategy: false as const };
    const client: RedisClient = createClient({
      socket: target.tls ? { ...common, tls: true, servername: target.host } : common,
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      database: target.db,
      name: clientName,
      disableOfflineQueue: true,
      // Covers commands that cannot even be written; run() bounds the wait for the reply.
      commandOptions: { timeout: commandTimeoutMs },
    });
    // Without an 'error' listener node-redis would crash the process.
    client.on('error', (error: unknown) => {
      if (!client.isReady) this.#lost(client, this.#options.redact(messageOf(error)));
    });
    client.on('end', () => this.#lost(client, `connection to ${this.#where} closed`));
    // A retired client whose socket connected after destroy() (a race inside node-redis): close it.
    for (const event of ['connect', 'ready'] as const) {
      client.on(event, () => {
        if (this.#retired.has(client)) client.destroy();
      });
    }
    return client;
  }

  #retire(client: RedisClient): void {
    this.#retired.add(client);
    client.destroy();
  }

  /** The connected client failed: drop it, report the outage, reconnect in the background. */
  #lost(client: RedisClient, reason: string): void {
    const live = this.#live;
    if (!this.#running || live?.client !== client) return;
    this.#live = undefined;
    live.deadlines.close();
    this.#droppedBecause.set(client, reason);
    this.#retire(client);
    this.#outageSince = performance.now();
    this.#options.logger.warn({ err: reason }, `lost Redis at ${this.#where}; reconnecting in the background`);
    this.#options.onDown(reason);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    // #failedAttempts counts from 0; backoffDelay's attempts from 1.
    const delay = backoffDelay(this.#options.backoff, this.#failedAttempts + 1);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#reconnect();
    }, delay);
  }

  async #reconnect(): Promise<void> {
    if (!this.#running) return;
    const abort = new AbortController();
    this.#attemptAbort = abort;
    let client: RedisClient;
    try {
      client = await this.#connectOnce(abort.signal);
    } catch (error) {
      if (!this.#running) return;
      this.#failedAttempts += 1;
      this.#options.logger.debug({ err: messageOf(error), attempt: this.#failedAttempts }, 'Redis reconnect attempt failed');
      this.#scheduleReconnect();
      return;
    } finally {
      this.#attemptAbort = undefined;
    }
    if (!this.#running) return this.#retire(client);
    this.#live = this.#adopt(client);
    this.#failedAttempts = 0;
    const outageMs = this.#outageSince === undefined ? undefined : Math.round(performance.now() - this.#outageSince);
    this.#outageSince = undefined;
    this.#options.logger.info({ outageMs }, `reconnected to Redis at ${this.#where}`);
    this.#options.onUp();
  }
}
