import {
  envName,
  messageOf,
  PlinthError,
  NonRetryableError,
  PluginUnavailableError,
  type HealthCheck,
  type HealthCheckContext,
  type HookContext,
  type OnStop,
  type PluginContext,
  type PluginTarget,
  type PreStart,
} from '@plinth/core';
import type { DrizzleConfig } from 'drizzle-orm';
import type { PgTransactionConfig } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import { Backoff, sleep } from '@plinth/core/lifecycle';
import { isArrayTypesQueryFailure, isConnectionError, isPermanentOpenFailure, lostTransactionConnection } from './connection-errors.js';
import type { DatabaseConnection, DrizzleSchema, PostgresDatabase, PostgresTransaction } from './database.js';
import { EmbeddedConnection, PGliteMissingError } from './embedded-connection.js';
import {
  assertMigrationsFolder,
  DEFAULT_MIGRATIONS_SCHEMA,
  DEFAULT_MIGRATIONS_TABLE,
  resolveMigrationsFolder,
  type MigrationsConfig,
} from './migrations.js';
import { createQueryMetrics, type QueryMetrics } from './query-metrics.js';
import { OpenError, ServerConnection } from './server-connection.js';
import { describeTarget, resolveTarget, type PostgresSettings, type Target } from './target.js';

/** Code options of `postgres(prefix, options)`, besides the common ones (`critical`, timeouts, `settings`). */
export interface PostgresOptions<TSchema extends DrizzleSchema = Record<string, never>> {
  /** The drizzle schema (tables and relations): types `.db` and enables `db.query.<table>`. */
  readonly schema?: TSchema;
  /** drizzle's column name casing, e.g. `snake_case` for camelCase keys on snake_case columns. */
  readonly casing?: 'snake_case' | 'camelCase';
  /** Folder of drizzle-kit migrations to apply in preStart. The `MIGRATIONS` setting overrides it. */
  readonly migrations?: string | URL;
  /** Journal table of applied migrations (default `__drizzle_migrations`). */
  readonly migrationsTable?: string;
  /** Schema of the journal table (default `drizzle`). */
  readonly migrationsSchema?: string;
}

type State = 'idle' | 'started' | 'stopping' | 'stopped';

/**
 * Pauses between recovery checks after a connection error: from 100 ms, doubling, up to
 * 1 s, jittered. A check is one `select 1` on one connection, so a server that comes back
 * is seen within about a second.
 */
export const RECOVERY_BACKOFF = { initialDelayMs: 100, maxDelayMs: 1000 } as const;

/**
 * One PostgreSQL instance (`primary_db`, `analytics_db`…): a drizzle database on a
 * postgres.js pool, or on embedded PGlite when no server is configured.
 *
 * Availability: when a pool connection closes, one `select 1` on the check connection
 * checks the server; if it fails (or a health check fails with a connection error) the
 * instance is marked unavailable and calls fail fast with `PluginUnavailableError`. A
 * recovery check (`select 1`, with backoff) or the next successful health check marks it
 * available again.
 */
export class PostgresPlugin<TSchema extends DrizzleSchema = Record<string, never>> implements PreStart, OnStop, HealthCheck, PluginTarget {
  readonly prefix: string;
  readonly #ctx: PluginContext<PostgresSettings, PostgresOptions<TSchema>>;
  readonly #target: Target;
  readonly #lifetime = new AbortController();
  #connection: DatabaseConnection<TSchema> | undefined;
  #state: State = 'idle';
  #recovering: Promise<void> | undefined;
  #verifying = false;
  #announced = false;
  readonly #metrics: QueryMetrics;

  constructor(ctx: PluginContext<PostgresSettings, PostgresOptions<TSchema>>) {
    this.#ctx = ctx;
    this.prefix = ctx.prefix;
    this.#target = resolveTarget(ctx.settings, ctx.embedded);
    ctx.app.tolerateRejection(
      isArrayTypesQueryFailure,
      'postgres.js 3.4 leaves the failure of its own array-types query on a new connection unhandled; the query that opened the connection fails on its own',
    );
    this.#metrics = createQueryMetrics(ctx.metrics, () => {
      const connection = this.#connection;
      return connection instanceof ServerConnection ? { connections: () => connection.connections, poolMax: ctx.settings.poolMax } : undefined;
    });
  }

  /** True when the instance runs embedded, on PGlite, rather than on a PostgreSQL server. */
  get embedded(): boolean {
    return this.#target.kind === 'embedded';
  }

  /** Where the instance connects, for logs: `host:port/database`, `pglite:memory` or `pglite:<folder>`. */
  get target(): string {
    const target = this.#target;
    if (target.kind === 'server') return describeTarget(target);
    return target.dataDir === undefined ? 'pglite:memory' : `pglite:${target.dataDir}`;
  }

  /** The drizzle database, typed by the schema given in code. Throws `PluginUnavailableError` during an outage. */
  get db(): PostgresDatabase<TSchema> {
    return this.#usable().db;
  }

  /**
   * The raw postgres.js client (the same pool as `.db`). Not available on embedded
   * PGlite: use `.db` (with drizzle's `sql` template for raw SQL) to run on both.
   */
  get sql(): postgres.Sql {
    if (this.#target.kind === 'embedded') {
      throw new PlinthError(
        `postgres "${this.prefix}" runs on embedded PGlite, which has no postgres.js client, so .sql is unavailable. ` +
          `Set ${this.#envName('url')} or ${this.#envName('host')} to use PostgreSQL, or use .db (drizzle), which works on both`,
      );
    }
    return this.#usable().sql as postgres.Sql;
  }

  /** Runs `fn` in a transaction (drizzle's `db.transaction`): committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: PostgresTransaction<TSchema>) => Promise<T>, config?: PgTransactionConfig): Promise<T> {
    return this.db.transaction((tx) => holdWhenConnectionLost(fn(tx)), config);
  }

  async preStart({ signal, appSignal }: HookContext): Promise<void> {
    const target = this.#target;
    const migrations = this.#migrationsConfig();
    if (target.kind === 'server' && !this.#announced && process.env['PGTARGETSESSIONATTRS']) {
      this.#announced = true;
      this.#ctx.logger.warn('PGTARGETSESSIONATTRS is set: postgres.js applies it and plinth cannot override it');
    }
    const drizzleConfig: DrizzleConfig<TSchema> = {
      ...(this.#ctx.options.schema ? { schema: this.#ctx.options.schema } : {}),
      ...(this.#ctx.options.casing ? { casing: this.#ctx.options.casing } : {}),
    };
    try {
      this.#connection =
        target.kind === 'server'
          ? await ServerConnection.open(
              {
                target,
                settings: this.#ctx.settings,
                applicationName: this.#ctx.appName,
                logger: this.#ctx.logger,
                drizzle: drizzleConfig,
                migrations,
                onConnectionClosed: () => this.#onConnectionClosed(),
                metrics: this.#metrics,
              },
              signal,
            )
          : await EmbeddedConnection.open(
              { dataDir: target.dataDir, logger: this.#ctx.logger, drizzle: drizzleConfig, migrations },
              signal,
            );
    } catch (error) {
      if (error instanceof PGliteMissingError) {
        throw new NonRetryableError(
          `postgres "${this.prefix}" has no server configured and runs embedded, which needs @electric-sql/pglite: ` +
            `npm install @electric-sql/pglite, or set ${this.#envName('url')} or ${this.#envName('host')} to use PostgreSQL`,
          { cause: error },
        );
      }
      const step = error instanceof OpenError ? error.step : 'connect';
      const cause = error instanceof OpenError ? error.cause : error;
      const message = this.#ctx.redact(this.#describeOpenFailure(step, cause, signal, migrations));
      // A wrong role or a broken migration will fail the same way on every attempt.
      if (isPermanentOpenFailure(step, cause)) throw new NonRetryableError(message, { cause: error });
      throw new Error(message, { cause: error });
    }
    this.#state = 'started';
    this.#cancelStalledQueriesOnShutdown(appSignal);
    this.#ctx.logger.info(
      target.kind === 'server'
        ? { target: this.target, poolMax: this.#ctx.settings.poolMax, ssl: target.ssl }
        : { embedded: true, target: this.target },
      `${this.prefix} connected to ${this.target}`,
    );
  }

  async onStop({ signal }: HookContext): Promise<void> {
    this.#state = 'stopping';
    this.#lifetime.abort();
    const connection = this.#connection;
    const started = performance.now();
    try {
      const cancelled = await connection?.close(signal, this.#ctx.settings.stopQueryGrace);
      if (cancelled) {
        this.#ctx.logger.warn(
          { connections: cancelled, graceMs: this.#ctx.settings.stopQueryGrace },
          `cancelled the queries still running after ${this.#ctx.settings.stopQueryGrace} ms: closed ${cancelled} connection(s)`,
        );
      }
    } catch (error) {
      this.#ctx.logger.warn({ error: this.#ctx.redact(messageOf(error)) }, 'closed connections before in-flight queries finished');
      throw error;
    } finally {
      this.#connection = undefined;
      this.#state = 'stopped';
      await this.#recovering;
    }
    this.#ctx.logger.info(
      { durationMs: Math.round(performance.now() - started) },
      this.embedded ? 'embedded database closed' : 'connection pool closed',
    );
  }

  async healthCheck({ signal }: HealthCheckContext): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined || this.#state !== 'started') {
      throw new Error(`${this.prefix} is not connected${this.#ctx.availability.reason ? ` (${this.#ctx.availability.reason})` : ''}`);
    }
    try {
      await connection.ping(signal);
    } catch (error) {
      if (isConnectionError(error)) this.#onConnectionError(error);
      const why = signal.aborted ? 'no answer to select 1 within the health timeout' : `select 1 failed: ${messageOf(error)}`;
      throw new Error(this.#ctx.redact(`${this.target}: ${why}`), { cause: error });
    }
    this.#markRecovered();
  }

  /**
   * Once shutdown begins, a query that has had no answer for STOP_QUERY_GRACE is cancelled
   * (its connection closed): a hung server would otherwise hold every request and message
   * handler waiting on it, and with them each step of the shutdown, past its budget. The
   * callers get a connection error (a 503 through core's unavailableResponder).
   */
  #cancelStalledQueriesOnShutdown(appSignal: AbortSignal): void {
    const watch = (): void => {
      const grace = this.#ctx.settings.stopQueryGrace;
      const timer = setInterval(() => {
        const connection = this.#connection;
        if (connection === undefined || this.#state === 'stopped') {
          clearInterval(timer);
          return;
        }
        const cancelled = connection.cancelSilent(grace);
        if (cancelled > 0) {
          this.#ctx.logger.warn(
            { connections: cancelled, graceMs: grace },
            `cancelled the queries still running after ${grace} ms without an answer while shutting down: closed ${cancelled} connection(s)`,
          );
        }
      }, Math.max(50, Math.min(250, grace)));
      timer.unref();
    };
    if (appSignal.aborted) watch();
    else appSignal.addEventListener('abort', watch, { once: true });
  }

  #usable(): DatabaseConnection<TSchema> {
    this.#ctx.availability.assertAvailable();
    const connection = this.#connection;
    if (connection === undefined || this.#state !== 'started') {
      throw new PluginUnavailableError(this.#ctx.type, this.prefix, this.#state === 'idle' ? 'not started' : 'stopping');
    }
    return connection;
  }

  #migrationsConfig(): MigrationsConfig | undefined {
    const folder = resolveMigrationsFolder(this.#ctx.settings.migrations, this.#ctx.options.migrations);
    if (folder === undefined) return undefined;
    assertMigrationsFolder(folder);
    return {
      folder,
      table: this.#ctx.options.migrationsTable ?? DEFAULT_MIGRATIONS_TABLE,
      schema: this.#ctx.options.migrationsSchema ?? DEFAULT_MIGRATIONS_SCHEMA,
    };
  }

  #describeOpenFailure(step: OpenError['step'], cause: unknown, signal: AbortSignal, migrations: MigrationsConfig | undefined): string {
    const target = this.#target;
    if (step === 'migrate') {
      const why = signal.aborted ? 'did not finish before the preStart deadline' : `failed: ${messageOf(cause)}`;
      return `migrations from ${migrations?.folder ?? '?'} on ${this.target} ${why}`;
    }
    if (target.kind === 'embedded') {
      const why = signal.aborted ? 'did not open before the preStart deadline' : `failed to open: ${messageOf(cause)}`;
      return `embedded PGlite (${this.target}) ${why}`;
    }
    const who = `PostgreSQL at ${this.target} as user "${target.user}"`;
    return signal.aborted ? `${who} did not answer before the preStart deadline` : `cannot connect to ${who}: ${messageOf(cause)}`;
  }

  /**
   * A pool connection closed: a dropped server, or just an idle timeout. One `select 1`
   * on the check connection tells them apart; if it fails, the instance is unavailable.
   */
  #onConnectionClosed(): void {
    const connection = this.#connection;
    if (this.#state !== 'started' || !this.#ctx.availability.available || connection === undefined || this.#verifying) return;
    this.#verifying = true;
    connection
      .ping(AbortSignal.any([this.#lifetime.signal, AbortSignal.timeout(this.#ctx.settings.connectTimeout)]))
      .then(() => this.#ctx.logger.debug({ target: this.target }, 'a pool connection closed; the server still answers'))
      .catch((error: unknown) => {
        if (!this.#lifetime.signal.aborted) this.#onConnectionError(error);
      })
      .finally(() => {
        this.#verifying = false;
      });
  }

  #onConnectionError(error: unknown): void {
    const availability = this.#ctx.availability;
    if (this.#state !== 'started' || !availability.available) return;
    const reason = this.#ctx.redact(`connection to ${this.target} failed: ${messageOf(error)}`);
    this.#ctx.logger.warn({ target: this.target }, `${this.prefix} unavailable: ${reason}`);
    availability.markUnavailable(reason);
    this.#recovering ??= this.#recover().finally(() => {
      this.#recovering = undefined;
    });
  }

  /** Checks with `select 1` and growing pauses until the server answers or the instance stops. */
  async #recover(): Promise<void> {
    const lifetime = this.#lifetime.signal;
    const backoff = new Backoff(RECOVERY_BACKOFF);
    while (this.#state === 'started' && !this.#ctx.availability.available) {
      const connection = this.#connection;
      if (connection === undefined) return;
      try {
        await connection.ping(AbortSignal.any([lifetime, AbortSignal.timeout(this.#ctx.settings.connectTimeout)]));
        this.#markRecovered();
        return;
      } catch {
        // still down: wait and try again
      }
      try {
        await sleep(backoff.next(), lifetime);
      } catch {
        return; // stopping
      }
    }
  }

  #markRecovered(): void {
    if (this.#state !== 'started' || this.#ctx.availability.available) return;
    this.#ctx.availability.markAvailable();
    this.#ctx.logger.info({ target: this.target }, `${this.prefix} available again`);
  }

  #envName(key: string): string {
    return envName(this.#ctx.appName, this.prefix, key);
  }
}

/**
 * postgres.js (3.4) answers a transaction callback that threw by sending `rollback` on the
 * transaction's reserved connection, even when that connection has just closed: the write
 * then runs in a timer against a socket postgres.js has already dropped, and the TypeError
 * it throws takes the process down. The server rolls back a transaction whose connection
 * dropped by itself, and postgres.js rejects the transaction with the connection's close
 * error regardless, so a callback that failed because its connection was lost is left
 * unsettled: postgres.js then never sends that rollback.
 */
function holdWhenConnectionLost<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => (lostTransactionConnection(error) ? new Promise<T>(() => undefined) : Promise.reject(error)));
}
