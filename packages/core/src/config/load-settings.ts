import { ConfigError, type ConfigProblem } from '../errors.js';
import { messageOf } from '../message-of.js';
import { REDACTED } from './describe-config.js';
import { decideEmbedded, serverSettingsOf } from './embedded.js';
import { envName } from './env-names.js';
import { groupSchema, type SettingsGroup } from './settings-group.js';
import { ALLOW_ENV_KEY, allowEnvSetting, unknownVariables } from './unknown-variables.js';

export type EnvSource = Readonly<Record<string, string | undefined>>;
export type ResolvedSettings = ReadonlyMap<string, Readonly<Record<string, unknown>>>;

export interface LoadSettingsInput {
  readonly appName: string;
  /** `USER_SERVICE`: unknown variables are looked for under it. */
  readonly appEnvPrefix: string;
  readonly groups: readonly SettingsGroup[];
  readonly env: EnvSource;
  /** Whether a missing server is an error rather than the embedded fallback (see `isProduction`). */
  readonly production: boolean;
}

export interface LoadedSettings {
  /** Resolved values of each group, by group id. */
  readonly values: ResolvedSettings;
  /** Ids of the groups that run their embedded fallback. */
  readonly embedded: ReadonlySet<string>;
  /** Worth a log line, not a refusal: unknown variables that look like no setting. */
  readonly warnings: readonly string[];
}

/**
 * Resolves every group from defaults, code overrides and env, validates all of it, and
 * decides which groups run embedded. Each setting reads its own env variable, and its
 * format parses the text strictly (no loose coercion: `"54x"` is not 54). Every problem
 * (bad values, cross-setting checks, missing servers, likely typos) is in one ConfigError.
 */
export function loadSettings(input: LoadSettingsInput): LoadedSettings {
  const { appName, appEnvPrefix, groups, env, production } = input;
  const schemas = new Map(groups.map((group) => [group.id, groupSchema(group)]));

  const problems: ConfigProblem[] = [];
  const resolved = new Map<string, Record<string, unknown>>();
  const embedded = new Set<string>();
  const known = new Set<string>();
  for (const group of groups) {
    if (group.optional && turnedOff(group, env)) {
      // Nothing of a plugin turned off is read: its variables are known, never checked.
      for (const key of Object.keys(schemas.get(group.id) ?? {})) known.add(envName(group.envPrefix, key));
      resolved.set(group.id, { enabled: false });
      continue;
    }
    const values: Record<string, unknown> = {};
    const failed = new Set<string>();
    for (const [key, spec] of Object.entries(schemas.get(group.id) ?? {})) {
      const name = envName(group.envPrefix, key);
      known.add(name);
      // An empty env var means "not set": the default applies (Kubernetes and .env files
      // often define a variable with no value). An empty default is a value like any other.
      const setByEnv = env[name] !== undefined && env[name] !== '';
      const raw = setByEnv ? env[name] : (group.overrides?.[key] ?? spec.default);
      if (raw === null || raw === undefined) {
        if (spec.required) {
          failed.add(key);
          problems.push({ env: name, message: `${name} is required: ${spec.doc} (${spec.format.expected})` });
        }
        values[key] = undefined;
        continue;
      }
      try {
        values[key] = spec.format.parse(raw);
      } catch (error) {
        failed.add(key);
        const shown = spec.sensitive ? REDACTED : JSON.stringify(String(raw));
        const fromEnv = env[name] !== undefined;
        const reason = messageOf(error);
        problems.push({
          env: name,
          message: `${name}=${shown} is invalid: ${reason}${fromEnv ? '' : ' (the default given in code)'}`,
        });
      }
    }
    resolved.set(group.id, values);
    // Checks across settings only make sense once every value they read parsed.
    if (failed.size === 0) {
      for (const problem of group.validate?.(values) ?? []) {
        const name = envName(group.envPrefix, problem.setting);
        problems.push({ env: name, message: `${name} ${problem.message}` });
      }
    }
    if (group.embedded && ![...serverSettingsOf(group.embedded), 'embedded'].some((key) => failed.has(key))) {
      const decision = decideEmbedded(group.envPrefix, group.embedded, values, production);
      if (decision.problem) problems.push(decision.problem);
      if (decision.embedded) embedded.add(group.id);
    }
  }

  const allowed = allowList(env[envName(appEnvPrefix, ALLOW_ENV_KEY)]);
  const unknown = unknownVariables(appEnvPrefix, known, env, allowed);
  problems.push(...unknown.errors);
  if (problems.length > 0) throw new ConfigError(appName, problems);
  return { values: resolved, embedded, warnings: unknown.warnings };
}

/** `{PREFIX}_ENABLED` (or its default) says false; a malformed value is left to the setting's own check. */
function turnedOff(group: SettingsGroup, env: EnvSource): boolean {
  const spec = group.schema['enabled'];
  const raw = env[envName(group.envPrefix, 'enabled')];
  if (raw === undefined || raw === '') return spec?.default === false;
  try {
    return spec?.format.parse(raw) === false;
  } catch {
    return false;
  }
}

/** The allow list as given; a malformed one is reported as its setting's own problem. */
function allowList(raw: string | undefined): readonly string[] {
  if (!raw) return [];
  try {
    return allowEnvSetting.format.parse(raw);
  } catch {
    return [];
  }
}
