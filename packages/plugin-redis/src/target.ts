import { ConfigError, envName, type SettingsOf } from '@plinth/core';
import type { redisSettings } from './settings.js';

export type RedisConfig = SettingsOf<typeof redisSettings>;

/** Where an instance keeps its data: a Redis server, or the embedded in-memory store. */
export type RedisTarget =
  | { readonly driver: 'memory'; readonly maxEntries: number }
  | {
      readonly driver: 'redis';
      readonly host: string;
      readonly port: number;
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly db: number;
      readonly tls: boolean;
    };

export type ServerTarget = Extract<RedisTarget, { driver: 'redis' }>;

/**
 * Resolves the settings into a target. URL parts win; USERNAME, PASSWORD and DB fill in
 * what the URL leaves out, so a URL from a config map can pair with a password from a secret.
 * Throws ConfigError (exit 78) for values the setting formats cannot catch alone.
 */
export function resolveTarget(config: RedisConfig, appName: string, prefix: string): RedisTarget {
  const env = (key: keyof RedisConfig): string => envName(appName, prefix, key);
  const problems: { env: string; message: string }[] = [];
  for (const key of ['connectTimeout', 'commandTimeout'] as const) {
    if (config[key] < 1) problems.push({ env: env(key), message: `${env(key)} must be at least 1 ms (got ${config[key]})` });
  }

  let target: RedisTarget;
  if (config.url !== undefined) {
    const url = new URL(config.url);
    const path = url.pathname.replace(/^\//, '');
    if (path !== '' && !/^\d+$/.test(path)) {
      problems.push({ env: env('url'), message: `${env('url')} has the path "/${path}"; expected /<db number> or none` });
    }
    target = {
      driver: 'redis',
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : 6379,
      username: url.username ? decodeURIComponent(url.username) : config.username || undefined,
      password: url.password ? decodeURIComponent(url.password) : config.password || undefined,
      db: path !== '' && /^\d+$/.test(path) ? Number(path) : config.db,
      tls: url.protocol === 'rediss:' || config.tls,
    };
  } else if (config.host !== undefined) {
    target = {
      driver: 'redis',
      host: config.host,
      port: config.port,
      username: config.username || undefined,
      password: config.password || undefined,
      db: config.db,
      tls: config.tls,
    };
  } else {
    target = { driver: 'memory', maxEntries: config.memoryMaxEntries };
  }

  if (problems.length > 0) throw new ConfigError(appName, problems);
  return target;
}

/** `127.0.0.1:6379 db 2` — for errors and logs; never includes credentials. */
export function describeTarget(target: ServerTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port} db ${target.db}${target.tls ? ' (TLS)' : ''}`;
}
