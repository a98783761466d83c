import postgres from 'postgres';
import { requireService, serviceAddress, testServices } from './services.js';
import { uniqueName } from './unique-name.js';

/** A throwaway database on the shared PostgreSQL server. */
export interface ScratchPostgresDatabase {
  readonly name: string;
  /** Connection URL for the new database (admin URL with the path swapped). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Same as `name`; matches the `database` option of most clients. */
  readonly database: string;
  /** Terminates its sessions and drops it. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database so tests can run in parallel and migrate
 * freely. Always `drop()` it (in an `after` hook). Fails with start instructions
 * if PostgreSQL is down.
 */
export async function createScratchPostgresDatabase(prefix = 'plinth_test'): Promise<ScratchPostgresDatabase> {
  const adminUrl = await requireService('postgres');
  // Identifiers are folded to lower case and capped at 63 bytes by PostgreSQL.
  const safePrefix = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40);
  const name = uniqueName(safePrefix, '_');
  await withAdmin(adminUrl, (sql) => sql`CREATE DATABASE ${sql(name)}`);

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const { host, port } = serviceAddress('postgres', testServices());
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    host,
    port,
    database: name,
    drop() {
      dropped ??= withAdmin(adminUrl, async (sql) => {
        // Open pools in the code under test would otherwise block the drop.
        await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${name} AND pid <> pg_backend_pid()`;
        await sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`;
      }).then(() => undefined);
      return dropped;
    },
  };
}

/** Runs `fn` on a one-connection admin client that is always closed afterwards. */
async function withAdmin<T>(adminUrl: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
