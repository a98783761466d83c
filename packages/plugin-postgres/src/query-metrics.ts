import { performance } from 'node:perf_hooks';
import type { PluginMetrics } from '@plinth/core/resilience';
import type postgres from 'postgres';
import { isConnectionError } from './connection-errors.js';

/** What the instrumented client reports, and what the pool gauges read. */
export interface QueryMetrics {
  /** Wraps a postgres.js client so every query drizzle (or a transaction) sends is timed. */
  instrument(sql: postgres.Sql): postgres.Sql;
  migrated(seconds: number): void;
}

/** How busy the pool is: open connections, and queries plus open transactions holding one. */
export interface PoolSource {
  readonly connections: () => number;
  readonly poolMax: number;
}

type Outcome = 'ok' | 'error' | 'connection_error';

function outcomeOf(error: unknown): Outcome {
  return isConnectionError(error) ? 'connection_error' : 'error';
}

/**
 * `plinth_postgres_*`: query duration by outcome, transactions by outcome, the pool's size,
 * use and queue, and how long migrations took at start.
 */
export function createQueryMetrics(metrics: PluginMetrics, pool: () => PoolSource | undefined): QueryMetrics {
  const duration = metrics.histogram<'outcome'>({
    name: 'plinth_postgres_query_duration_seconds',
    help: 'Duration of the queries sent through .db and .transaction, by outcome (ok, error, connection_error)',
    labelNames: ['outcome'],
  });
  const errors = metrics.counter<'outcome'>({
    name: 'plinth_postgres_query_errors_total',
    help: 'Queries that failed, by outcome (error: the server refused the query; connection_error: the database could not be reached)',
    labelNames: ['outcome'],
  });
  const transactions = metrics.counter<'outcome'>({
    name: 'plinth_postgres_transactions_total',
    help: 'Transactions that ended, by outcome (committed, rolled_back)',
    labelNames: ['outcome'],
  });
  const migration = metrics.gauge({ name: 'plinth_postgres_migration_duration_seconds', help: 'How long applying migrations took at start' });
  let busy = 0;
  const usage = (read: (pool: PoolSource) => number) => (gauge: { set(labels: Record<string, never>, value: number): void }) => {
    const source = pool();
    if (source) gauge.set({}, read(source));
  };
  metrics.gauge({ name: 'plinth_postgres_pool_connections', help: 'Connections the pool has open', collect: usage((p) => p.connections()) });
  metrics.gauge({ name: 'plinth_postgres_pool_max_connections', help: 'Connections the pool may open (POOL_MAX)', collect: usage((p) => p.poolMax) });
  metrics.gauge({ name: 'plinth_postgres_pool_in_use', help: 'Connections running a query or holding a transaction', collect: usage((p) => Math.min(busy, p.poolMax)) });
  metrics.gauge({ name: 'plinth_postgres_pool_waiting', help: 'Queries waiting for a free connection', collect: usage((p) => Math.max(0, busy - p.poolMax)) });

  /** `inTransaction`: the query runs on the transaction's connection, already counted busy. */
  const timed = <T extends PromiseLike<unknown>>(query: T, inTransaction: boolean): T => {
    const started = performance.now();
    const hold = inTransaction ? 0 : 1;
    busy += hold;
    query.then(
      () => {
        busy -= hold;
        duration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      },
      (error: unknown) => {
        busy -= hold;
        const outcome = outcomeOf(error);
        duration.observe({ outcome }, (performance.now() - started) / 1000);
        errors.inc({ outcome });
      },
    );
    return query;
  };

  type Callback = (sql: postgres.Sql) => unknown;
  type Method = (...args: unknown[]) => Promise<unknown>;
  const instrument = (sql: postgres.Sql, inTransaction: boolean): postgres.Sql => {
    // Made once per client, not on every property read: drizzle reads `unsafe` for each query.
    const unsafe = (...args: Parameters<postgres.Sql['unsafe']>) => timed(sql.unsafe(...args), inTransaction);
    return new Proxy(sql, {
      get(target, property, receiver) {
        if (property === 'unsafe') return unsafe;
        if (property !== 'begin' && property !== 'savepoint') return Reflect.get(target, property, receiver) as unknown;
        const method = Reflect.get(target, property, receiver) as Method;
        return (...args: unknown[]) => {
          const callback = args.pop() as Callback;
          const ended = method(...args, (tx: postgres.Sql) => callback(instrument(tx, true)));
          if (property === 'savepoint') return ended;
          // The transaction holds a connection for its whole life, queries or not.
          busy += 1;
          ended.then(
            () => {
              busy -= 1;
              transactions.inc({ outcome: 'committed' });
            },
            () => {
              busy -= 1;
              transactions.inc({ outcome: 'rolled_back' });
            },
          );
          return ended;
        };
      },
    });
  };
  return {
    instrument: (sql) => (metrics.enabled ? instrument(sql, false) : sql),
    migrated: (seconds) => migration.set({}, seconds),
  };
}
