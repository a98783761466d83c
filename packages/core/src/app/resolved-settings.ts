import { envName } from '../config/env-names.js';
import { loadSettings, type EnvSource } from '../config/load-settings.js';
import type { SettingsOf, SettingsSchema } from '../config/setting.js';
import type { SettingsGroup } from '../config/settings-group.js';
import { ConfigError } from '../errors.js';
import { routePrefix } from '../http/route-handler.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';
import { coreSettings } from './core-settings.js';
import { detectEnvironment, type AppEnvironment } from './environment.js';
import { APP_GROUP, PLUGIN_LIFECYCLE_SCHEMA } from './settings-groups.js';

export type CoreSettings = SettingsOf<typeof coreSettings>;
export type PluginLifecycleValues = SettingsOf<typeof PLUGIN_LIFECYCLE_SCHEMA>;

/** One plugin instance's resolved settings. */
export interface PluginSettings {
  /** The plugin's own settings, as `ctx.settings` (defaults only, env unread, when it is turned off). */
  readonly own: Readonly<Record<string, unknown>>;
  readonly lifecycle: PluginLifecycleValues;
  /** False for an optional plugin turned off with `{PREFIX}_ENABLED=false`: it runs its no-op implementation. */
  readonly enabled: boolean;
  /** It runs its embedded fallback. */
  readonly embedded: boolean;
  /** Values of its sensitive settings. */
  readonly secrets: readonly string[];
}

/** Every setting of an app, resolved and typed. */
export interface ResolvedAppSettings {
  readonly core: CoreSettings;
  /** The app's own settings (`createApp({ settings })`). */
  readonly app: Readonly<Record<string, unknown>>;
  readonly appSecrets: readonly string[];
  readonly plugins: ReadonlyMap<string, PluginSettings>;
  /** Things worth a warning line at startup. */
  readonly warnings: readonly string[];
  readonly environment: AppEnvironment;
}

export interface SettingsInput {
  readonly appName: string;
  readonly envPrefix: string;
  readonly groups: readonly SettingsGroup[];
  readonly appSchema: SettingsSchema;
  readonly plugins: readonly PluginDeclaration[];
  readonly env: EnvSource;
}

/** Loads every group (one ConfigError for every bad variable) and splits the values by owner. */
export function resolveAppSettings(input: SettingsInput): ResolvedAppSettings {
  const environment = detectEnvironment(input.env, input.envPrefix);
  const { values, embedded, warnings } = load(input, environment.production);
  const appValues = values.get(APP_GROUP) ?? {};
  const core = pick(coreSettings, appValues);
  assertDistinctPaths(input, core);
  const appGroup = input.groups.find((g) => g.id === APP_GROUP) as SettingsGroup;
  const plugins = new Map<string, PluginSettings>();
  for (const plugin of input.plugins) {
    const group = input.groups.find((g) => g.id === plugin.prefix) as SettingsGroup;
    const resolved = values.get(plugin.prefix) ?? {};
    const enabled = resolved['enabled'] !== false;
    plugins.set(plugin.prefix, {
      own: Object.freeze(pick(plugin.settings, enabled ? resolved : defaultsOf(group))),
      lifecycle: pick(PLUGIN_LIFECYCLE_SCHEMA, enabled ? resolved : defaultsOf(group)),
      enabled,
      embedded: embedded.has(plugin.prefix),
      secrets: secretsOf(group, resolved),
    });
  }
  return {
    core,
    app: Object.freeze(pick(input.appSchema, appValues)),
    appSecrets: secretsOf(appGroup, appValues),
    plugins,
    warnings,
    environment,
  };
}

/** Every sensitive value the app knows: what the app-wide redactor hides. */
export function allSecrets(settings: ResolvedAppSettings): string[] {
  return [...settings.appSecrets, ...[...settings.plugins.values()].flatMap((p) => p.secrets)];
}

function load(input: SettingsInput, production: boolean) {
  return loadSettings({ appName: input.appName, appEnvPrefix: input.envPrefix, groups: input.groups, env: input.env, production });
}

/** The values of `schema`'s keys: loadSettings parsed each with its setting's format. */
function pick<S extends SettingsSchema>(schema: S, values: Readonly<Record<string, unknown>>): SettingsOf<S> {
  const picked: Record<string, unknown> = {};
  for (const key in schema) if (Object.hasOwn(schema, key)) picked[key] = values[key];
  return picked as SettingsOf<S>;
}

/** The values a group has when nothing is read: its code overrides, else its defaults. */
function defaultsOf(group: SettingsGroup): Record<string, unknown> {
  return Object.fromEntries(Object.entries(group.schema).map(([key, spec]) => [key, group.overrides?.[key] ?? spec.default]));
}

function secretsOf(group: SettingsGroup, values: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(values)
    .filter(([key, value]) => typeof value === 'string' && value !== '' && group.schema[key]?.sensitive)
    .map(([, value]) => value as string);
}

/** The probes and `/metrics` must not answer each other's paths. */
function assertDistinctPaths(input: SettingsInput, core: CoreSettings): void {
  if (!core.metricsPath) return;
  const health = routePrefix(core.healthPath);
  const metrics = routePrefix(core.metricsPath) || '/';
  const probes = [health || '/', `${health}/live`, `${health}/ready`, `${health}/startup`];
  if (!probes.includes(metrics)) return;
  const healthVar = envName(input.envPrefix, 'healthPath');
  const metricsVar = envName(input.envPrefix, 'metricsPath');
  throw new ConfigError(input.appName, [
    {
      env: healthVar,
      message: `${healthVar}=${JSON.stringify(core.healthPath)} and ${metricsVar}=${JSON.stringify(core.metricsPath)} overlap: the probes (${probes.join(', ')}) and the metrics endpoint need paths of their own`,
    },
  ]);
}
