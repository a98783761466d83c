import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError } from '../errors.js';
import { messageOf } from '../message-of.js';
import { envName } from './env-names.js';
import type { EnvSource } from './load-settings.js';

/**
 * The env the app reads: `base` (the process env), overridden by the variables of the
 * `.env` file `{APP}_ENV_FILE` names. Read at start and again on every reload, it is what
 * an operator edits to change a running app: the process env cannot change from outside.
 */
export function withEnvFile(appName: string, appEnvPrefix: string, base: EnvSource): EnvSource {
  const variable = envName(appEnvPrefix, 'envFile');
  const file = base[variable];
  if (file === undefined || file === '') return base;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(appName, [{ env: variable, message: `${variable}=${JSON.stringify(file)} cannot be read: ${messageOf(error)}` }]);
  }
  return { ...base, ...parseEnv(text) };
}
