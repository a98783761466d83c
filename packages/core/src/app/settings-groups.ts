import { envName } from '../config/env-names.js';
import type { SettingsSchema } from '../config/setting.js';
import type { SettingsGroup } from '../config/settings-group.js';
import type { ComponentNode } from '../container/component-graph.js';
import { GraphValidationError } from '../errors.js';
import { DEFAULT_TIMEOUTS } from '../lifecycle/component.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';
import { coreSettings, enabledSetting, pluginLifecycleSettings } from './core-settings.js';

/** Every plugin's lifecycle settings (the values are placeholders: only the keys and types count). */
export const PLUGIN_LIFECYCLE_SCHEMA = pluginLifecycleSettings({ critical: true, startTimeout: 0, onStartTimeout: 0, stopTimeout: 0, healthTimeout: 0 });

/** Keys core adds to a plugin's settings, which its own settings must not use. */
const RESERVED_KEYS = new Set([...Object.keys(PLUGIN_LIFECYCLE_SCHEMA), 'embedded', 'enabled']);

/** The id of the app's own group (core settings and the app's settings). */
export const APP_GROUP = 'app';

export function assertAppName(name: string): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new GraphValidationError('INVALID_PREFIX', `App name "${name}" is invalid: use lower kebab case such as "user-service"`);
  }
}

/**
 * The settings groups of an app: the core and app settings under `{APP}_`, then each
 * plugin's own and lifecycle settings under `{APP}_{PREFIX}_`. Throws when two settings
 * would read the same env var.
 */
export function buildSettingsGroups(envPrefix: string, appSettings: SettingsSchema, graph: readonly ComponentNode[]): SettingsGroup[] {
  for (const key of Object.keys(appSettings)) {
    if (Object.hasOwn(coreSettings, key)) {
      throw new GraphValidationError('ENV_NAME_CLASH', `App setting "${key}" clashes with the built-in ${envName(envPrefix, key)}`);
    }
  }
  const groups: SettingsGroup[] = [{ id: APP_GROUP, envPrefix, owner: 'app', schema: { ...coreSettings, ...appSettings } }];
  for (const node of graph) if (node.kind === 'plugin') groups.push(pluginGroup(envPrefix, node.plugin));
  assertUniqueEnvNames(groups);
  return groups;
}

function pluginGroup(envPrefix: string, plugin: PluginDeclaration): SettingsGroup {
  const clash = Object.keys(plugin.settings).find((k) => RESERVED_KEYS.has(k));
  if (clash) throw new GraphValidationError('ENV_NAME_CLASH', `${plugin.type} plugin defines setting "${clash}", which every plugin has already`);
  const { common } = plugin;
  const lifecycle = pluginLifecycleSettings({
    critical: common.critical ?? plugin.defaultCritical,
    startTimeout: common.startTimeout ?? DEFAULT_TIMEOUTS.preStart,
    onStartTimeout: common.onStartTimeout ?? DEFAULT_TIMEOUTS.onStart,
    stopTimeout: common.stopTimeout ?? DEFAULT_TIMEOUTS.onStop,
    healthTimeout: common.healthTimeout ?? DEFAULT_TIMEOUTS.health,
  });
  return {
    id: plugin.prefix,
    envPrefix: envName(envPrefix, plugin.prefix),
    owner: `${plugin.type} ${plugin.prefix}`,
    schema: { ...plugin.settings, ...lifecycle, ...(common.optional ? { enabled: enabledSetting(common.enabled ?? true) } : {}) },
    ...(common.optional ? { optional: true } : {}),
    ...(common.settings ? { overrides: common.settings as Record<string, unknown> } : {}),
    ...(plugin.embedded ? { embedded: plugin.embedded } : {}),
    ...(plugin.validateSettings ? { validate: plugin.validateSettings } : {}),
  };
}

function assertUniqueEnvNames(groups: readonly SettingsGroup[]): void {
  const seen = new Map<string, string>();
  for (const group of groups) {
    for (const key of Object.keys(group.schema)) {
      const name = envName(group.envPrefix, key);
      const other = seen.get(name);
      if (other) throw new GraphValidationError('ENV_NAME_CLASH', `${name} would be read by both ${other} and ${group.owner}; rename one`);
      seen.set(name, group.owner);
    }
  }
}
