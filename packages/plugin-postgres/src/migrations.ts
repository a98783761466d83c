import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where drizzle's migrator keeps its journal: `drizzle.__drizzle_migrations` unless told otherwise. */
export interface MigrationsConfig {
  /** Absolute path of the drizzle-kit output folder (with `meta/_journal.json`). */
  readonly folder: string;
  readonly table: string;
  readonly schema: string;
}

export const DEFAULT_MIGRATIONS_TABLE = '__drizzle_migrations';
export const DEFAULT_MIGRATIONS_SCHEMA = 'drizzle';

/**
 * The folder to migrate from: the `MIGRATIONS` setting wins over the code option.
 * A relative path is resolved against the working directory.
 */
export function resolveMigrationsFolder(fromSetting: string | undefined, fromCode: string | URL | undefined): string | undefined {
  const chosen = fromSetting ?? fromCode;
  if (chosen === undefined) return undefined;
  const asPath = chosen instanceof URL ? fileURLToPath(chosen) : chosen;
  return path.resolve(asPath);
}

/** Fails with the folder named when it is not a drizzle-kit output folder. */
export function assertMigrationsFolder(folder: string): void {
  if (!existsSync(path.join(folder, 'meta', '_journal.json'))) {
    throw new Error(`migrations folder ${folder} has no meta/_journal.json (expected drizzle-kit output)`);
  }
}

/**
 * The `pg_advisory_lock` key that serialises migrations of one journal table: replicas
 * that start together take turns, and the later ones find nothing left to apply.
 * Derived from the table's name, so it is the same in every process and release.
 */
export function migrationLockKey(config: Pick<MigrationsConfig, 'schema' | 'table'>): string {
  const digest = createHash('sha256').update(`plinth:migrations:${config.schema}.${config.table}`).digest();
  return BigInt.asIntN(64, digest.readBigUInt64BE(0)).toString();
}
