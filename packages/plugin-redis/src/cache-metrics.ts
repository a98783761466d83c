import { performance } from 'node:perf_hooks';
import { PluginUnavailableError } from '@plinth/core';
import { BreakerOpenError, type PluginHistogram, type PluginMetrics } from '@plinth/core/resilience';
import type { CacheStore } from './cache-store.js';

export type CacheOperation = 'get' | 'set' | 'del';

/** What the cache facades count, shared by `.cache` and `.cacheAside`. */
export interface CacheMetrics {
  hit(): void;
  miss(): void;
  /**
   * A store call failed: refused at once (PluginUnavailableError without a cause: Redis
   * unavailable; with a BreakerOpenError cause: the breaker is open) or errored after
   * reaching Redis (a timeout, a dropped connection, a command error).
   */
  failed(operation: CacheOperation, error: unknown): void;
  /** A getOrSet called its loader. */
  loaded(): void;
  /** A getOrSet joined a lookup already in flight for its key. */
  joined(): void;
}

export function createCacheMetrics(metrics: PluginMetrics): CacheMetrics {
  const hits = metrics.counter({ name: 'plinth_redis_cache_hits_total', help: 'Cache reads that found a value' });
  const misses = metrics.counter({ name: 'plinth_redis_cache_misses_total', help: 'Cache reads that found nothing' });
  const errors = metrics.counter<'operation'>({
    name: 'plinth_redis_cache_errors_total',
    help: 'Cache calls that failed after reaching Redis (timeouts included), by operation',
    labelNames: ['operation'],
  });
  const refused = metrics.counter<'operation' | 'reason'>({
    name: 'plinth_redis_cache_refused_total',
    help: 'Cache calls refused at once, by operation and reason (unavailable, breaker)',
    labelNames: ['operation', 'reason'],
  });
  const loads = metrics.counter({ name: 'plinth_redis_cache_loads_total', help: 'getOrSet loader calls (misses that went to the source)' });
  const joins = metrics.counter({ name: 'plinth_redis_cache_joins_total', help: 'getOrSet calls that joined a lookup in flight for the same key' });
  return {
    hit: () => hits.inc(),
    miss: () => misses.inc(),
    failed(operation, error) {
      if (!PluginUnavailableError.is(error)) errors.inc({ operation });
      else if (BreakerOpenError.is(error.cause)) refused.inc({ operation, reason: 'breaker' });
      else if (error.cause === undefined) refused.inc({ operation, reason: 'unavailable' });
      else errors.inc({ operation });
    },
    loaded: () => loads.inc(),
    joined: () => joins.inc(),
  };
}

/** Times every store call: `plinth_redis_command_duration_seconds` by command. */
export function timedStore(store: CacheStore, metrics: PluginMetrics): CacheStore {
  const duration: PluginHistogram<'command' | 'outcome'> = metrics.histogram<'command' | 'outcome'>({
    name: 'plinth_redis_command_duration_seconds',
    help: 'Duration of the commands the cache sends to Redis, by command and outcome (ok, error)',
    labelNames: ['command', 'outcome'],
  });
  const time = async <T>(command: CacheOperation, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    let outcome = 'error';
    try {
      const result = await call();
      outcome = 'ok';
      return result;
    } finally {
      duration.observe({ command, outcome }, (performance.now() - started) / 1000);
    }
  };
  return {
    get: (key) => time('get', () => store.get(key)),
    set: (key, value, ttlMs) => time('set', () => store.set(key, value, ttlMs)),
    del: (key) => time('del', () => store.del(key)),
  };
}
