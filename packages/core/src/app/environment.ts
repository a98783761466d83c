import type { EnvSource } from '../config/load-settings.js';

export interface AppEnvironment {
  readonly production: boolean;
  readonly environment: string;
}

/**
 * Production is `NODE_ENV=production`, a Kubernetes pod (`KUBERNETES_SERVICE_HOST`), or
 * `{APP}_ENV=production`; the environment's name is `{APP}_ENV` when set.
 */
export function detectEnvironment(env: EnvSource, envPrefix: string): AppEnvironment {
  const named = env[`${envPrefix}_ENV`] || undefined;
  const production = env['NODE_ENV'] === 'production' || env['KUBERNETES_SERVICE_HOST'] !== undefined || named === 'production';
  return { production, environment: named ?? (production ? 'production' : 'development') };
}
