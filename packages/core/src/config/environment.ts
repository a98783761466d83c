import { envName } from './env-names.js';
import type { EnvSource } from './load-settings.js';

/**
 * Whether the process runs in production, where a plugin without a server is a mistake
 * unless asked for: `NODE_ENV=production`, a Kubernetes pod (`KUBERNETES_SERVICE_HOST`
 * is set in every container), or `{APP}_ENV=production`.
 */
export function isProduction(env: EnvSource, appEnvPrefix: string): boolean {
  return (
    env['NODE_ENV'] === 'production' ||
    Boolean(env['KUBERNETES_SERVICE_HOST']) ||
    env[envName(appEnvPrefix, 'env')] === 'production'
  );
}

/** The name of the environment: `{APP}_ENV` when set, else `production` or `development`. */
export function environmentName(env: EnvSource, appEnvPrefix: string): string {
  const named = env[envName(appEnvPrefix, 'env')];
  if (named) return named;
  return isProduction(env, appEnvPrefix) ? 'production' : 'development';
}
