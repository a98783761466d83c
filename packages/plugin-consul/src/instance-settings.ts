import { randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { ConfigError, envName, type HttpAddress, type SettingsOf } from '@plinth/core';
import type { consulSettings } from './settings.js';
import { parseStaticInstances } from './embedded-registry.js';
import type { ServiceInstance } from './instance.js';

export type ConsulSettings = SettingsOf<typeof consulSettings>;

/** What this instance registers, from its settings: checked once, before any I/O. */
export interface InstanceSettings {
  readonly name: string;
  readonly id: string;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly staticInstances: readonly ServiceInstance[];
}

/** Throws ConfigError (exit 78) naming every malformed value. */
export function instanceSettings(settings: ConsulSettings, appName: string, prefix: string): InstanceSettings {
  const problems: { env: string; message: string }[] = [];
  const env = (key: keyof ConsulSettings): string => envName(appName, prefix, key);
  const meta: Record<string, string> = {};
  for (const pair of listOf(settings.meta)) {
    const at = pair.indexOf('=');
    if (at <= 0) problems.push({ env: env('meta'), message: `${env('meta')}: "${pair}" is not key=value` });
    else meta[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  const staticInstances = parseStaticInstances(settings.static);
  if (typeof staticInstances === 'string') problems.push({ env: env('static'), message: `${env('static')}: ${staticInstances}` });
  for (const key of ['checkInterval', 'deregisterTimeout', 'requestTimeout', 'watchWait'] as const) {
    if (settings[key] < 1) problems.push({ env: env(key), message: `${env(key)} must be at least 1 ms (got ${settings[key]})` });
  }
  if (problems.length > 0) throw new ConfigError(appName, problems);
  const name = settings.serviceName ?? appName;
  return {
    name,
    // Unique per process and stable for its life: a restarted pod is a new instance.
    id: settings.serviceId ?? `${name}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    tags: listOf(settings.tags),
    meta,
    staticInstances: typeof staticInstances === 'string' ? [] : staticInstances,
  };
}

function listOf(text: string | undefined): string[] {
  return (text ?? '').split(',').map((part) => part.trim()).filter(Boolean);
}

const UNSPECIFIED = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * The address other services should dial: ADDRESS, else the pod IP (`POD_IP`, set from
 * the Downward API), else the host the HTTP server listens on, unless that is a wildcard,
 * in which case the first external IPv4 interface (loopback when there is none).
 */
export function advertisedAddress(configured: string | undefined, listening: HttpAddress, env: NodeJS.ProcessEnv = process.env): string {
  if (configured !== undefined) return configured;
  const podIp = env['POD_IP']?.trim();
  if (podIp) return podIp;
  if (!UNSPECIFIED.has(listening.host)) return listening.host;
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (external !== undefined) return external.address;
  }
  return '127.0.0.1';
}
