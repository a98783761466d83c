import type { ConfigOf, SettingProblem } from '@plinth/core';
import type { redisSettings } from './settings.js';

export type RedisConfig = ConfigOf<typeof redisSettings>;

/** Where an instance keeps its data: a Redis server, or the embedded in-memory store. */
export type RedisTarget =
  | { readonly kind: 'embedded'; readonly maxEntries: number }
  | {
      readonly kind: 'server';
      readonly host: string;
      readonly port: number;
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly db: number;
      readonly tls: boolean;
    };

export type ServerTarget = Extract<RedisTarget, { kind: 'server' }>;

/**
 * What the setting formats cannot catch alone: a URL path that is not a DB number, and
 * timeouts of zero. Core reports these with every other config problem, by env var.
 */
export function validateRedisConfig(config: RedisConfig): SettingProblem<keyof RedisConfig & string>[] {
  const problems: SettingProblem<keyof RedisConfig & string>[] = [];
  for (const key of ['connectTimeout', 'commandTimeout'] as const) {
    if (config[key] < 1) problems.push({ setting: key, message: `must be at least 1 ms (got ${config[key]})` });
  }
  const path = config.url === undefined ? '' : new URL(config.url).pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) problems.push({ setting: 'url', message: `has the path "/${path}"; expected /<db number> or none` });
  return problems;
}

/**
 * Resolves the settings into a target: the embedded store when core decided so (no
 * server set, outside production or asked for), else the server. URL parts win; USERNAME,
 * PASSWORD and DB fill in what the URL leaves out, so a URL from a config map can pair
 * with a password from a secret.
 */
export function resolveTarget(config: RedisConfig, embedded: boolean): RedisTarget {
  if (embedded) return { kind: 'embedded', maxEntries: config.memoryMaxEntries };
  if (config.url !== undefined) {
    const url = new URL(config.url);
    const path = url.pathname.replace(/^\//, '');
    return {
      kind: 'server',
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : 6379,
      username: url.username ? decodeURIComponent(url.username) : config.username || undefined,
      password: url.password ? decodeURIComponent(url.password) : config.password || undefined,
      db: /^\d+$/.test(path) ? Number(path) : config.db,
      tls: url.protocol === 'rediss:' || config.tls,
    };
  }
  return {
    kind: 'server',
    host: config.host as string,
    port: config.port,
    username: config.username || undefined,
    password: config.password || undefined,
    db: config.db,
    tls: config.tls,
  };
}

/** `127.0.0.1:6379 db 2` — for errors and logs; never includes credentials. */
export function describeTarget(target: ServerTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port} db ${target.db}${target.tls ? ' (TLS)' : ''}`;
}
