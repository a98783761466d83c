import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type postgres from 'postgres';

/** A drizzle schema: the tables (and relations) exported by the user's schema module. */
export type DrizzleSchema = Record<string, unknown>;

/**
 * The drizzle database both drivers share: service code written against it runs on
 * PostgreSQL (postgres.js) and on embedded PGlite alike.
 */
export type PostgresDatabase<TSchema extends DrizzleSchema = Record<string, never>> = PgDatabase<PgQueryResultHKT, TSchema>;

/** The transaction handle `.transaction(fn)` passes to `fn`. */
export type PostgresTransaction<TSchema extends DrizzleSchema = Record<string, never>> = PgTransaction<
  PgQueryResultHKT,
  TSchema,
  ExtractTablesWithRelations<TSchema>
>;

/** Which driver an instance runs on. */
export type PostgresDriver = 'postgres' | 'pglite';

/** An open database of either driver, as the plugin drives it. */
export interface DatabaseConnection<TSchema extends DrizzleSchema> {
  readonly driver: PostgresDriver;
  readonly db: PostgresDatabase<TSchema>;
  /** The postgres.js client; undefined on PGlite. */
  readonly sql: postgres.Sql | undefined;
  /** Resolves when `select 1` answers; rejects otherwise, no later than `signal`. */
  ping(signal: AbortSignal): Promise<void>;
  /**
   * Lets in-flight queries finish, then closes; queries still running after `graceMs` are
   * cancelled (their connections closed). Resolves with how many connections that closed
   * (0: everything finished). When `signal` aborts, closes at once and rejects.
   */
  close(signal: AbortSignal, graceMs: number): Promise<number>;
  /** Closes connections whose query has had no answer for `silentMs`; returns how many (0 on PGlite). */
  cancelSilent(silentMs: number): number;
}
