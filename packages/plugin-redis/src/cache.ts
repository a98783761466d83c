import { messageOf, type Logger } from '@plinth/core';
import type { CacheCodec } from './codec.js';
import type { CacheMetrics, CacheOperation } from './cache-metrics.js';
import type { CacheStore } from './cache-store.js';

export interface CacheSetOptions {
  /** Time to live in ms (a positive integer); omitted = the entry does not expire. */
  readonly ttlMs?: number;
}

/**
 * A typed key/value cache over Redis or the embedded store. Keys get KEY_PREFIX; values
 * are encoded with the instance's codec (JSON by default). `undefined` means "miss".
 */
export interface Cache {
  /** The cached value, or undefined on a miss. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, options?: CacheSetOptions): Promise<void>;
  /** True when an entry was removed. */
  del(key: string): Promise<boolean>;
  /**
   * The cached value, or else the loader's value, which is then cached. Concurrent calls
   * for the same key in this process share one lookup and one loader call. A loader that
   * throws rejects every caller sharing it and caches nothing; a loader that returns
   * undefined caches nothing.
   */
  getOrSet<T>(key: string, loader: () => T | Promise<T>, options?: CacheSetOptions): Promise<T>;
}

export type CacheMode =
  /** Store failures reject (PluginUnavailableError while Redis is down). */
  | 'strict'
  /** Store failures become misses and no-ops, logged at debug: for cache-aside use. */
  | 'aside';

export interface CacheFacadeOptions {
  readonly store: CacheStore;
  readonly keyPrefix: string;
  readonly codec: CacheCodec;
  readonly mode: CacheMode;
  readonly logger: Logger;
  readonly metrics: CacheMetrics;
}

export class CacheFacade implements Cache {
  readonly #options: CacheFacadeOptions;
  /** In-flight getOrSet calls by full key: the single-flight table. */
  readonly #flights = new Map<string, Promise<unknown>>();

  constructor(options: CacheFacadeOptions) {
    this.#options = options;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    return this.#read<T>(this.#fullKey(key));
  }

  async set<T>(key: string, value: T, options?: CacheSetOptions): Promise<void> {
    const fullKey = this.#fullKey(key);
    const ttlMs = ttlOf(options);
    await this.#write(fullKey, this.#options.codec.encode(value), ttlMs);
  }

  async del(key: string): Promise<boolean> {
    const fullKey = this.#fullKey(key);
    try {
      return await this.#options.store.del(fullKey);
    } catch (error) {
      return this.#absorb(error, 'del', fullKey, false);
    }
  }

  // No await before the flight is registered: concurrent callers must find it.
  async getOrSet<T>(key: string, loader: () => T | Promise<T>, options?: CacheSetOptions): Promise<T> {
    const fullKey = this.#fullKey(key);
    const ttlMs = ttlOf(options);
    const inFlight = this.#flights.get(fullKey);
    if (inFlight !== undefined) {
      this.#options.metrics.joined();
      return inFlight as Promise<T>;
    }
    const flight = (async () => {
      try {
        return await this.#load(fullKey, loader, ttlMs);
      } finally {
        this.#flights.delete(fullKey);
      }
    })();
    this.#flights.set(fullKey, flight);
    return await flight;
  }

  async #load<T>(fullKey: string, loader: () => T | Promise<T>, ttlMs: number | undefined): Promise<T> {
    const cached = await this.#read<T>(fullKey);
    if (cached !== undefined) return cached;
    this.#options.metrics.loaded();
    const value = await loader();
    if (value !== undefined) await this.#write(fullKey, this.#options.codec.encode(value), ttlMs);
    return value;
  }

  async #read<T>(fullKey: string): Promise<T | undefined> {
    try {
      const text = await this.#options.store.get(fullKey);
      if (text === undefined) this.#options.metrics.miss();
      else this.#options.metrics.hit();
      return text === undefined ? undefined : (this.#options.codec.decode(text) as T);
    } catch (error) {
      return this.#absorb(error, 'get', fullKey, undefined);
    }
  }

  async #write(fullKey: string, text: string, ttlMs: number | undefined): Promise<void> {
    try {
      await this.#options.store.set(fullKey, text, ttlMs);
    } catch (error) {
      this.#absorb(error, 'set', fullKey, undefined);
    }
  }

  /** Strict: rethrow. Aside: log at debug and carry on with the fallback. */
  #absorb<R>(error: unknown, operation: CacheOperation, fullKey: string, fallback: R): R {
    this.#options.metrics.failed(operation, error);
    if (this.#options.mode === 'strict') throw error;
    // Aside: a read that failed is served as a miss, and counted as one.
    if (operation === 'get') this.#options.metrics.miss();
    this.#options.logger.debug({ operation, key: fullKey, err: messageOf(error) }, `cache ${operation} failed; carrying on without the cache`);
    return fallback;
  }

  #fullKey(key: string): string {
    if (typeof key !== 'string' || key === '') throw new TypeError('cache keys must be non-empty strings');
    return this.#options.keyPrefix + key;
  }
}

function ttlOf(options: CacheSetOptions | undefined): number | undefined {
  const ttlMs = options?.ttlMs;
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs < 1)) {
    throw new RangeError(`ttlMs must be a positive integer number of milliseconds (got ${String(ttlMs)})`);
  }
  return ttlMs;
}
