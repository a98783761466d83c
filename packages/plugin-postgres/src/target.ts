import type { ConfigOf } from '@plinth/core';
import type { PostgresSettings, SslMode } from './settings.js';

export type PostgresConfig = ConfigOf<PostgresSettings>;

/** Where a postgres.js pool connects. Every field is explicit: nothing comes from `PG*` env vars. */
export interface ServerTarget {
  readonly kind: 'server';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Empty when none is configured (trust or peer authentication). */
  readonly password: string;
  readonly database: string;
  readonly ssl: SslMode;
}

/** The embedded PGlite database: in memory, or in a data folder. */
export interface EmbeddedTarget {
  readonly kind: 'embedded';
  readonly dataDir: string | undefined;
}

export type Target = ServerTarget | EmbeddedTarget;

/**
 * Resolves settings into a target: the embedded database when core decided so (no
 * server set, outside production or asked for), else the server. The parts a URL
 * contains win over the single settings; parts it lacks (port, database, password…)
 * come from those settings.
 */
export function resolveTarget(config: PostgresConfig, embedded: boolean): Target {
  if (embedded) return { kind: 'embedded', dataDir: config.dataDir };
  const fromUrl = config.url === undefined ? undefined : new URL(config.url);
  const decoded = (value: string | undefined): string | undefined =>
    value === undefined || value === '' ? undefined : decodeURIComponent(value);
  const sslmode = fromUrl?.searchParams.get('sslmode') ?? undefined;
  return {
    kind: 'server',
    host: decoded(fromUrl?.hostname.replace(/^\[(.*)\]$/, '$1')) ?? (config.host as string),
    port: fromUrl?.port ? Number(fromUrl.port) : config.port,
    user: decoded(fromUrl?.username) ?? config.user,
    password: decoded(fromUrl?.password) ?? config.password ?? '',
    database: decoded(fromUrl?.pathname.replace(/^\//, '')) ?? config.database,
    ssl: (sslmode as SslMode | undefined) ?? config.ssl,
  };
}

/** `host:port/database` as shown in logs and errors; never the password. */
export function describeTarget(target: ServerTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port}/${target.database}`;
}
