import { performance } from 'node:perf_hooks';
import type { Logger } from '@plinth/core';
import { raceAbort } from '@plinth/core/lifecycle';
import type { DrizzleConfig } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type postgres from 'postgres';
import { createClient } from './client-options.js';
import type { DatabaseConnection, DrizzleSchema, PostgresDatabase } from './database.js';
import { CheckConnection } from './check-connection.js';
import { migrationLockKey, type MigrationsConfig } from './migrations.js';
import { noticeLogger } from './notices.js';
import type { QueryMetrics } from './query-metrics.js';
import { SocketTracker } from './socket-tracker.js';
import type { PostgresSettings, ServerTarget } from './target.js';

export interface ServerConnectionOptions<TSchema extends DrizzleSchema> {
  readonly target: ServerTarget;
  readonly settings: PostgresSettings;
  readonly applicationName: string;
  readonly logger: Logger;
  readonly drizzle: DrizzleConfig<TSchema>;
  readonly migrations: MigrationsConfig | undefined;
  /**
   * Called when a pool connection closes once the pool is open: the server may have
   * gone away (or the connection idled out; the plugin checks which).
   */
  readonly onConnectionClosed: () => void;
  /** Times the queries drizzle sends and records how long migrations took. */
  readonly metrics: QueryMetrics;
}

/** Which step of opening failed, so the error says "connect" or "migrate". */
export class OpenError extends Error {
  constructor(
    readonly step: 'connect' | 'migrate',
    cause: unknown,
  ) {
    super(step, { cause });
  }
}

/** A postgres.js pool with drizzle on top, verified and migrated. */
export class ServerConnection<TSchema extends DrizzleSchema> implements DatabaseConnection<TSchema> {
  readonly driver = 'postgres';
  readonly db: PostgresDatabase<TSchema>;
  readonly sql: postgres.Sql;
  readonly #sockets: SocketTracker;
  readonly #check: CheckConnection;

  private constructor(raw: postgres.Sql, sockets: SocketTracker, options: ServerConnectionOptions<TSchema>) {
    this.sql = raw;
    this.#sockets = sockets;
    this.db = drizzle(options.metrics.instrument(raw), options.drizzle) as PostgresDatabase<TSchema>;
    this.#check = new CheckConnection({
      target: options.target,
      settings: options.settings,
      applicationName: options.applicationName,
      onnotice: noticeLogger(options.logger, 'debug'),
    });
  }

  /**
   * Opens the pool, proves it with `select 1` (postgres.js connects lazily) and applies
   * pending migrations. On failure or abort everything opened here is closed again:
   * the lifecycle calls onStop only after a successful preStart.
   */
  static async open<TSchema extends DrizzleSchema>(
    options: ServerConnectionOptions<TSchema>,
    signal: AbortSignal,
  ): Promise<ServerConnection<TSchema>> {
    const { target, settings } = options;
    const sockets = new SocketTracker();
    let opened = false;
    const raw = createClient({
      target,
      settings,
      applicationName: options.applicationName,
      max: settings.poolMax,
      socket: sockets.connector(target.host, target.port, { watchSilence: target.ssl === 'disable' }),
      onnotice: noticeLogger(options.logger),
      onclose: () => {
        if (opened) options.onConnectionClosed();
      },
      statementTimeoutMs: settings.statementTimeout,
    });
    const closeNow = (): void => {
      sockets.destroyAll('connection closed: the instance did not start');
      raw.end({ timeout: 0 }).catch(() => undefined);
    };
    try {
      await raceAbort(raw`select 1`, signal);
    } catch (error) {
      closeNow();
      throw new OpenError('connect', error);
    }
    try {
      if (options.migrations) {
        const started = performance.now();
        await runMigrations(options, options.migrations, signal);
        options.metrics.migrated((performance.now() - started) / 1000);
      }
    } catch (error) {
      closeNow();
      throw new OpenError('migrate', error);
    }
    opened = true;
    return new ServerConnection(raw, sockets, options);
  }

  /** Connections the pool has open. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Closes connections whose query has had no answer for `silentMs`; returns how many. */
  cancelSilent(silentMs: number): number {
    return this.#sockets.destroySilent(silentMs, `query cancelled: no answer for ${silentMs} ms while shutting down`);
  }

  ping(signal: AbortSignal): Promise<void> {
    return this.#check.check(signal);
  }

  /**
   * Without a timeout, `end()` lets every in-flight query finish and then closes each
   * connection; the stop deadline (`signal`) is ours to enforce, by destroying the sockets.
   * Done when every socket has closed: postgres.js 3.4's `end()` promise never settles
   * once a connection was dropped with a query in flight, although nothing is left open.
   */
  async close(signal: AbortSignal, graceMs: number): Promise<number> {
    this.#check.close();
    const ended = this.sql.end();
    const forceClose = (): void => this.#sockets.destroyAll('connection closed: the stop deadline passed');
    if (signal.aborted) forceClose();
    else signal.addEventListener('abort', forceClose, { once: true });
    // Everything that depends on this instance has stopped: a query still running past the
    // grace belongs to work already given up (a request cut at the drain deadline, a hung
    // server). Cancel it, so the stop ends clean and in time.
    let cancelled = 0;
    const cancel = setTimeout(() => {
      cancelled = this.#sockets.size;
      this.#sockets.destroyAll('query cancelled: still running when the stop grace ran out');
    }, graceMs);
    try {
      await raceAbort(Promise.race([ended, this.#sockets.whenAllClosed()]), signal);
    } finally {
      clearTimeout(cancel);
      signal.removeEventListener('abort', forceClose);
    }
    return cancelled;
  }
}

/**
 * drizzle's migrator has no lock of its own, so replicas starting together would race.
 * Each takes a session-level `pg_advisory_lock` on a dedicated single connection first;
 * a connection that dies (deadline, crash) releases the lock with it.
 */
async function runMigrations<TSchema extends DrizzleSchema>(
  options: ServerConnectionOptions<TSchema>,
  migrations: MigrationsConfig,
  signal: AbortSignal,
): Promise<void> {
  const sockets = new SocketTracker();
  const sql = createClient({
    target: options.target,
    settings: options.settings,
    applicationName: options.applicationName,
    max: 1,
    socket: sockets.connector(options.target.host, options.target.port),
    // "schema already exists, skipping" on every start is not news.
    onnotice: noticeLogger(options.logger, 'debug'),
    statementTimeoutMs: 0,
  });
  const key = migrationLockKey(migrations);
  const journal = `${quoteIdent(migrations.schema)}.${quoteIdent(migrations.table)}`;
  try {
    const waitStart = performance.now();
    await raceAbort(sql`select pg_advisory_lock(${key}::bigint)`, signal);
    const waitedMs = Math.round(performance.now() - waitStart);
    const before = await raceAbort(countApplied(sql, journal), signal);
    await raceAbort(
      migrate(drizzle(sql), {
        migrationsFolder: migrations.folder,
        migrationsTable: migrations.table,
        migrationsSchema: migrations.schema,
      }),
      signal,
    );
    const after = await raceAbort(countApplied(sql, journal), signal);
    await raceAbort(sql`select pg_advisory_unlock(${key}::bigint)`, signal);
    options.logger.info(
      { folder: migrations.folder, applied: after - before, total: after, lockWaitMs: waitedMs },
      after > before ? `applied ${after - before} migration(s)` : 'migrations up to date',
    );
  } finally {
    if (signal.aborted) sockets.destroyAll('migration connection closed: the preStart deadline passed');
    await sql.end({ timeout: 1 }).catch(() => undefined);
  }
}

async function countApplied(sql: postgres.Sql, journal: string): Promise<number> {
  const [found] = await sql<{ exists: boolean }[]>`select to_regclass(${journal}) is not null as exists`;
  if (!found?.exists) return 0;
  const [row] = await sql.unsafe<{ count: number }[]>(`select count(*)::int as count from ${journal}`);
  return row?.count ?? 0;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
