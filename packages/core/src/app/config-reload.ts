import { isDeepStrictEqual } from 'node:util';
import { REDACTED } from '../config/describe-config.js';
import { envName } from '../config/env-names.js';
import type { SettingsGroup } from '../config/settings-group.js';
import { groupSchema } from '../config/settings-group.js';
import { ConfigError } from '../errors.js';
import type { OnSettingsChange } from '../lifecycle/hooks.js';
import { messageOf } from '../message-of.js';
import type { AppRuntime } from './runtime.js';
import type { PluginSettings, ResolvedAppSettings } from './resolved-settings.js';
import { APP_GROUP } from './settings-groups.js';

/** What one reload did. */
export interface ReloadReport {
  readonly outcome: 'applied' | 'unchanged' | 'rejected';
  /** Env vars whose new value now applies. */
  readonly applied: readonly string[];
  /** Env vars that changed but are not reloadable: they apply after a restart. */
  readonly needsRestart: readonly string[];
  /** Why the new config was refused (nothing changed then). */
  readonly error?: string;
}

/** One setting whose value differs between the running config and the new one. */
interface Change {
  readonly group: SettingsGroup;
  readonly key: string;
  readonly env: string;
  readonly reloadable: boolean;
  readonly sensitive: boolean;
  readonly from: unknown;
  readonly to: unknown;
}

export interface ReloadInput {
  readonly runtime: AppRuntime;
  readonly groups: readonly SettingsGroup[];
  /** Loads the whole config anew (throws ConfigError). */
  readonly load: () => ResolvedAppSettings;
  /** Counts each reload's outcome (the `plinth_config_reloads_total` metric). */
  readonly countOutcome: (outcome: ReloadReport['outcome']) => void;
}

/**
 * Reloads settings into a running app: validates the whole new config first (any problem:
 * nothing changes, and the error names every bad variable), then applies the changed
 * reloadable settings (the log level; plugins' settings through `onSettingsChange`), and
 * reports changed settings that are not reloadable as needing a restart.
 */
export class ConfigReloader {
  readonly #input: ReloadInput;
  #running: ResolvedAppSettings;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(input: ReloadInput) {
    this.#input = input;
    this.#running = input.runtime.settings;
  }

  /** One reload at a time: a second waits for the first. */
  reload(): Promise<ReloadReport> {
    const next = this.#queue.then(() => this.#reload());
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #reload(): Promise<ReloadReport> {
    const { logger } = this.#input.runtime;
    let next: ResolvedAppSettings;
    try {
      next = this.#input.load();
    } catch (error) {
      const reason = ConfigError.is(error) ? error.message : messageOf(error);
      logger.error({ problems: ConfigError.is(error) ? error.problems.map((p) => p.env) : undefined }, `config reload refused, nothing changed: ${reason}`);
      return this.#count({ outcome: 'rejected', applied: [], needsRestart: [], error: reason });
    }
    const changes = this.#changes(next);
    const applied = changes.filter((c) => c.reloadable);
    const needsRestart = changes.filter((c) => !c.reloadable).map((c) => c.env);
    for (const env of needsRestart) logger.warn({ setting: env }, `${env} changed, but it is not reloadable: it applies after a restart`);
    if (applied.length === 0) {
      logger.info({ needsRestart }, 'config reloaded: no reloadable setting changed');
      return this.#count({ outcome: 'unchanged', applied: [], needsRestart });
    }
    await this.#apply(applied);
    logger.info({ changed: applied.map(shown), needsRestart }, `config reloaded: ${applied.map((c) => c.env).join(', ')} changed`);
    return this.#count({ outcome: 'applied', applied: applied.map((c) => c.env), needsRestart });
  }

  #count(report: ReloadReport): ReloadReport {
    this.#input.countOutcome(report.outcome);
    return report;
  }

  #changes(next: ResolvedAppSettings): Change[] {
    const changes: Change[] = [];
    for (const group of this.#input.groups) {
      const before = valuesOf(this.#running, group.id);
      const after = valuesOf(next, group.id);
      for (const [key, spec] of Object.entries(groupSchema(group))) {
        if (isDeepStrictEqual(before[key], after[key])) continue;
        changes.push({ group, key, env: envName(group.envPrefix, key), reloadable: spec.reloadable === true, sensitive: spec.sensitive, from: before[key], to: after[key] });
      }
    }
    return changes;
  }

  /** Applies the reloadable changes and records them as the running config. */
  async #apply(changes: readonly Change[]): Promise<void> {
    const { runtime } = this.#input;
    const running = this.#running;
    const core = { ...running.core };
    const plugins = new Map(running.plugins);
    for (const change of changes) {
      if (change.group.id === APP_GROUP) {
        if (change.key === 'logLevel') runtime.logger.level = change.to as string;
        Object.assign(core, { [change.key]: change.to });
        continue;
      }
      const plugin = plugins.get(change.group.id) as PluginSettings;
      plugins.set(change.group.id, { ...plugin, own: Object.freeze({ ...plugin.own, [change.key]: change.to }) });
    }
    for (const [prefix, settings] of plugins) {
      const previous = running.plugins.get(prefix) as PluginSettings;
      if (settings === previous) continue;
      const instance = runtime.plugins.get(prefix) as Partial<OnSettingsChange>;
      try {
        await instance.onSettingsChange?.(settings.own, previous.own);
      } catch (error) {
        runtime.logger.error({ err: error, plugin: prefix }, `plugin ${prefix} failed to apply its new settings: ${messageOf(error)}`);
      }
    }
    this.#running = { ...running, core, plugins };
  }
}

/** A group's values as the settings hold them (a plugin's own and lifecycle settings, and ENABLED). */
function valuesOf(settings: ResolvedAppSettings, groupId: string): Readonly<Record<string, unknown>> {
  if (groupId === APP_GROUP) return { ...settings.core, ...settings.app };
  const plugin = settings.plugins.get(groupId);
  return plugin ? { ...plugin.own, ...plugin.lifecycle, enabled: plugin.enabled, embedded: plugin.embedded } : {};
}

function shown(change: Change): { setting: string; from: unknown; to: unknown } {
  return change.sensitive ? { setting: change.env, from: REDACTED, to: REDACTED } : { setting: change.env, from: change.from, to: change.to };
}
