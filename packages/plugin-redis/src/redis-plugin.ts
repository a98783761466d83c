import {
  envName,
  PlinthError,
  type HealthCheck,
  type HealthCheckContext,
  type HookContext,
  type OnStop,
  type PluginAvailability,
  type PluginContext,
  type PreStart,
} from '@plinth/core';
import { OperationTimeoutError, type BackoffOptions } from '@plinth/core/lifecycle';
import { BreakerOpenError } from '@plinth/core/resilience';

/** Reconnect pacing when the code gives none. */
const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = { initialDelayMs: 100, maxDelayMs: 3000 };
import { CacheFacade, type Cache } from './cache.js';
import { createCacheMetrics, timedStore } from './cache-metrics.js';
import type { CacheStore } from './cache-store.js';
import { jsonCodec, type CacheCodec } from './codec.js';
import { unavailableError } from './errors.js';
import { MemoryStore } from './memory-store.js';
import { RedisConnection, type RedisClient } from './redis-connection.js';
import { describeTarget, resolveTarget, type RedisSettings, type RedisTarget } from './target.js';

/** Code-only options of `redis(prefix, options)`. */
export interface RedisPluginOptions {
  /** How cached values become strings and back; JSON by default. */
  readonly codec?: CacheCodec;
  /** Backoff (with jitter) between background reconnects once started. Default 100 ms doubling to 3 s. */
  readonly reconnectBackoff?: BackoffOptions;
}

type Driver =
  | { readonly kind: 'embedded'; readonly store: MemoryStore }
  | { readonly kind: 'server'; readonly connection: RedisConnection }
  | { readonly kind: 'off' };

/** The store of an instance turned off: every read misses, every write is dropped. */
const MISSING_STORE: CacheStore = {
  get: async () => undefined,
  set: async () => undefined,
  del: async () => false,
};

/**
 * One Redis instance. Inject it with `@InjectPlugin('session_cache')` and use `.cache`
 * (failures reject), `.cacheAside` (failures are misses), or `.client` (raw node-redis).
 */
export class RedisPlugin implements PreStart, OnStop, HealthCheck {
  /** True when the instance runs embedded, on the in-memory store, rather than on a Redis server. */
  readonly embedded: boolean;
  /** Strict facade: while Redis is down every call rejects with PluginUnavailableError, at once. */
  readonly cache: Cache;
  /** Cache-aside facade: store failures become misses / no-ops, logged at debug. Loader errors still reject. */
  readonly cacheAside: Cache;
  /** Where it connects (`127.0.0.1:6379 db 2`, or `in-memory store`); plinth names it in startup errors. */
  readonly target: string;
  readonly #ctx: PluginContext<RedisSettings, RedisPluginOptions>;
  readonly #driver: Driver;

  /** `off`: the no-op of an optional instance turned off (`…_ENABLED=false`): a cache that always misses. */
  constructor(ctx: PluginContext<RedisSettings, RedisPluginOptions>, mode: 'on' | 'off' = 'on') {
    this.#ctx = ctx;
    const target = mode === 'off' ? undefined : resolveTarget(ctx.settings, ctx.embedded);
    this.#driver = target ? this.#createDriver(target) : { kind: 'off' };
    this.embedded = target?.kind === 'embedded';
    this.target = target === undefined ? 'turned off' : target.kind === 'embedded' ? 'in-memory store' : describeTarget(target);
    const store = target ? this.#createStore() : MISSING_STORE;
    const metrics = createCacheMetrics(ctx.metrics);
    const common = { store, keyPrefix: ctx.settings.keyPrefix ?? '', codec: ctx.options.codec ?? jsonCodec, logger: ctx.logger, metrics };
    this.cache = new CacheFacade({ ...common, mode: 'strict' });
    this.cacheAside = new CacheFacade({ ...common, mode: 'aside' });
  }

  /**
   * The raw node-redis client (no KEY_PREFIX, no COMMAND_TIMEOUT race: node-redis' own
   * timeout covers commands until they are written). Read it when you need it rather than
   * keeping it: a wedged connection is replaced by a new client. Throws
   * PluginUnavailableError while Redis is down, and a PlinthError on the embedded store.
   */
  get client(): RedisClient {
    if (this.#driver.kind === 'off') {
      const { appName, prefix } = this.#ctx;
      throw new PlinthError(`redis plugin "${prefix}" is turned off (${envName(appName, prefix, 'enabled')}=false): it has no Redis client`);
    }
    if (this.#driver.kind === 'embedded') {
      const { appName, prefix } = this.#ctx;
      throw new PlinthError(
        `redis plugin "${prefix}" runs on the embedded in-memory store, which has no Redis client: ` +
          `set ${envName(appName, prefix, 'url')} or ${envName(appName, prefix, 'host')} to use a Redis server`,
      );
    }
    this.#availability.assertAvailable();
    const client = this.#driver.connection.client;
    if (client === undefined) throw this.#unavailable('not connected');
    return client;
  }

  async preStart(ctx: HookContext): Promise<void> {
    if (this.#driver.kind !== 'server') return;
    await this.#driver.connection.open(ctx.signal);
  }

  async onStop(ctx: HookContext): Promise<void> {
    if (this.#driver.kind === 'off') return;
    if (this.#driver.kind === 'embedded') {
      this.#driver.store.clear();
      return;
    }
    await this.#driver.connection.close(this.#ctx.settings.commandTimeout, ctx.signal);
  }

  async healthCheck({ signal }: HealthCheckContext): Promise<void> {
    this.#availability.assertAvailable();
    if (this.#driver.kind === 'server') await this.#driver.connection.run((client) => client.ping(), signal);
  }

  get #availability(): PluginAvailability {
    return this.#ctx.availability;
  }

  #unavailable(reason: string, cause?: unknown): Error {
    return unavailableError(this.#ctx.type, this.#ctx.prefix, reason, cause);
  }

  #createDriver(target: RedisTarget): Driver {
    if (target.kind === 'embedded') return { kind: 'embedded', store: new MemoryStore(target.maxEntries) };
    const { settings, options, appName, prefix, logger, redact, availability } = this.#ctx;
    return {
      kind: 'server',
      connection: new RedisConnection({
        target,
        clientName: `${appName}:${prefix}`,
        connectTimeoutMs: settings.connectTimeout,
        commandTimeoutMs: settings.commandTimeout,
        backoff: options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF,
        logger,
        redact,
        onUp: () => availability.markAvailable(),
        onDown: (reason) => availability.markUnavailable(reason),
        unavailable: (reason, cause) => this.#unavailable(reason, cause),
      }),
    };
  }

  /**
   * Every store call checks availability first, so an outage costs a rejection, not a wait;
   * on a server, calls then go through the `cache` breaker, so a slow Redis costs a
   * rejection too once BREAKER_FAILURES calls in a row took longer than BREAKER_TIMEOUT.
   */
  #createStore(): CacheStore {
    const driver = this.#driver;
    const availability = this.#availability;
    if (driver.kind === 'off') return MISSING_STORE;
    if (driver.kind === 'embedded') {
      const { store } = driver;
      return {
        get: async (key) => (availability.assertAvailable(), store.get(key)),
        set: async (key, value, ttlMs) => (availability.assertAvailable(), store.set(key, value, ttlMs)),
        del: async (key) => (availability.assertAvailable(), store.delete(key)),
      };
    }
    const { connection } = driver;
    const { settings } = this.#ctx;
    const breaker = this.#ctx.breaker('cache', {
      timeoutMs: settings.breakerTimeout,
      consecutiveFailures: settings.breakerFailures,
      halfOpenAfterMs: settings.breakerHalfOpenAfter,
      // Slowness only: a lost or wedged connection is the availability's business, a command error the caller's.
      isFailure: (error) => OperationTimeoutError.is(error),
    });
    const store = timedStore(
      {
        get: async (key) => (await connection.run((client) => client.get(key))) ?? undefined,
        set: async (key, value, ttlMs) => {
          await connection.run((client) => client.set(key, value, ttlMs === undefined ? undefined : { expiration: { type: 'PX', value: ttlMs } }));
        },
        del: async (key) => (await connection.run((client) => client.del(key))) > 0,
      },
      this.#ctx.metrics,
    );
    // One error type for callers, whatever stopped the call: PluginUnavailableError, the breaker's error as its cause.
    const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
      availability.assertAvailable();
      try {
        return await breaker.execute(call);
      } catch (error) {
        if (BreakerOpenError.is(error)) throw this.#unavailable('cache breaker open', error);
        if (OperationTimeoutError.is(error)) throw this.#unavailable(`no reply within ${settings.breakerTimeout} ms (BREAKER_TIMEOUT)`, error);
        throw error;
      }
    };
    return {
      get: (key) => guarded(() => store.get(key)),
      set: (key, value, ttlMs) => guarded(() => store.set(key, value, ttlMs)),
      del: (key) => guarded(() => store.del(key)),
    };
  }
}
