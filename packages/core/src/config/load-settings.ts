import convict from 'convict';
import { closest } from 'fastest-levenshtein';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { REDACTED } from './describe-config.js';
import { envName, isKubernetesServiceLink } from './env-names.js';
import type { SettingsGroup } from './settings-group.js';

export type EnvSource = Readonly<Record<string, string | undefined>>;
export type ResolvedSettings = ReadonlyMap<string, Readonly<Record<string, unknown>>>;

/**
 * Resolves every group from defaults, code overrides and env, and validates all of it at
 * once. convict maps env vars onto the schema; plinth parses each value strictly, because
 * convict's own coercion accepts `"54x"` as 54. Throws one ConfigError naming every bad var.
 */
export function loadSettings(
  appName: string,
  appEnvPrefix: string,
  groups: readonly SettingsGroup[],
  env: EnvSource,
): ResolvedSettings {
  const schema: Record<string, Record<string, convict.SchemaObj>> = {};
  for (const group of groups) {
    schema[group.id] = Object.fromEntries(
      Object.entries(group.schema).map(([key, spec]) => [
        key,
        {
          doc: spec.doc,
          format: '*',
          default: group.overrides?.[key] ?? spec.default ?? null,
          env: envName(group.envPrefix, key),
          sensitive: spec.sensitive,
        },
      ]),
    );
  }
  // convict's path types recurse through the schema; plinth reads by dynamic path.
  const loaded = convict(schema as convict.Schema<unknown>, { env: env as NodeJS.ProcessEnv, args: [] }) as unknown as {
    get(path: string): unknown;
  };

  const problems: ConfigProblem[] = [];
  const resolved = new Map<string, Record<string, unknown>>();
  const known = new Set<string>();
  for (const group of groups) {
    const values: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(group.schema)) {
      const name = envName(group.envPrefix, key);
      known.add(name);
      // An empty env var means "not set": the default applies (Kubernetes and .env files
      // often define a variable with no value). An empty default is a value like any other.
      const setByEnv = env[name] !== undefined && env[name] !== '';
      const raw = setByEnv ? loaded.get(`${group.id}.${key}`) : (group.overrides?.[key] ?? spec.default);
      if (raw === null || raw === undefined) {
        if (spec.required) problems.push({ env: name, message: `${name} is required: ${spec.doc} (${spec.format.expected})` });
        values[key] = undefined;
        continue;
      }
      try {
        values[key] = spec.format.parse(raw);
      } catch (error) {
        const shown = spec.sensitive ? REDACTED : JSON.stringify(String(raw));
        const fromEnv = env[name] !== undefined;
        const reason = error instanceof Error ? error.message : String(error);
        problems.push({
          env: name,
          message: `${name}=${shown} is invalid: ${reason}${fromEnv ? '' : ' (the default given in code)'}`,
        });
      }
    }
    resolved.set(group.id, values);
  }

  problems.push(...unknownVariables(appEnvPrefix, known, env));
  if (problems.length > 0) throw new ConfigError(appName, problems);
  return resolved;
}

/**
 * A misspelt name would otherwise be ignored silently, and the app would run on a default
 * (for a database host: the embedded database). So unknown `{APP}_*` names are errors.
 */
function unknownVariables(appEnvPrefix: string, known: ReadonlySet<string>, env: EnvSource): ConfigProblem[] {
  const candidates = [...known];
  return Object.keys(env)
    .filter((name) => name.startsWith(`${appEnvPrefix}_`) && !known.has(name))
    .filter((name) => !isKubernetesServiceLink(appEnvPrefix, name))
    .sort()
    .map((name) => {
      const suggestion = candidates.length > 0 ? closest(name, candidates) : undefined;
      return {
        env: name,
        message: `${name} is not a setting of this app${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
      };
    });
}
