import type { SettingProblem, SettingsOf } from '@plinth/core';
import type { redisSettings } from './settings.js';

export type RedisSettings = SettingsOf<typeof redisSettings>;

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
export function validateRedisSettings(settings: RedisSettings): SettingProblem<keyof RedisSettings & string>[] {
  const problems: SettingProblem<keyof RedisSettings & string>[] = [];
  for (const key of ['connectTimeout', 'commandTimeout'] as const) {
    if (settings[key] < 1) problems.push({ setting: key, message: `must be at least 1 ms (got ${settings[key]})` });
  }
  const path = settings.url === undefined ? '' : new URL(settings.url).pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) problems.push({ setting: 'url', message: `has the path "/${path}"; expected /<db number> or none` });
  return problems;
}

/**
 * Resolves the settings into a target: the embedded store when core decided so (no
 * server set, outside production or asked for), else the server. URL parts win; USERNAME,
 * PASSWORD and DB fill in what the URL leaves out, so a URL from a config map can pair
 * with a password from a secret.
 */
export function resolveTarget(settings: RedisSettings, embedded: boolean): RedisTarget {
  if (embedded) return { kind: 'embedded', maxEntries: settings.memoryMaxEntries };
  if (settings.url !== undefined) {
    const url = new URL(settings.url);
    const path = url.pathname.replace(/^\//, '');
    return {
      kind: 'server',
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : 6379,
      username: url.username ? decodeURIComponent(url.username) : settings.username || undefined,
      password: url.password ? decodeURIComponent(url.password) : settings.password || undefined,
      db: /^\d+$/.test(path) ? Number(path) : settings.db,
      tls: url.protocol === 'rediss:' || settings.tls,
    };
  }
  return {
    kind: 'server',
    host: settings.host as string,
    port: settings.port,
    username: settings.username || undefined,
    password: settings.password || undefined,
    db: settings.db,
    tls: settings.tls,
  };
}

/** `127.0.0.1:6379 db 2` — for errors and logs; never includes credentials. */
export function describeTarget(target: ServerTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port} db ${target.db}${target.tls ? ' (TLS)' : ''}`;
}
