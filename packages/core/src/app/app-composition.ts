import type { SettingsSchema } from '../config/setting.js';
import type { SettingsGroup } from '../config/settings-group.js';
import type { EnvSource } from '../config/load-settings.js';
import { buildComponentGraph, type ComponentNode } from '../container/component-graph.js';
import { ConfigError } from '../errors.js';
import type { PluginDeclaration } from '../plugin/define-plugin.js';
import { APP, APP_SETTINGS, LOGGER } from '../tokens.js';
import type { AppOptions } from './app-options.js';
import { loadDeployedPlugins, namesModules } from './deployed-plugins.js';
import { buildSettingsGroups } from './settings-groups.js';

/**
 * What an app is made of: its component graph and settings groups. Built from the declared
 * plugins at once (so declaration mistakes throw before any I/O), then once more by `load()`
 * with what the deployment chose: implementations loaded by name and handler modules.
 */
export class AppComposition {
  graph: readonly ComponentNode[];
  groups: readonly SettingsGroup[];
  readonly #options: AppOptions<SettingsSchema>;
  readonly #envPrefix: string;
  #loaded: Promise<void> | undefined;

  constructor(options: AppOptions<SettingsSchema>, envPrefix: string) {
    this.#options = options;
    this.#envPrefix = envPrefix;
    [this.graph, this.groups] = this.#build(options.plugins ?? []);
  }

  /**
   * Imports the modules the env names (once); rejects with one ConfigError naming every bad
   * variable. With none named it returns nothing: start() then builds the runtime without
   * a turn of the event loop, as it always did.
   */
  load(env: EnvSource): Promise<void> | undefined {
    if (!this.#loaded && !namesModules(env, this.#envPrefix, this.#options.plugins ?? [])) return undefined;
    this.#loaded ??= this.#load(env);
    return this.#loaded;
  }

  async #load(env: EnvSource): Promise<void> {
    const { plugins, problems } = await loadDeployedPlugins({
      appEnvPrefix: this.#envPrefix,
      declared: this.#options.plugins ?? [],
      env,
      baseDir: process.cwd(),
    });
    if (problems.length > 0) throw new ConfigError(this.#options.name, problems);
    [this.graph, this.groups] = this.#build(plugins);
  }

  #build(plugins: readonly PluginDeclaration[]): [ComponentNode[], SettingsGroup[]] {
    const { services, overrides, settings } = this.#options;
    const graph = buildComponentGraph(plugins, services ?? [], [APP, APP_SETTINGS, LOGGER], overrides);
    return [graph, buildSettingsGroups(this.#envPrefix, settings ?? {}, graph)];
  }
}
