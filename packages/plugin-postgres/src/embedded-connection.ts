import type * as PGliteModule from '@electric-sql/pglite';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '@plinth/core';
import { raceAbort } from '@plinth/core/lifecycle';
import type { DrizzleConfig } from 'drizzle-orm';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DatabaseConnection, DrizzleSchema, PostgresDatabase } from './database.js';
import type { MigrationsConfig } from './migrations.js';
import { OpenError } from './server-connection.js';

export interface EmbeddedConnectionOptions<TSchema extends DrizzleSchema> {
  /** Data folder; in memory when undefined. */
  readonly dataDir: string | undefined;
  readonly logger: Logger;
  readonly drizzle: DrizzleConfig<TSchema>;
  readonly migrations: MigrationsConfig | undefined;
}

/**
 * PGlite (PostgreSQL compiled to WebAssembly, in process) with drizzle on top. Loaded
 * with a dynamic import, so apps that use a real server never load it. One process
 * runs one query at a time; there is no pool and no network.
 */
export class EmbeddedConnection<TSchema extends DrizzleSchema> implements DatabaseConnection<TSchema> {
  readonly driver = 'pglite';
  readonly sql = undefined;
  readonly db: PostgresDatabase<TSchema>;
  readonly #client: PGlite;

  private constructor(client: PGlite, db: PostgresDatabase<TSchema>) {
    this.#client = client;
    this.db = db;
  }

  static async open<TSchema extends DrizzleSchema>(
    options: EmbeddedConnectionOptions<TSchema>,
    signal: AbortSignal,
  ): Promise<EmbeddedConnection<TSchema>> {
    const [{ PGlite }, { drizzle }] = await raceAbort(Promise.all([importPGlite(), import('drizzle-orm/pglite')]), signal);
    let client: PGlite | undefined;
    const closeNow = (): void => {
      // Closing before it is ready is not supported; close once it is.
      client?.waitReady.then(() => client?.close()).catch(() => undefined);
    };
    try {
      if (options.dataDir !== undefined) {
        // PGlite creates the data folder itself, but not its parents.
        await mkdir(path.dirname(path.resolve(options.dataDir)), { recursive: true });
      }
      client = options.dataDir === undefined ? new PGlite() : new PGlite(path.resolve(options.dataDir));
      await raceAbort(client.waitReady, signal);
      await raceAbort(client.query('select 1'), signal);
    } catch (error) {
      closeNow();
      throw new OpenError('connect', error);
    }
    const db = drizzle({ client, ...options.drizzle }) as unknown as PostgresDatabase<TSchema>;
    try {
      if (options.migrations) {
        const { migrate } = await import('drizzle-orm/pglite/migrator');
        const migrations = options.migrations;
        const journal = `"${migrations.schema.replace(/"/g, '""')}"."${migrations.table.replace(/"/g, '""')}"`;
        const before = await raceAbort(countApplied(client, journal), signal);
        await raceAbort(
          migrate(db as Parameters<typeof migrate>[0], {
            migrationsFolder: migrations.folder,
            migrationsTable: migrations.table,
            migrationsSchema: migrations.schema,
          }),
          signal,
        );
        const after = await raceAbort(countApplied(client, journal), signal);
        options.logger.info(
          { folder: migrations.folder, applied: after - before, total: after },
          after > before ? `applied ${after - before} migration(s)` : 'migrations up to date',
        );
      }
    } catch (error) {
      closeNow();
      throw new OpenError('migrate', error);
    }
    return new EmbeddedConnection(client, db);
  }

  async ping(signal: AbortSignal): Promise<void> {
    await raceAbort(this.#client.query('select 1'), signal);
  }

  cancelSilent(): number {
    return 0;
  }

  async close(signal: AbortSignal): Promise<number> {
    // PGlite runs queries one at a time, in this process: close() waits for the one in
    // progress, and there is no connection to cut.
    await raceAbort(this.#client.close(), signal);
    return 0;
  }
}

/** PGlite is an optional peer dependency: only apps that run embedded install it. */
export class PGliteMissingError extends Error {
  constructor(cause: unknown) {
    super('embedded PostgreSQL needs the optional package @electric-sql/pglite, which is not installed', { cause });
  }
}

async function importPGlite(): Promise<typeof PGliteModule> {
  try {
    return await import('@electric-sql/pglite');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('@electric-sql/pglite')) {
      throw new PGliteMissingError(error);
    }
    throw error;
  }
}

async function countApplied(client: PGlite, journal: string): Promise<number> {
  const found = await client.query<{ exists: boolean }>('select to_regclass($1) is not null as exists', [journal]);
  if (!found.rows[0]?.exists) return 0;
  const counted = await client.query<{ count: number }>(`select count(*)::int as count from ${journal}`);
  return counted.rows[0]?.count ?? 0;
}
