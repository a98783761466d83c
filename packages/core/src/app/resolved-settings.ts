import { envName } from '../config/env-names.js';
import { loadSettings, type EnvSource } from '../config/load-settings.js';
import type { ConfigOf, SettingsSchema } from '../config/setting.js';
import type { SettingsGroup } from '../config/settings-group.js';
import { ConfigError } from '../errors.js';
import { routePrefix } from '../http/route-handler.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';
import { coreSettings } from './core-settings.js';
import { detectEnvironment, type AppEnvironment } from './environment.js';
import { APP_GROUP, PLUGIN_LIFECYCLE_SCHEMA } from './settings-groups.js';

export type CoreSettings = ConfigOf<typeof coreSettings>;
export type PluginLifecycleValues = ConfigOf<typeof PLUGIN_LIFECYCLE_SCHEMA>;

/** One plugin instance's resolved settings. */
export interface PluginSettings {
  /** The plugin's own settings, as `ctx.config`. */
  readonly own: Readonly<Record<string, unknown>>;
  readonly lifecycle: PluginLifecycleValues;
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
  const { values, embedded, warnings } = load(input);
  const appValues = values.get(APP_GROUP) ?? {};
  const core = pick(coreSettings, appValues);
  assertDistinctPaths(input, core);
  const appGroup = input.groups.find((g) => g.id === APP_GROUP) as SettingsGroup;
  const plugins = new Map<string, PluginSettings>();
  for (const plugin of input.plugins) {
    const group = input.groups.find((g) => g.id === plugin.prefix) as SettingsGroup;
    const resolved = values.get(plugin.prefix) ?? {};
    plugins.set(plugin.prefix, {
      own: Object.freeze(pick(plugin.settings, resolved)),
      lifecycle: pick(PLUGIN_LIFECYCLE_SCHEMA, resolved),
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

function load(input: SettingsInput) {
  const values = loadSettings(input.appName, input.envPrefix, input.groups, input.env);
  // A plugin with an embedded fallback runs it when its server setting is empty.
  const embedded = new Set(
    input.plugins.filter((p) => p.embedded && isEmpty(values.get(p.prefix)?.[p.embedded.serverSetting])).map((p) => p.prefix),
  );
  return { values, embedded: embedded as ReadonlySet<string>, warnings: [] as readonly string[] };
}

/** The values of `schema`'s keys: loadSettings parsed each with its setting's format. */
function pick<S extends SettingsSchema>(schema: S, values: Readonly<Record<string, unknown>>): ConfigOf<S> {
  return Object.fromEntries(Object.keys(schema).map((key) => [key, values[key]])) as ConfigOf<S>;
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

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}
