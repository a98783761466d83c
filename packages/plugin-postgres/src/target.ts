import type { SettingsOf } from '@plinth/core';
import type { PostgresSettingsSchema, SslMode } from './settings.js';

export type PostgresSettings = SettingsOf<PostgresSettingsSchema>;

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
export function resolveTarget(settings: PostgresSettings, embedded: boolean): Target {
  if (embedded) return { kind: 'embedded', dataDir: settings.dataDir };
  const fromUrl = settings.url === undefined ? undefined : new URL(settings.url);
  const decoded = (value: string | undefined): string | undefined =>
    value === undefined || value === '' ? undefined : decodeURIComponent(value);
  const sslmode = fromUrl?.searchParams.get('sslmode') ?? undefined;
  return {
    kind: 'server',
    host: decoded(fromUrl?.hostname.replace(/^\[(.*)\]$/, '$1')) ?? (settings.host as string),
    port: fromUrl?.port ? Number(fromUrl.port) : settings.port,
    user: decoded(fromUrl?.username) ?? settings.user,
    password: decoded(fromUrl?.password) ?? settings.password ?? '',
    database: decoded(fromUrl?.pathname.replace(/^\//, '')) ?? settings.database,
    ssl: (sslmode as SslMode | undefined) ?? settings.ssl,
  };
}

/** `host:port/database` as shown in logs and errors; never the password. */
export function describeTarget(target: ServerTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port}/${target.database}`;
}
